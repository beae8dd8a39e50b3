"""GGUF fixtures for the GGUF reader: our fixture models written the way llama.cpp's converter writes
RWKV-6/7 (spec §2.5, §3.5), with the PyPI package `gguf` (llama.cpp's gguf-py) and numpy only.

    /work/venv-ref/bin/pip install gguf          # plus torch (to read the .pth fixtures)
    /work/venv-ref/bin/python scripts/make_gguf_fixtures.py

Writes Tests/Fixtures/gguf/:
  v7-a-f16.gguf    RWKV-7 v7-a, matrices F16, everything else F32
  v7-a-q8_0.gguf   the same with Q8_0 matrices and a Q4_K ffn.value (cols 512 = two 256-blocks)
  v6-a-q4_0.gguf   RWKV-6 v6-a, Q4_0 matrices, rescale_every_n_layers = 1 baked into the weights
  dequant.safetensors  gguf-py's dequantisation of every quantised tensor above (the reference values)
Transforms (as the converter): everything squeezed; r_k / time_faaaa flattened; LoRA factors
transposed; RWKV-6 time_maa_w2 permuted (0, 2, 1); the token-shift mixes stacked into one
`time_mix_lerp_fused`; RWKV-7 layer-0 v0/v1/v2 replaced by copies of a0/a1/a2; RWKV-6 att.output and
ffn.value of layer b divided by 2^(b // rescale_every).
"""
import json
import pathlib
import struct

import gguf
import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIX = ROOT / "Tests/Fixtures"
OUT = FIX / "gguf"
Q = gguf.GGMLQuantizationType
MATRICES = ("receptance", "key", "value", "output", "gate")
dequant = {}


def load(path):
    return {k: v.float().numpy() for k, v in torch.load(path, weights_only=True).items()}


def quantize_q4_k(x):
    """A simple Q4_K quantiser (gguf-py only dequantises Q4_K): per 32-element sub-block an affine
    4-bit grid, its scale and minimum stored as 6-bit multiples of the super-block's d and dmin."""
    rows = x.reshape(-1, 256).astype(np.float32)
    out = np.zeros((rows.shape[0], 144), dtype=np.uint8)
    for b, block in enumerate(rows):
        sub = block.reshape(8, 32)
        mins = np.minimum(sub.min(axis=1), 0)
        scales = (sub.max(axis=1) - mins) / 15
        d = max(scales.max() / 63, 1e-8)
        dmin = max((-mins).max() / 63, 1e-8)
        d16, dmin16 = np.float16(d), np.float16(dmin)
        sc = np.clip(np.round(scales / float(d16)), 0, 63).astype(np.uint8)
        mn = np.clip(np.round(-mins / float(dmin16)), 0, 63).astype(np.uint8)
        packed = np.zeros(12, dtype=np.uint8)
        packed[0:4] = (sc[0:4] & 63) | ((sc[4:8] >> 4) << 6)
        packed[4:8] = (mn[0:4] & 63) | ((mn[4:8] >> 4) << 6)
        packed[8:12] = (sc[4:8] & 0xF) | ((mn[4:8] & 0xF) << 4)
        q = np.zeros((8, 32), dtype=np.uint8)
        for j in range(8):
            step = float(d16) * int(sc[j])
            q[j] = np.clip(np.round((sub[j] + float(dmin16) * int(mn[j])) / step), 0, 15) if step > 0 else 0
        nib = np.zeros(128, dtype=np.uint8)
        for g in range(4):
            nib[g * 32:(g + 1) * 32] = q[2 * g] | (q[2 * g + 1] << 4)
        out[b] = np.concatenate([np.frombuffer(d16.tobytes(), np.uint8), np.frombuffer(dmin16.tobytes(), np.uint8), packed, nib])
    return out.reshape(x.shape[0], -1)


def add(writer, name, array, qtype):
    array = np.ascontiguousarray(array, dtype=np.float32)
    if qtype in (Q.F32, Q.F16):
        writer.add_tensor(name, array.astype(np.float16 if qtype == Q.F16 else np.float32))
        return
    data = quantize_q4_k(array) if qtype == Q.Q4_K else gguf.quants.quantize(array, qtype)
    writer.add_tensor(name, data, raw_dtype=qtype)
    dequant[f"{writer.path.name}:{name}"] = gguf.quants.dequantize(data, qtype).reshape(array.shape)


def common(writer, w, qtype):
    add(writer, "token_embd.weight", w["emb.weight"], Q.F32)
    add(writer, "token_embd_norm.weight", w["blocks.0.ln0.weight"], Q.F32)
    add(writer, "token_embd_norm.bias", w["blocks.0.ln0.bias"], Q.F32)
    add(writer, "output_norm.weight", w["ln_out.weight"], Q.F32)
    add(writer, "output_norm.bias", w["ln_out.bias"], Q.F32)
    add(writer, "output.weight", w["head.weight"], qtype)


