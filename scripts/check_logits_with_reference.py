"""Compares swift-rwkv's logits with pip `rwkv` 0.8.32 (cpu fp32) on a checkpoint, e.g. one `rwkv train` wrote.

Usage (venv with torch + rwkv==0.8.32, see make_fixtures.py):
    python scripts/check_logits_with_reference.py MODEL.pth [--rwkv .build/debug/rwkv] [--tokens 1,2,3]

Runs `rwkv logits --all --json` and pip's `model.forward(tokens, None, full_output=True)`; prints the
max |Δ| relative to std(logits) per position and exits 1 if any exceeds 1e-4.
"""
import argparse
import json
import os
import subprocess
import sys

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("--rwkv", default=".build/debug/rwkv")
parser.add_argument("--tokens", default="73,110,32,116,104,101,32,98,101,103,105,110,110,105,110,103")
parser.add_argument("--v5v6", action="store_true", help="the model is RWKV-5.2/6 (default: RWKV-7)")
args = parser.parse_args()
if not args.v5v6:
    os.environ["RWKV_V7_ON"] = "1"
import torch  # noqa: E402
from rwkv.model import RWKV  # noqa: E402

tokens = [int(t) for t in args.tokens.split(",")]
ours = json.loads(subprocess.run([args.rwkv, "logits", "-m", args.model, "--tokens", args.tokens, "--all", "--json"],
                                 check=True, capture_output=True, text=True).stdout)["logits"]
model = RWKV(model=args.model[:-4], strategy="cpu fp32")
ref, _ = model.forward(tokens, None, full_output=True)
worst = 0.0
for t, row in enumerate(ours):
    r = ref[t].float()
    rel = (torch.tensor(row) - r).abs().max().item() / r.std().item()
    worst = max(worst, rel)
print(f"{len(tokens)} positions, worst max|Δ|/std(logits) = {worst:.2e}")
sys.exit(0 if worst <= 1e-4 else 1)
