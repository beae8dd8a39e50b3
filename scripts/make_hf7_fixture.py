#!/usr/bin/env python3
"""Writes the random RWKV-7 fixture v7-a in the Hugging Face RWKV-7 layout, sharded, and checks it with pip.

The official Hugging Face-format repositories (`RWKV/RWKV7-*-20260805`) hold `config.json`,
`model.safetensors.index.json` and `model-0000N-of-0000M.safetensors`, with the tensor names and config
keys of the transformers `Rwkv7ForCausalLM` (huggingface/transformers `src/transformers/models/rwkv7/`:
modeling_rwkv7.py, configuration_rwkv7.py, convert_rwkv7_checkpoint_to_hf.py; issue #46983). Its model page
(docs/source/en/model_doc/rwkv7.md) says those repositories load into it with no conversion and that their
config.json maps onto Rwkv7Config key for key. That port keeps the reference parameter names, so
official -> HF is a prefix rename with no transposes:

  emb.weight                        -> rwkv7.emb.weight                        [V, C]
  blocks.{i}.<anything>             -> rwkv7.blocks.{i}.<anything>             same shape
      (ln0 on layer 0, ln1, ln2; att.x_{r,w,k,v,a,g} [1,1,C]; att.{w,a,v}0 [1,1,C]; att.{w,a,v,g}1 [C,D];
       att.{w,a,v,g}2 [D,C]; att.k_k, k_a [1,1,C]; att.r_k [H,N]; att.receptance/key/value/output.weight;
       att.ln_x = GroupNorm(H, C, eps = head_dim * norm_eps); ffn.x_k [1,1,C], ffn.key/value.weight;
       layer 0 keeps its unused v0/v1/v2 "so that loading is lossless")
  ln_out.*                          -> rwkv7.ln_out.*
  head.weight                       -> head.weight   (tied to rwkv7.emb.weight only if tie_word_embeddings)

Config keys (Rwkv7Config): vocab_size, hidden_size, num_hidden_layers, head_dim, num_heads, decay_low_rank_dim,
a_low_rank_dim, v_low_rank_dim, gate_low_rank_dim, intermediate_size, norm_eps, norm_bias,
max_position_embeddings, tie_word_embeddings, model_type "rwkv7", architectures ["Rwkv7ForCausalLM"].

Other candidate ports name things differently (rwkv-rs/transformers-rwkv: `rwkv7.embeddings.weight` or a
`model.` prefix, LoRA factors as nn.Linear `w1.weight` [D,C]; chinoll/transformers: `attention`,
`feed_forward`, `pre_ln`; rwkv-rs/torchtitan-rwkv: `model.layers.{i}.linear_attn.*`). swift-rwkv maps those
by name too; this fixture is the huggingface/transformers layout.

What the script checks, independently of swift-rwkv: the files read back through the index with the
`safetensors` package, renamed back to official names by a separately written inverse, equal v7-a.pth bit
for bit; pip `rwkv` 0.8.32 (cpu fp32) run on that round-tripped checkpoint gives the outputs committed in
v7-a.reference.safetensors.

    /tmp/venv-ref/bin/python scripts/make_hf7_fixture.py        # from the repository root
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402  (shared deterministic writer and pip runner)

PREFIX = "rwkv7."
SHARDS = 3  # embeddings | layer 0 | layer 1 + final norm + head: every shard boundary is exercised


def hf_name(name):
    return name if name == "head.weight" else PREFIX + name


def official_name(name):
    """The inverse, written separately so that the round trip checks both directions."""
    if name.startswith(PREFIX):
        return name[len(PREFIX):]
    assert name == "head.weight", name
    return name


def shard_of(name):
    """1-based shard number of an official tensor name."""
    if name == "emb.weight":
        return 1
    if name.startswith("blocks.0."):
        return 2
    return 3


def config_for(sd):
    vocab, c = sd["emb.weight"].shape
    heads, head_dim = sd["blocks.0.att.r_k"].shape
    layers = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))
    return {
        "architectures": ["Rwkv7ForCausalLM"],
        "model_type": "rwkv7",
        "vocab_size": vocab,
        "hidden_size": c,
        "num_hidden_layers": layers,
        "head_dim": head_dim,
        "num_heads": heads,
        "decay_low_rank_dim": sd["blocks.0.att.w1"].shape[1],
        "a_low_rank_dim": sd["blocks.0.att.a1"].shape[1],
        "v_low_rank_dim": sd["blocks.1.att.v1"].shape[1],
        "gate_low_rank_dim": sd["blocks.0.att.g1"].shape[1],
        "intermediate_size": sd["blocks.0.ffn.key.weight"].shape[0],
        "norm_eps": 1e-05,
        "norm_bias": True,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": False,
        "use_cache": True,
        "wkv_state_dtype": "float32",
        "bos_token_id": 0,
        "eos_token_id": 0,
        "pad_token_id": 0,
        "dtype": "bfloat16",
    }


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")


def write_hf_directory(sd, out):
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("model-*.safetensors"):
        old.unlink()
    files = {n: f"model-{n:05d}-of-{SHARDS:05d}.safetensors" for n in range(1, SHARDS + 1)}
    weight_map, total = {}, 0
    for n, file in files.items():
        part = {hf_name(k): v for k, v in sd.items() if shard_of(k) == n}
        assert part, f"shard {n} would be empty"
        mf.write_safetensors(out / file, part, {"format": "pt"})
        weight_map.update({k: file for k in part})
        total += sum(v.numel() * v.element_size() for v in part.values())
    write_json(out / "model.safetensors.index.json", {"metadata": {"total_size": total}, "weight_map": weight_map})
    write_json(out / "config.json", config_for(sd))


def read_hf_directory(out):
    """Loads through the index the way transformers does, checking each tensor is where the index says."""
    index = json.loads((out / "model.safetensors.index.json").read_text())
    loaded = {}
    for file in sorted(set(index["weight_map"].values())):
        with safe_open(str(out / file), framework="pt") as f:
            for key in f.keys():
                assert index["weight_map"][key] == file, (key, file)
                loaded[key] = f.get_tensor(key)
    assert set(loaded) == set(index["weight_map"])
    return loaded


def check_with_pip(official, reference_path):
    """pip on the round-tripped weights must reproduce the committed reference outputs."""
    with safe_open(str(reference_path), framework="np") as f:
        ref = {k: f.get_tensor(k) for k in f.keys()}
    with tempfile.TemporaryDirectory() as tmp:
        pth = Path(tmp) / "v7-a-from-hf.pth"
        torch.save(official, pth)
        model = mf.load_reference_model(pth)
        ours = mf.reference_tensors(model, ref["tokens"].tolist())
    assert set(ours) == set(ref), set(ours) ^ set(ref)
    worst = 0.0
    for name, expected in ref.items():
        got = ours[name]
        assert got.shape == expected.shape and got.dtype == expected.dtype, name
        if got.dtype == np.int32:
            assert np.array_equal(got, expected), name
            continue
        diff = float(np.abs(got - expected).max()) if got.size else 0.0
        scale = float(np.abs(expected).max()) or 1.0
        worst = max(worst, diff / scale)
        assert diff <= 1e-5 * scale, f"{name}: max |pip(hf) - reference| {diff:.3e}"
    print(f"  pip on the HF files matches {reference_path.name} (worst relative difference {worst:.1e})")


def main():
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=here.parent)
    args = parser.parse_args()
    repo = args.repo.resolve()
    if mf.rwkv_version() != mf.RWKV_PIP_VERSION:
        sys.exit(f"need pip rwkv {mf.RWKV_PIP_VERSION}, found {mf.rwkv_version()}")
    torch.set_num_threads(1)

    fixtures = repo / "Tests/Fixtures/v7"
    sd = torch.load(fixtures / "v7-a.pth", map_location="cpu")
    out = fixtures / "v7-a-hf"
    write_hf_directory(sd, out)

    back = {official_name(k): v for k, v in read_hf_directory(out).items()}
    mf.assert_same_tensors(back, sd, "hf-v7")
    print(f"  {out.name}/ maps back to v7-a.pth exactly ({len(sd)} tensors in {SHARDS} shards)")
    check_with_pip(back, fixtures / "v7-a.reference.safetensors")


if __name__ == "__main__":
    main()