def v7(name, qtype, ffn_value_type=None):
    w = load(FIX / "v7/v7-a.pth")
    L = 1 + max(int(k.split(".")[1]) for k in w if k.startswith("blocks."))
    H, N = w["blocks.0.att.r_k"].shape
    path = OUT / name
    writer = gguf.GGUFWriter(str(path), "rwkv7")
    writer.path = path
    writer.add_uint32("rwkv7.wkv.head_size", N)
    common(writer, w, qtype)
    for i in range(L):
        p, b = f"blocks.{i}.", f"blk.{i}."
        g = lambda k: w[p + k].squeeze()
        for s, d in (("ln1", "attn_norm"), ("ln2", "attn_norm_2"), ("att.ln_x", "time_mix_ln")):
            add(writer, b + d + ".weight", g(s + ".weight"), Q.F32)
            add(writer, b + d + ".bias", g(s + ".bias"), Q.F32)
        add(writer, b + "time_mix_lerp_fused.weight", np.stack([g("att.x_" + m) for m in "rwkvag"]).reshape(6, 1, 1, -1), Q.F32)
        for k in ("w0", "a0", "k_k", "k_a"):
            add(writer, b + "time_mix_" + k + ".weight", g("att." + k), Q.F32)
        add(writer, b + "time_mix_v0.weight", g("att.a0" if i == 0 else "att.v0"), Q.F32)
        for k in ("w1", "w2", "a1", "a2", "g1", "g2"):
            add(writer, b + "time_mix_" + k + ".weight", g("att." + k).T, Q.F32)
        for k in ("v1", "v2"):
            add(writer, b + "time_mix_" + k + ".weight", g(("att.a" + k[1]) if i == 0 else "att." + k).T, Q.F32)
        add(writer, b + "time_mix_r_k.weight", g("att.r_k").reshape(-1), Q.F32)
        for m in ("receptance", "key", "value", "output"):
            add(writer, b + "time_mix_" + m + ".weight", g(f"att.{m}.weight"), qtype)
        add(writer, b + "channel_mix_lerp_k.weight", g("ffn.x_k"), Q.F32)
        add(writer, b + "channel_mix_key.weight", g("ffn.key.weight"), qtype)
        add(writer, b + "channel_mix_value.weight", g("ffn.value.weight"), ffn_value_type or qtype)
    finish(writer)


def v6(name, qtype, rescale=1):
    w = load(FIX / "v6/v6-a.pth")
    L = 1 + max(int(k.split(".")[1]) for k in w if k.startswith("blocks."))
    H, N = w["blocks.0.att.time_faaaa"].shape
    path = OUT / name
    writer = gguf.GGUFWriter(str(path), "rwkv6")
    writer.path = path
    writer.add_uint32("rwkv6.wkv.head_size", N)
    writer.add_uint32("rwkv6.rescale_every_n_layers", rescale)
    common(writer, w, qtype)
    for i in range(L):
        p, b = f"blocks.{i}.", f"blk.{i}."
        g = lambda k: w[p + k].squeeze()
        scale = 2 ** (i // rescale) if rescale else 1
        for s, d in (("ln1", "attn_norm"), ("ln2", "attn_norm_2"), ("att.ln_x", "time_mix_ln")):
            add(writer, b + d + ".weight", g(s + ".weight"), Q.F32)
            add(writer, b + d + ".bias", g(s + ".bias"), Q.F32)
        add(writer, b + "time_mix_lerp_x.weight", g("att.time_maa_x"), Q.F32)
        add(writer, b + "time_mix_lerp_fused.weight", np.stack([g("att.time_maa_" + m) for m in "wkvrg"]).reshape(5, 1, 1, -1), Q.F32)
        add(writer, b + "time_mix_w1.weight", g("att.time_maa_w1").T, Q.F32)
        add(writer, b + "time_mix_w2.weight", np.transpose(w[p + "att.time_maa_w2"], (0, 2, 1)), Q.F32)
        add(writer, b + "time_mix_decay.weight", g("att.time_decay"), Q.F32)
        add(writer, b + "time_mix_decay_w1.weight", g("att.time_decay_w1").T, Q.F32)
        add(writer, b + "time_mix_decay_w2.weight", g("att.time_decay_w2").T, Q.F32)
        add(writer, b + "time_mix_first.weight", g("att.time_faaaa").reshape(-1), Q.F32)
        for m in MATRICES:
            x = g(f"att.{m}.weight")
            add(writer, b + "time_mix_" + m + ".weight", x / scale if m == "output" else x, qtype)
        add(writer, b + "channel_mix_lerp_k.weight", g("ffn.time_maa_k"), Q.F32)
        add(writer, b + "channel_mix_lerp_r.weight", g("ffn.time_maa_r"), Q.F32)
        add(writer, b + "channel_mix_key.weight", g("ffn.key.weight"), qtype)
        add(writer, b + "channel_mix_receptance.weight", g("ffn.receptance.weight"), qtype)
        add(writer, b + "channel_mix_value.weight", g("ffn.value.weight") / scale, qtype)
    finish(writer)


def finish(writer):
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print("wrote", writer.path.relative_to(ROOT), writer.path.stat().st_size, "bytes")


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"generator": "scripts/make_gguf_fixtures.py", "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "?"}
    raw = json.dumps(header, sort_keys=True).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    v7("v7-a-f16.gguf", Q.F16)
    v7("v7-a-q8_0.gguf", Q.Q8_0, ffn_value_type=Q.Q4_K)
    v6("v6-a-q4_0.gguf", Q.Q4_0)
    # Keep the reference dequantisation small: the first rows of each quantised tensor type.
    keep = {k: v for k, v in dequant.items() if k.endswith(("blk.1.channel_mix_value.weight", "blk.0.time_mix_key.weight"))}
    write_safetensors(OUT / "dequant.safetensors", keep)
    print("dequant reference:", sorted(keep))
