#!/usr/bin/env python3
"""Reference LAMBADA scores for Tests/RWKVTests/Eval/LambadaTests.swift, from pip `rwkv` 0.8.32 (cpu fp32).

Scores N documents of ../shared/data/lambada_test.jsonl with the lm-eval `lambada_openai` convention
(context = text up to the last space, target = " " + last word, no BOS, every target token must be the
argmax) on the trained tiny byte-vocabulary RWKV-7 of ../shared/data/rwkv-cpp-tiny, and writes
Tests/Fixtures/eval/lambada-tiny-rwkv-7v0.json:
the line numbers of the documents (the texts are not copied), each document's summed target
log-probability, target length, how many target tokens were the argmax and
the greedy flag, plus accuracy and perplexity (exp(-mean logprob)).

The N documents are the first N lines whose text is at most --max-chars (220) characters, so the Swift test
(a debug build) stays fast.

    python3 -m venv /tmp/rwkv-ref
    /tmp/rwkv-ref/bin/pip install torch numpy rwkv==0.8.32
    /tmp/rwkv-ref/bin/python scripts/make_lambada_fixture.py      # from the repository root
"""

import argparse
import json
import math
import os
from pathlib import Path

os.environ["RWKV_V7_ON"] = "1"   # pip picks its RWKV-7 class at import time

import torch  # noqa: E402
from rwkv.model import RWKV  # noqa: E402

MODEL = "rwkv-cpp-tiny/tiny-rwkv-7v0-834K.pth"   # under ../shared/data (not copied into the repo)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--data", default=None, help="lambada_test.jsonl (default: <repo>/../shared/data/)")
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--max-chars", type=int, default=220)
    args = ap.parse_args()
    repo = Path(args.repo)
    data = Path(args.data) if args.data else repo.parent / "shared" / "data" / "lambada_test.jsonl"
    shared = data.parent
    model = RWKV(model=str(shared / MODEL)[: -len(".pth")], strategy="cpu fp32")

    items = []
    for n, line in enumerate(data.read_text(encoding="utf-8").split("\n")):
        if len(items) >= args.count:
            break
        if not line.strip():
            continue
        text = json.loads(line)["text"]
        if len(text) > args.max_chars or " " not in text:
            continue
        context, word = text.rsplit(" ", 1)
        # Byte vocabulary: tokenising context + target jointly equals tokenising them apart.
        ctx = list(context.encode("utf-8"))
        tgt = list((" " + word).encode("utf-8"))
        with torch.no_grad():
            out, _ = model.forward(ctx + tgt, None, full_output=True)
        logp = torch.log_softmax(out.float(), dim=-1)
        total, greedy = 0.0, 0
        for i, t in enumerate(tgt):
            row = logp[len(ctx) - 1 + i]
            total += float(row[t])
            greedy += int(torch.argmax(row)) == t
        items.append({"line": n, "logprob": total, "correct": greedy == len(tgt), "greedy_tokens": greedy,
                      "target_tokens": len(tgt)})

    accuracy = sum(i["correct"] for i in items) / len(items)
    perplexity = math.exp(-sum(i["logprob"] for i in items) / len(items))
    out = {"generator": "scripts/make_lambada_fixture.py", "reference": "pip rwkv 0.8.32, cpu fp32", "model": "../shared/data/" + MODEL,
           "convention": "lm-eval lambada_openai: context = text up to the last space, target = ' ' + last word, no BOS",
           "accuracy": accuracy, "perplexity": perplexity, "items": items}
    path = repo / "Tests" / "Fixtures" / "eval" / "lambada-tiny-rwkv-7v0.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(items)} documents: accuracy {accuracy:.4f}, perplexity {perplexity:.4f} -> {path}")


if __name__ == "__main__":
    main()
