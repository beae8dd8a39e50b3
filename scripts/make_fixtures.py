#!/usr/bin/env python3
"""Regenerates the committed test fixtures and the random demo model of swift-rwkv.

Everything numeric here comes from the reference implementation, the pip package `rwkv` 0.8.32
(strategy 'cpu fp32'), so the Swift tests compare against the official code, never against our own.
CI never runs this script: its outputs are committed. Re-run it only when a fixture has to change.

Environment (CPU is enough; nothing here needs CUDA):

    python3 -m venv /tmp/venv-ref
    /tmp/venv-ref/bin/pip install torch numpy safetensors rwkv==0.8.32
    /tmp/venv-ref/bin/python scripts/make_fixtures.py            # from the repository root

Options: --repo (default: the parent of scripts/), --shared-data (default: <repo>/../shared/data),
--only {models,tokenizer,books,demo} (repeatable; default: all).

Outputs (paths relative to the repository root):

  Tests/Fixtures/v7/v7-a.pth, v7-b.pth         random RWKV-7 checkpoints, official .pth layout, bf16
  Tests/Fixtures/v7/<name>.reference.safetensors  pip outputs for those two models
  Tests/Fixtures/v7/tiny-rwkv-7v0.reference.safetensors  pip outputs for the trained tiny model in
                                               ../shared/data/rwkv-cpp-tiny (the model is NOT copied)
  Tests/Fixtures/tokenizer/vectors.json        World tokenizer encode/decode vectors (pip TRIE_TOKENIZER)
  Tests/Fixtures/tokenizer/books.safetensors   pip token ids of the first 200,000 bytes of two books
  models/rwkv7-demo-random.pth                 random byte-vocabulary RWKV-7 used by the README demo

Reference safetensors content (all F32 unless said): `tokens` I32 [T]; `logits_step` [T,V] (one token
per forward call, from an empty state); `logits_seq` [T,V] (one call, full_output=True);
`logits_chunk2_last` [V] (tokens[:7] then tokens[7:], state carried); `state_step.{l}.att_x` [C],
`state_step.{l}.wkv` [H,N,N] (pip layout [head][value][key]), `state_step.{l}.ffn_x` [C] and the same
under `state_seq.`; `greedy` I32 [32] (greedy[0] = argmax of the last prompt logits, each next one is the
argmax after feeding the previous one, step mode); `greedy_margin` [32] (top-1 minus top-2 logit at
each greedy choice, so a test can tell how robust the argmax is).
"""

import argparse
import copy
import hashlib
import json
import os
import random
import sys
from pathlib import Path

