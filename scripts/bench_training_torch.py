#!/usr/bin/env python3
"""Training throughput of the same RWKV-7 in plain CPU PyTorch (float32 autograd), for comparison with
`rwkv train` (see docs/training.md "Benchmark").

Uses the reference model of make_training_fixture.py (spec §2.3, per-token WKV loop differentiated by
autograd) at the benchmark shapes. Prints tokens/s averaged over the timed steps (after one warm-up).

Run: /work/venv-ref/bin/python scripts/bench_training_torch.py --layers 6 --dim 256 --ctx 512 --batch 4 --threads 2
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_training_fixture as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--head-size", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=256)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    # The reference model reads its sizes from module globals.
    ref.L, ref.C, ref.N, ref.V = args.layers, args.dim, args.head_size, args.vocab
    ref.H, ref.F = args.dim // args.head_size, 4 * args.dim
    ref.B, ref.T = args.batch, args.ctx
    ref.DW = ref.DA = max(32, round(2.5 * args.dim ** 0.5 / 32) * 32)
    ref.DV = max(32, round(1.7 * args.dim ** 0.5 / 32) * 32)
    ref.DG = max(32, round(5 * args.dim ** 0.5 / 32) * 32)
    rng = np.random.default_rng(0)
    params = {n: torch.tensor(0.1 * rng.standard_normal(s), dtype=torch.float32, requires_grad=True) for n, s in ref.specs()}
    for n, p in params.items():
        if n.endswith(("ln0.weight", "ln1.weight", "ln2.weight", "ln_out.weight", "ln_x.weight")):
            p.data.fill_(1.0)
    opt = torch.optim.Adam(params.values(), lr=1e-4, betas=(0.9, 0.99), eps=1e-18)
    times = []
    for step in range(args.steps + 1):
        inputs = torch.tensor(rng.integers(0, ref.V, (ref.B, ref.T)))
        targets = torch.tensor(rng.integers(0, ref.V, (ref.B, ref.T)))
        t0 = time.time()
        loss = ref.model_loss(params, inputs, targets)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params.values(), 1.0)
        opt.step()
        dt = time.time() - t0
        if step > 0:
            times.append(dt)
        print(f"step {step}: loss {loss.item():.4f}, {dt:.2f} s", file=sys.stderr)
    tok = ref.B * ref.T / (sum(times) / len(times))
    print(f"torch {torch.__version__} L{ref.L} D{ref.C} ctx{ref.T} batch{ref.B} threads{args.threads}: {tok:.0f} tokens/s")


if __name__ == "__main__":
    main()
