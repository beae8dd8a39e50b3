"""Checks that a .pth written by swift-rwkv loads in the reference and computes what the original does.

Usage (venv with torch + rwkv==0.8.32, see make_fixtures.py):
    rwkv convert Tests/Fixtures/v7/v7-a.pth /tmp/a.safetensors && rwkv convert /tmp/a.safetensors /tmp/a.pth
    python scripts/check_pth_with_reference.py /tmp/a.pth Tests/Fixtures/v7/v7-a.pth [--v7]

Exits 0 when torch.load(weights_only=True) gives identical tensors and pip rwkv gives identical logits.
"""
import os
import sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
if "--v7" in sys.argv:
    os.environ["RWKV_V7_ON"] = "1"
import torch  # noqa: E402
from rwkv.model import RWKV  # noqa: E402

ours, original = args
a = torch.load(ours, weights_only=True)
b = torch.load(original, weights_only=True)
assert a.keys() == b.keys(), f"tensor names differ: {set(a) ^ set(b)}"
for k in a:
    assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), f"tensor {k} differs"
tokens = [1, 2, 3, 4, 5]
out_a, _ = RWKV(model=ours[:-4], strategy="cpu fp32").forward(tokens, None)
out_b, _ = RWKV(model=original[:-4], strategy="cpu fp32").forward(tokens, None)
diff = (out_a - out_b).abs().max().item()
print(f"{len(a)} tensors identical; pip rwkv logits max |diff| = {diff}")
sys.exit(0 if diff == 0 else 1)