# pip rwkv only defines the RWKV-7 class when this is set before the import.
os.environ["RWKV_V7_ON"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402

import rwkv  # noqa: E402
from rwkv.model import RWKV  # noqa: E402
from rwkv.rwkv_tokenizer import TRIE_TOKENIZER  # noqa: E402

GENERATOR = "scripts/make_fixtures.py"
RWKV_PIP_VERSION = "0.8.32"
FORMAT_VERSION = "1"
PROMPT_LENGTH = 24
GREEDY_COUNT = 32
CHUNK_SPLIT = 7
BOOK_BYTES = 200_000


# --------------------------------------------------------------------------------------------------
# Random RWKV-7 checkpoints in the official layout
# --------------------------------------------------------------------------------------------------

class ModelShape:
    """Dimensions of a random RWKV-7 model (LoRA widths deliberately unequal)."""

    def __init__(self, name, n_layer, n_embd, head_size, vocab, dw, da, dv, dg, seed):
        assert n_embd % head_size == 0
        self.name, self.n_layer, self.n_embd, self.head_size = name, n_layer, n_embd, head_size
        self.n_head = n_embd // head_size
        self.vocab, self.dw, self.da, self.dv, self.dg, self.seed = vocab, dw, da, dv, dg, seed

    def describe(self):
        return (f"{self.name}: L={self.n_layer} C={self.n_embd} H={self.n_head} N={self.head_size} "
                f"V={self.vocab} Dw={self.dw} Da={self.da} Dv={self.dv} Dg={self.dg} FFN={4 * self.n_embd} "
                f"seed={self.seed}")


V7_A = ModelShape("v7-a", n_layer=2, n_embd=128, head_size=64, vocab=512, dw=32, da=16, dv=24, dg=48, seed=7001)
V7_B = ModelShape("v7-b", n_layer=3, n_embd=128, head_size=32, vocab=512, dw=40, da=24, dv=16, dg=32, seed=7002)
DEMO = ModelShape("rwkv7-demo-random", n_layer=2, n_embd=128, head_size=64, vocab=256,
                  dw=32, da=32, dv=32, dg=64, seed=7100)


def random_v7_state_dict(shape):
    """Builds an official-layout RWKV-7 state dict with values in trained-model-like ranges.

    Ranges are chosen so that the recurrence really runs: decays spread over (0.85, 1), the in-context
    learning rate and value gate around 0.5, unit-scale projections, and logits with std around 1.
    Values are drawn in fp32 and stored as bf16 (what official releases ship).
    """
    gen = torch.Generator().manual_seed(shape.seed)
    C, V, H, N = shape.n_embd, shape.vocab, shape.n_head, shape.head_size

    def normal(*size, std=1.0, mean=0.0):
        return torch.randn(*size, generator=gen) * std + mean

    def uniform(*size, low, high):
        return torch.rand(*size, generator=gen) * (high - low) + low

    def linear(out_features, in_features, gain=1.0):
        return normal(out_features, in_features, std=gain / in_features ** 0.5)

    def near_one(size):
        return uniform(size, low=0.9, high=1.1)

    def mix():
        return uniform(1, 1, C, low=0.05, high=0.95)

    sd = {"emb.weight": normal(V, C)}
    for i in range(shape.n_layer):
        p = f"blocks.{i}."
        if i == 0:
            sd[p + "ln0.weight"] = near_one(C)
            sd[p + "ln0.bias"] = normal(C, std=0.05)
        sd[p + "ln1.weight"] = near_one(C)
        sd[p + "ln1.bias"] = normal(C, std=0.05)
        sd[p + "ln2.weight"] = near_one(C)
        sd[p + "ln2.bias"] = normal(C, std=0.05)
        for m in "rwkvag":
            sd[p + f"att.x_{m}"] = mix()
        sd[p + "att.w0"] = uniform(1, 1, C, low=-6.0, high=-1.0)
        sd[p + "att.w1"] = normal(C, shape.dw, std=C ** -0.5)
        sd[p + "att.w2"] = normal(shape.dw, C, std=0.5 / shape.dw ** 0.5)
        sd[p + "att.a0"] = normal(1, 1, C, std=0.2)
        sd[p + "att.a1"] = normal(C, shape.da, std=C ** -0.5)
        sd[p + "att.a2"] = normal(shape.da, C, std=0.5 / shape.da ** 0.5)
        sd[p + "att.v0"] = normal(1, 1, C, std=0.2)
        sd[p + "att.v1"] = normal(C, shape.dv, std=C ** -0.5)
        sd[p + "att.v2"] = normal(shape.dv, C, std=0.5 / shape.dv ** 0.5)
        sd[p + "att.g1"] = normal(C, shape.dg, std=C ** -0.5)
        sd[p + "att.g2"] = normal(shape.dg, C, std=1.0 / shape.dg ** 0.5)
        sd[p + "att.k_k"] = uniform(1, 1, C, low=0.8, high=1.0)
        sd[p + "att.k_a"] = uniform(1, 1, C, low=0.9, high=1.1)
        sd[p + "att.r_k"] = normal(H, N, std=0.1)
        sd[p + "att.receptance.weight"] = linear(C, C)
        sd[p + "att.key.weight"] = linear(C, C)
        sd[p + "att.value.weight"] = linear(C, C)
        sd[p + "att.output.weight"] = linear(C, C)
        sd[p + "att.ln_x.weight"] = near_one(C)
        sd[p + "att.ln_x.bias"] = normal(C, std=0.05)
        sd[p + "ffn.x_k"] = mix()
        sd[p + "ffn.key.weight"] = linear(4 * C, C)
        sd[p + "ffn.value.weight"] = linear(C, 4 * C)
    sd["ln_out.weight"] = near_one(C)
    sd["ln_out.bias"] = normal(C, std=0.05)
    sd["head.weight"] = linear(V, C)
    # One storage per tensor, so torch.save writes nothing but the tensor's own bytes.
    return {k: v.to(torch.bfloat16).contiguous().clone() for k, v in sd.items()}


def check_official_layout(sd, shape):
    """Asserts the key set and shapes of spec §2.1 (6 + 33·L tensors)."""
    C, H, N, V = shape.n_embd, shape.n_head, shape.head_size, shape.vocab
    assert len(sd) == 6 + 33 * shape.n_layer, len(sd)
    expected = {"emb.weight": (V, C), "ln_out.weight": (C,), "ln_out.bias": (C,), "head.weight": (V, C),
                "blocks.0.ln0.weight": (C,), "blocks.0.ln0.bias": (C,)}
    for i in range(shape.n_layer):
        p = f"blocks.{i}."
        for n in ("ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias", "att.ln_x.weight", "att.ln_x.bias"):
            expected[p + n] = (C,)
        for n in ("x_r", "x_w", "x_k", "x_v", "x_a", "x_g", "w0", "a0", "v0", "k_k", "k_a"):
            expected[p + "att." + n] = (1, 1, C)
        for n, d in (("w", shape.dw), ("a", shape.da), ("v", shape.dv), ("g", shape.dg)):
            expected[p + f"att.{n}1"] = (C, d)
            expected[p + f"att.{n}2"] = (d, C)
        expected[p + "att.r_k"] = (H, N)
        for n in ("receptance", "key", "value", "output"):
            expected[p + f"att.{n}.weight"] = (C, C)
        expected[p + "ffn.x_k"] = (1, 1, C)
        expected[p + "ffn.key.weight"] = (4 * C, C)
        expected[p + "ffn.value.weight"] = (C, 4 * C)
    assert set(sd) == set(expected), set(sd) ^ set(expected)
    for k, s in expected.items():
        assert tuple(sd[k].shape) == s, (k, tuple(sd[k].shape), s)
        assert sd[k].dtype == torch.bfloat16, k


def write_model(shape, path):
    sd = random_v7_state_dict(shape)
    check_official_layout(sd, shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(sd, path)
    print(f"wrote {path} ({path.stat().st_size:,} bytes) {shape.describe()}")


# --------------------------------------------------------------------------------------------------
# Reference outputs from pip rwkv
# --------------------------------------------------------------------------------------------------

def load_reference_model(pth_path):
    """pip's loader appends '.pth' itself."""
    stem = str(pth_path)[: -len(".pth")]
    return RWKV(model=stem, strategy="cpu fp32")


def state_tensors(prefix, state, n_layer):
    out = {}
    for l in range(n_layer):
        out[f"{prefix}.{l}.att_x"] = state[3 * l + 0]
        out[f"{prefix}.{l}.wkv"] = state[3 * l + 1]
        out[f"{prefix}.{l}.ffn_x"] = state[3 * l + 2]
    return {k: v.detach().to(torch.float32).contiguous().numpy().copy() for k, v in out.items()}


def describe_dtypes(logits, state):
    return (f"logits {logits.dtype} {tuple(logits.shape)}; state: att_x {state[0].dtype}, "
            f"wkv {state[1].dtype} {tuple(state[1].shape)}, ffn_x {state[2].dtype}")


def reference_tensors(model, tokens):
    """Runs pip in step, sequence and two-chunk modes plus a greedy continuation."""
    n_layer = model.args.n_layer
    tokens = [int(t) for t in tokens]

    step_logits, state = [], None
    for tok in tokens:
        logits, state = model.forward([tok], state)
        step_logits.append(logits.detach().clone())
    print("  pip step mode:", describe_dtypes(step_logits[-1], state))
    state_step = copy.deepcopy(state)

    seq_logits, seq_state = model.forward(list(tokens), None, full_output=True)
    seq_logits = seq_logits.detach().clone()
    print("  pip seq mode:", describe_dtypes(seq_logits, seq_state))
    state_seq = copy.deepcopy(seq_state)

    _, chunk_state = model.forward(tokens[:CHUNK_SPLIT], None)
    chunk_last, _ = model.forward(tokens[CHUNK_SPLIT:], copy.deepcopy(chunk_state))
    chunk_last = chunk_last.detach().clone()

    step = torch.stack(step_logits)
    diff_seq = (step - seq_logits).abs().max().item()
    diff_chunk = (step[-1] - chunk_last).abs().max().item()
    diff_state = max((a.float() - b.float()).abs().max().item() for a, b in zip(state_step, state_seq))
    print(f"  logits std {step.std().item():.3f}, max|logit| {step.abs().max().item():.3f}")
    print(f"  max |step - seq| logits {diff_seq:.3e}; |step - chunk2| last logits {diff_chunk:.3e}; "
          f"max |state_step - state_seq| {diff_state:.3e}")
    assert torch.isfinite(step).all() and torch.isfinite(seq_logits).all()
    assert 0.3 <= step.std().item() <= 10.0, step.std().item()

    greedy, margins = [], []
    logits, state = step_logits[-1], copy.deepcopy(state_step)
    for i in range(GREEDY_COUNT):
        top2 = torch.topk(logits.float(), 2)
        greedy.append(int(top2.indices[0]))
        margins.append(float(top2.values[0] - top2.values[1]))
        if i + 1 < GREEDY_COUNT:
            logits, state = model.forward([greedy[-1]], state)
    print(f"  greedy {greedy}")
    print(f"  smallest greedy top-1/top-2 margin {min(margins):.3e}")

    tensors = {
        "tokens": np.asarray(tokens, dtype=np.int32),
        "logits_step": step.float().numpy(),
        "logits_seq": seq_logits.float().numpy(),
        "logits_chunk2_last": chunk_last.float().numpy(),
        "greedy": np.asarray(greedy, dtype=np.int32),
        "greedy_margin": np.asarray(margins, dtype=np.float32),
    }
    tensors.update(state_tensors("state_step", state_step, n_layer))
    tensors.update(state_tensors("state_seq", state_seq, n_layer))
    return tensors


def reference_metadata(model, extra):
    meta = {
        "generator": GENERATOR,
        "rwkv": rwkv_version(),
        "torch": torch.__version__,
        "format": FORMAT_VERSION,
        "strategy": "cpu fp32",
        "n_layer": str(model.args.n_layer),
        "n_embd": str(model.args.n_embd),
        "n_head": str(model.n_head),
        "head_size": str(model.head_size),
        "vocab": str(model.args.vocab_size),
        "chunk_split": str(CHUNK_SPLIT),
    }
    meta.update({k: str(v) for k, v in extra.items()})
    return meta


SAFETENSORS_DTYPES = {np.dtype("<f4"): "F32", np.dtype("<i4"): "I32"}


def write_safetensors(path, tensors, metadata):
    """Writes safetensors by hand with sorted keys, so that re-running gives byte-identical files
    (the `safetensors` package orders the header differently from run to run)."""
    header = {"__metadata__": dict(sorted(metadata.items()))}
    blobs, offset = [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        dtype = SAFETENSORS_DTYPES[array.dtype.newbyteorder("<")]
        blob = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(len(encoded).to_bytes(8, "little"))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)
    check_safetensors_file(path, tensors, metadata)
    print(f"wrote {path} ({path.stat().st_size:,} bytes, {len(tensors)} tensors)")


def check_safetensors_file(path, tensors, metadata):
    """Reads the file back with the `safetensors` package and compares every tensor bit for bit."""
    with safe_open(str(path), framework="numpy") as f:
        assert f.metadata() == metadata
        assert set(f.keys()) == set(tensors)
        for name in f.keys():
            back = f.get_tensor(name)
            assert back.dtype == tensors[name].dtype and back.shape == tensors[name].shape, name
            assert back.tobytes() == np.ascontiguousarray(tensors[name]).tobytes(), name


def rwkv_version():
    try:
        from importlib.metadata import version
        return version("rwkv")
    except Exception:
        return "unknown"


def random_prompt(vocab, seed):
    """T ids in [1, V) from a fixed seed, with token 0 placed once."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, vocab, size=PROMPT_LENGTH).tolist()
    tokens[5] = 0
    return tokens


def make_random_model_fixtures(repo):
    out_dir = repo / "Tests/Fixtures/v7"
    for shape in (V7_A, V7_B):
        pth = out_dir / f"{shape.name}.pth"
        write_model(shape, pth)
        model = load_reference_model(pth)
        tokens = random_prompt(shape.vocab, shape.seed + 1)
        print(f"  tokens {tokens}")
        tensors = reference_tensors(model, tokens)
        extra = {"model": f"Tests/Fixtures/v7/{shape.name}.pth", "dw": shape.dw, "da": shape.da,
                 "dv": shape.dv, "dg": shape.dg, "seed": shape.seed}
        write_safetensors(out_dir / f"{shape.name}.reference.safetensors", tensors, reference_metadata(model, extra))


def make_tiny_model_fixture(repo, shared):
    """Reference outputs for the trained rwkv.cpp tiny v7 model, read in place from shared data."""
    pth = shared / "rwkv-cpp-tiny/tiny-rwkv-7v0-834K.pth"
    expected_path = shared / "rwkv-cpp-tiny/expected-logits-7v0-834K.bin"
    model = load_reference_model(pth)
    prompt = "In the beginning"
    tokens = list(prompt.encode("utf-8"))

    check_logits, _ = model.forward([34, 105, 110], None)
    expected = torch.from_numpy(np.fromfile(expected_path, dtype="<f4"))
    assert expected.numel() == 256
    diff = (check_logits.float() - expected).abs().max().item()
    print(f"  tiny model: max |pip - rwkv.cpp expected logits| after '\"in' = {diff:.3e}")
    assert diff < 1e-4, diff

    tensors = reference_tensors(model, tokens)
    sha = hashlib.sha256(pth.read_bytes()).hexdigest()
    extra = {"model": "../shared/data/rwkv-cpp-tiny/tiny-rwkv-7v0-834K.pth", "model_sha256": sha,
             "prompt": prompt, "tokenizer": "bytes (token id = byte value)",
             "expected_logits_check_max_abs_diff": f"{diff:.3e}"}
    write_safetensors(repo / "Tests/Fixtures/v7/tiny-rwkv-7v0.reference.safetensors", tensors,
                      reference_metadata(model, extra))


def make_demo_model(repo):
    path = repo / "models/rwkv7-demo-random.pth"
    write_model(DEMO, path)
    assert path.stat().st_size < 1_500_000
    model = load_reference_model(path)
    logits, _ = model.forward(list(b"Hello"), None)
    assert torch.isfinite(logits).all()
    print(f"  demo model loads in pip; logits std {logits.std().item():.3f}")


# --------------------------------------------------------------------------------------------------
# Tokenizer vectors
# --------------------------------------------------------------------------------------------------

def pip_tokenizer():
    vocab = Path(rwkv.__file__).parent / "rwkv_vocab_v20230424.txt"
    return TRIE_TOKENIZER(str(vocab))


SPEC_VECTORS = [
    ("The Eiffel tower is in the city of", [6699, 304, 25740, 109, 39990, 4600, 4596, 22590, 30449, 4706]),
    ("User: hi\n\nAssistant:", [24281, 59, 4571, 261, 5585, 41693, 59]),
    ("User: simulate SpaceX mars landing using python\n\nAssistant: <think",
     [24281, 59, 57236, 44898, 31377, 52092, 40085, 46966, 261, 5585, 41693, 59, 295, 35762]),
    ("Hello world\n\n", [33155, 40213, 261]),
    ("\n\n\n", [3328]),
    ("中文测试 ÿ 😀", [10285, 13012, 13827, 16707, 33, 2525, 33, 3319, 153, 129]),
    ("\n", [11]),
    ("\n\n", [261]),
    (" ", [33]),
]

CURATED_TEXTS = [
    "",
    "a", "A", "ab", "hello", "Hello", "HELLO", " hello", "hello ", "  hello  ",
    "  ", "   ", "    ", "        ", " " * 33, " \t ", "\t", "\t\t", "\t\tindented", "\n \n", " \n\n ",
    "line1\nline2", "line1\r\nline2\r\n", "\r\n", "\r\n\r\n", "\r", "a\rb",
    "0", "7", "42", "123", "2024", "3.14159", "1,000,000", "-17", "0x1F", "1e-5", "9876543210123456789",
    "!", "?!", "...", "…", "—", "--", "->", "=>", "!==", "(a, b)", "[1, 2, 3]", "{\"key\": \"value\"}",
    "@#$%^&*()_+-=[]{}|;:,.<>/?~`",
    "It's", "don't", "'quoted'", "\"double\"", "She said \"hi\" and 'bye'.", "back\\slash", "C:\\path\\to\\file",
    "\\n is not a newline", "\\\\", "'", "\"", "\\",
    "antidisestablishmentarianism", "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "supercalifragilisticexpialidocious", "internationalization", "Donaudampfschifffahrtsgesellschaft",
    "naïve café résumé", "Ångström", "Ελληνικά", "Русский текст", "עברית", "العربية", "हिन्दी",
    "日本語のテキスト", "한국어", "中文", "混合 mixed 文本 text", "ｆｕｌｌｗｉｄｔｈ",
    "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "emoji 🎉 party", "e\u0301", "\u00e9", "ﬁ ligature",
    "\u200b", "a\u200bb", "\ufeffBOM", "\u00a0nbsp", "\u2028", "\ufffd", "\x00", "a\x00b", "\x7f", "\x1b[0m",
    "User: What is 2+2?\n\nAssistant: 4", "def f(x):\n    return x * 2\n", "<|endoftext|>",
    "https://example.com/path?q=1&r=2", "user@example.com", "#include <stdio.h>",
    "The quick brown fox jumps over the lazy dog.",
]

SMALL_ALPHABET = ["a", "t", " ", "\n", "'", "é", "中", "😀"]


def random_texts(count, seed):
    """Strings mixing ASCII with code points from many blocks (no surrogates, which UTF-8 cannot hold)."""
    rng = random.Random(seed)
    blocks = [(0x20, 0x7E), (0x00, 0x1F), (0xA0, 0x24F), (0x370, 0x52F), (0x590, 0x6FF), (0x900, 0x97F),
              (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF), (0x1F300, 0x1FAFF),
              (0xE000, 0xF8FF), (0x10000, 0x10FFFF)]
    words = ["the", " the", " and", "ing", " of", "tion", "\n", " ", "  ", "1", "23", ".", ","]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(0, 24)):
            roll = rng.random()
            if roll < 0.45:
                parts.append(chr(rng.randint(0x20, 0x7E)))
            elif roll < 0.6:
                parts.append(rng.choice(words))
            else:
                lo, hi = rng.choice(blocks)
                cp = rng.randint(lo, hi)
                if 0xD800 <= cp <= 0xDFFF:
                    cp = 0xFFFD
                parts.append(chr(cp))
        out.append("".join(parts))
    return out


def alphabet_texts():
    out = []
    for n in (1, 2, 3):
        for idx in np.ndindex(*([len(SMALL_ALPHABET)] * n)):
            out.append("".join(SMALL_ALPHABET[i] for i in idx))
    return out


def decode_id_lists(tok, seed):
    """Valid and invalid-UTF-8 id lists, including ids that split multi-byte characters."""
    emoji = tok.encode("😀")           # ends in single-byte tokens
    han = [1 + b for b in "中".encode("utf-8")]  # the three raw byte tokens (id = byte + 1)
    bytes_literal_ids = sorted(i for i, b in tok.idx2token.items() if len(b) > 1 and not is_utf8(b))
    rng = random.Random(seed)
    lists = [
        [6699, 304, 25740], [33155, 40213, 261], [11], [261], [3328], [33], [1], [128], [66],
        tok.encode("中文测试 ÿ 😀"), emoji, han, tok.encode("naïve café"), tok.encode("👨‍👩‍👧"),
        [129], [256], [193], [194], [245], [224, 129], [129, 129],
        emoji[:-1], emoji[-1:], han[:1], han[:2], han[1:], han[2:] + han[:1],
        [34, 129], [195], [195, 170],
        [238, 161, 129],                        # ED A0 80: an encoded surrogate, invalid
        [193, 130], [241, 144, 129, 129],       # overlong forms, invalid
        [245, 129, 129, 129], [246, 145, 129, 129],  # U+100000 (valid); F5 lead byte (invalid)
    ]
    lists += [[i] for i in bytes_literal_ids[:6]]
    for _ in range(4):
        a, b = rng.sample(bytes_literal_ids, 2)
        lists.append([a, b])
    for _ in range(30):
        lists.append([rng.randint(1, 65529) for _ in range(rng.randint(1, 8))])
    unique = []
    for ids in lists:
        if ids not in unique:
            unique.append(ids)
    return unique


def is_utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def make_tokenizer_vectors(repo):
    tok = pip_tokenizer()
    for text, ids in SPEC_VECTORS:
        got = tok.encode(text)
        assert got == ids, (text, got, ids)

    texts, seen = [], set()
    for t in [t for t, _ in SPEC_VECTORS] + CURATED_TEXTS + random_texts(50, seed=6101) + alphabet_texts():
        if t not in seen:
            seen.add(t)
            texts.append(t)
    encode = []
    for t in texts:
        ids = tok.encode(t)
        assert tok.decodeBytes(ids) == t.encode("utf-8")
        encode.append({"text": t, "utf8_hex": t.encode("utf-8").hex(), "ids": ids})

    decode = []
    n_invalid = 0
    for ids in decode_id_lists(tok, seed=6102):
        raw = tok.decodeBytes(ids)
        pip_text = tok.decode(ids)
        if is_utf8(raw):
            text = raw.decode("utf-8")
            assert pip_text == text
        else:
            assert pip_text == "\ufffd"
            text = None
            n_invalid += 1
        decode.append({"ids": ids, "utf8_hex": raw.hex(), "text_or_null": text})

    doc = {
        "generator": GENERATOR,
        "rwkv": rwkv_version(),
        "vocab": "rwkv_vocab_v20230424.txt (pip rwkv package copy)",
        "note": "encode: pip TRIE_TOKENIZER.encode(text), utf8_hex = the text's UTF-8 bytes; "
                "decode: utf8_hex is the concatenated token bytes, "
                "text_or_null is pip's decode, null where the bytes are invalid UTF-8 (pip returns U+FFFD).",
        "encode": encode,
        "decode": decode,
    }
    path = repo / "Tests/Fixtures/tokenizer/vectors.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json_one_case_per_line(doc))
    json.loads(path.read_text(encoding="utf-8"))
    print(f"wrote {path} ({path.stat().st_size:,} bytes): {len(encode)} encode cases, "
          f"{len(decode)} decode cases ({n_invalid} invalid UTF-8)")


def json_one_case_per_line(doc):
    """JSON with one compact case object per line, pure ASCII (non-ASCII as \\u escapes, astral
    characters as surrogate pairs) so that no editor or diff tool can alter invisible characters."""
    lines = ["{"]
    keys = list(doc)
    for n, key in enumerate(keys):
        comma = "," if n + 1 < len(keys) else ""
        value = doc[key]
        if isinstance(value, list):
            lines.append(f"  {json.dumps(key)}: [")
            for m, item in enumerate(value):
                item_comma = "," if m + 1 < len(value) else ""
                lines.append("    " + json.dumps(item, ensure_ascii=True) + item_comma)
            lines.append("  ]" + comma)
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=True)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def make_books(repo, shared):
    tok = pip_tokenizer()
    sources = {"shakespeare": "shakespeare-complete-gutenberg.txt", "austen": "austen-6-novels.txt"}
    tensors, meta = {}, {"generator": GENERATOR, "rwkv": rwkv_version(), "format": FORMAT_VERSION,
                         "bytes": str(BOOK_BYTES)}
    for name, file in sources.items():
        raw = (shared / file).read_bytes()[:BOOK_BYTES]
        assert len(raw) == BOOK_BYTES and raw.isascii()
        ids = tok.encodeBytes(raw)
        assert tok.decodeBytes(ids) == raw
        tensors[name] = np.asarray(ids, dtype=np.int32)
        meta[f"{name}_source"] = file
        meta[f"{name}_tokens"] = str(len(ids))
        print(f"  {name}: {BOOK_BYTES:,} bytes -> {len(ids):,} tokens")
    write_safetensors(repo / "Tests/Fixtures/tokenizer/books.safetensors", tensors, meta)


# --------------------------------------------------------------------------------------------------

def main():
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=here.parent)
    parser.add_argument("--shared-data", type=Path, default=None)
    parser.add_argument("--only", action="append", choices=["models", "tokenizer", "books", "demo"])
    args = parser.parse_args()
    repo = args.repo.resolve()
    shared = (args.shared_data or repo.parent / "shared/data").resolve()
    parts = args.only or ["models", "tokenizer", "books", "demo"]

    if rwkv_version() != RWKV_PIP_VERSION:
        sys.exit(f"need pip rwkv {RWKV_PIP_VERSION}, found {rwkv_version()}")
    torch.set_num_threads(1)  # deterministic reductions; the models are tiny anyway

    if "models" in parts:
        make_random_model_fixtures(repo)
        make_tiny_model_fixture(repo, shared)
    if "tokenizer" in parts:
        make_tokenizer_vectors(repo)
    if "books" in parts:
        make_books(repo, shared)
    if "demo" in parts:
        make_demo_model(repo)


if __name__ == "__main__":
    main()
