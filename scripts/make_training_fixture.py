#!/usr/bin/env python3
"""Training fixture: loss and every parameter gradient of a tiny RWKV-7, from PyTorch autograd.

The reference model below is written from the spec (rwkv-spec.md §2.3 forward, §9.2 loss with
L2Wrap), in plain CPU PyTorch, float64, with the WKV recurrence as an explicit per-token loop so that
autograd differentiates it directly (no snapshot tricks: an independent check of the Swift backward).
Weights are random (not the official init, which zeroes many tensors and would hide mistakes), drawn
in float32 and then used in float64. T = 20 crosses the 16-token snapshot boundary of the Swift
backward.

Output: Tests/Fixtures/training/rwkv7-grad.safetensors with
  param.<official name>  F32  the weights
  grad.<official name>   F32  dLoss/dweight (CE + L2Wrap)
  inputs, targets        I64  (B, T)
  loss                   F32  (1)  mean cross-entropy
  dims                   I64  (8)  L, C, N, V, Dw, Da, Dv, Dg
and metadata {"format": "swift-rwkv training fixture", "version": "1"}.

Run: /work/venv-ref/bin/python scripts/make_training_fixture.py   (from the repository root)
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

L, C, N, V = 2, 16, 8, 20
DW, DA, DV, DG = 4, 4, 4, 8
B, T = 2, 20
H = C // N
F = 4 * C
DECAY_SCALE = 0.6065306597126334  # e^{-1/2}, as the training kernel writes it (spec §9.4)


def specs():
    out = [("emb.weight", [V, C]), ("blocks.0.ln0.weight", [C]), ("blocks.0.ln0.bias", [C])]
    for l in range(L):
        p = f"blocks.{l}."
        out += [(p + "ln1.weight", [C]), (p + "ln1.bias", [C]), (p + "ln2.weight", [C]), (p + "ln2.bias", [C])]
        out += [(p + "att." + m, [1, 1, C]) for m in ["x_r", "x_w", "x_k", "x_v", "x_a", "x_g"]]
        out += [(p + "att.w0", [1, 1, C]), (p + "att.w1", [C, DW]), (p + "att.w2", [DW, C]),
                (p + "att.a0", [1, 1, C]), (p + "att.a1", [C, DA]), (p + "att.a2", [DA, C]),
                (p + "att.v0", [1, 1, C]), (p + "att.v1", [C, DV]), (p + "att.v2", [DV, C]),
                (p + "att.g1", [C, DG]), (p + "att.g2", [DG, C]),
                (p + "att.k_k", [1, 1, C]), (p + "att.k_a", [1, 1, C]), (p + "att.r_k", [H, N]),
                (p + "att.receptance.weight", [C, C]), (p + "att.key.weight", [C, C]),
                (p + "att.value.weight", [C, C]), (p + "att.output.weight", [C, C]),
                (p + "att.ln_x.weight", [C]), (p + "att.ln_x.bias", [C]),
                (p + "ffn.x_k", [1, 1, C]), (p + "ffn.key.weight", [F, C]), (p + "ffn.value.weight", [C, F])]
    out += [("ln_out.weight", [C]), ("ln_out.bias", [C]), ("head.weight", [V, C])]
    return out


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def group_norm(x, w, b, eps=64e-5):
    shape = x.shape
    g = x.reshape(*shape[:-1], H, N)
    mu = g.mean(-1, keepdim=True)
    var = ((g - mu) ** 2).mean(-1, keepdim=True)
    return ((g - mu) / torch.sqrt(var + eps)).reshape(shape) * w + b


def shift(x):
    """x_{t-1}, zeros at t = 0; x is (B, T, C)."""
    return torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)


def wkv(r, w, k, v, a, b):
    """Sequential WKV7 (spec §2.3), S[i = value][j = key], zero initial state. All (B, T, C)."""
    Bsz, Tn, _ = r.shape
    S = torch.zeros(Bsz, H, N, N, dtype=r.dtype)
    ys = []
    for t in range(Tn):
        rt, wt, kt, vt, at, bt = (z[:, t].reshape(Bsz, H, N) for z in (r, w, k, v, a, b))
        sa = torch.einsum("bhij,bhj->bhi", S, at)
        S = S * wt[:, :, None, :] + sa[:, :, :, None] * bt[:, :, None, :] + vt[:, :, :, None] * kt[:, :, None, :]
        ys.append(torch.einsum("bhij,bhj->bhi", S, rt).reshape(Bsz, C))
    return torch.stack(ys, dim=1)


class L2Wrap(torch.autograd.Function):
    """Forward: the loss unchanged. Backward: adds 1e-4/(B·T)·max_logit at each arg-max (spec §9.2)."""

    @staticmethod
    def forward(ctx, loss, logits):
        ctx.save_for_backward(logits)
        return loss

    @staticmethod
    def backward(ctx, grad):
        (logits,) = ctx.saved_tensors
        factor = 1e-4 / (logits.shape[0] * logits.shape[1])
        mx, ids = torch.max(logits, -1, keepdim=True)
        gl = torch.zeros_like(logits).scatter_(-1, ids, mx * factor)
        return grad, gl * grad


def model_loss(p, inputs, targets):
    x = layer_norm(p["emb.weight"][inputs], p["blocks.0.ln0.weight"], p["blocks.0.ln0.bias"])
    v_first = None
    for l in range(L):
        q = lambda n: p[f"blocks.{l}.{n}"].reshape(-1) if p[f"blocks.{l}.{n}"].dim() != 2 or n.endswith("r_k") else p[f"blocks.{l}.{n}"]
        xa = layer_norm(x, q("ln1.weight"), q("ln1.bias"))
        d = shift(xa) - xa
        xr, xw, xk, xv, xA, xg = (xa + d * q("att.x_" + c) for c in "rwkvag")
        r = xr @ q("att.receptance.weight").T
        k = xk @ q("att.key.weight").T
        v = xv @ q("att.value.weight").T
        w = torch.exp(-DECAY_SCALE * torch.sigmoid(q("att.w0") + torch.tanh(xw @ q("att.w1")) @ q("att.w2")))
        alpha = torch.sigmoid(q("att.a0") + (xA @ q("att.a1")) @ q("att.a2"))
        g = torch.sigmoid(xg @ q("att.g1")) @ q("att.g2")
        kappa = (k * q("att.k_k")).reshape(B, T, H, N)
        kk = (kappa / torch.clamp(kappa.norm(dim=-1, keepdim=True), min=1e-12)).reshape(B, T, C)
        k = k * (1 + (alpha - 1) * q("att.k_a"))
        if l == 0:
            v_first = v
        else:
            v = v + (v_first - v) * torch.sigmoid(q("att.v0") + (xv @ q("att.v1")) @ q("att.v2"))
        y = wkv(r, w, k, v, -kk, kk * alpha)
        o = group_norm(y, q("att.ln_x.weight"), q("att.ln_x.bias"))
        bonus = (r * k * q("att.r_k")).reshape(B, T, H, N).sum(-1, keepdim=True)
        o = o + (bonus * v.reshape(B, T, H, N)).reshape(B, T, C)
        x = x + (o * g) @ q("att.output.weight").T
        xf = layer_norm(x, q("ln2.weight"), q("ln2.bias"))
        xk2 = xf + (shift(xf) - xf) * q("ffn.x_k")
        x = x + (torch.relu(xk2 @ q("ffn.key.weight").T) ** 2) @ q("ffn.value.weight").T
    logits = layer_norm(x, p["ln_out.weight"], p["ln_out.bias"]) @ p["head.weight"].T
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    return L2Wrap.apply(loss, logits)


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        arr = tensors[name]
        dtype = {np.float32: "F32", np.int64: "I64"}[arr.dtype.type]
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(20260401)
    params, arrays = {}, {}
    for name, shape in specs():
        is_norm_weight = name.endswith(("ln0.weight", "ln1.weight", "ln2.weight", "ln_out.weight", "ln_x.weight"))
        values = (1 + 0.3 * rng.uniform(-1, 1, shape)) if is_norm_weight else 0.6 * rng.uniform(-1, 1, shape)
        arrays["param." + name] = values.astype(np.float32)
        params[name] = torch.tensor(arrays["param." + name], dtype=torch.float64, requires_grad=True)
    inputs = torch.tensor(rng.integers(0, V, (B, T)), dtype=torch.int64)
    targets = torch.tensor(rng.integers(0, V, (B, T)), dtype=torch.int64)
    loss = model_loss(params, inputs, targets)
    loss.backward()
    for name, _ in specs():
        grad = params[name].grad
        arrays["grad." + name] = (grad if grad is not None else torch.zeros_like(params[name])).numpy().astype(np.float32)
    arrays["inputs"] = inputs.numpy()
    arrays["targets"] = targets.numpy()
    arrays["loss"] = np.array([loss.item()], dtype=np.float32)
    arrays["dims"] = np.array([L, C, N, V, DW, DA, DV, DG], dtype=np.int64)
    # Sanity: the loss is near ln V for random weights, and no gradient is NaN.
    assert math.isfinite(loss.item()) and 0.5 * math.log(V) < loss.item() < 3 * math.log(V), loss.item()
    assert all(np.isfinite(a).all() for a in arrays.values())
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = os.path.join(repo, "Tests", "Fixtures", "training")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "rwkv7-grad.safetensors")
    write_safetensors(path, arrays, {"format": "swift-rwkv training fixture", "version": "1"})
    print(f"wrote {path}: loss {loss.item():.6f}, {len(specs())} parameter tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    sys.exit(main())
