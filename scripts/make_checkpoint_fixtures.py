#!/usr/bin/env python3
"""Writes the small torch-made checkpoint fixtures used by Tests/RWKVTests/Checkpoint.

Each `<name>.pth` is written by torch.save; `<name>-expected.safetensors` holds the same tensors made
contiguous, written by the reference `safetensors` library. The Swift tests read both and compare
bytes, so the expected values come from torch, never from our own reader.

Usage: /work/venv-ref/bin/python scripts/make_checkpoint_fixtures.py   (torch 2.x, safetensors)
"""
import collections
import io
import os
import zipfile

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "checkpoint")


def save_pair(name, tensors):
    torch.save(tensors, os.path.join(OUT, name + ".pth"))
    save_file({k: v.contiguous().clone() for k, v in tensors.items()},
              os.path.join(OUT, name + "-expected.safetensors"))


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(7)

    mixed = collections.OrderedDict()
    mixed["w.f32"] = torch.randn(3, 5, generator=g)
    mixed["w.f16"] = torch.randn(4, 2, generator=g).half()
    mixed["w.bf16"] = torch.randn(2, 3, 2, generator=g).bfloat16()
    mixed["ids.i64"] = torch.arange(-3, 4, dtype=torch.int64)
    mixed["ids.i32"] = torch.tensor([70000, -1, 5], dtype=torch.int32)
    mixed["bytes.u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    mixed["scalar"] = torch.tensor(2.5)
    save_pair("mixed", mixed)

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 7
    strided = collections.OrderedDict()
    strided["transposed"] = base.t()                      # strides (1, 6)
    strided["rows"] = base[1:3]                           # offset 6, contiguous
    strided["columns"] = base[:, 1::2]                    # strides (6, 2)
    strided["expanded"] = torch.arange(3.0).bfloat16().expand(2, 3)   # stride 0
    strided["permuted"] = torch.randn(2, 3, 4, generator=g).half().permute(2, 0, 1)
    strided["empty"] = base[:0]
    strided["base"] = base                                # shares storage with the views above
    save_pair("strided", strided)

    # A module's state_dict: an OrderedDict carrying `_metadata`, pickled with BUILD.
    torch.manual_seed(7)
    save_pair("module", torch.nn.Linear(3, 2).state_dict())

    # zip64: the same archive as mixed.pth rewritten with every structure in zip64 form.
    with open(os.path.join(OUT, "mixed.pth"), "rb") as f:
        source = zipfile.ZipFile(io.BytesIO(f.read()))
    limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 0, 0
    try:
        with zipfile.ZipFile(os.path.join(OUT, "mixed-zip64.pth"), "w", zipfile.ZIP_STORED) as z:
            for info in source.infolist():
                fixed = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
                z.writestr(fixed, source.read(info.filename))
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits

    # Float conversions as torch rounds them (round to nearest even, overflow to inf, subnormals).
    x = torch.cat([torch.randn(64, generator=g) * 10 ** torch.linspace(-9, 6, 64),
                   torch.tensor([1 + 2 ** -8, 1 + 3 * 2 ** -8, 65520.0, 1e-7, -0.0, 3.0e38])])
    save_file({"f32": x, "as_bf16": x.bfloat16(), "as_f16": x.half(),
               "bf16_as_f32": x.bfloat16().float(), "f16_as_f32": x.half().float()},
              os.path.join(OUT, "conversion.safetensors"))

    # Not a flat tensor dict: must be rejected with a clear error.
    torch.save({"state_dict": {"a": torch.zeros(2)}}, os.path.join(OUT, "nested.pth"))


if __name__ == "__main__":
    main()
