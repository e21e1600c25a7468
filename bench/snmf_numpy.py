#!/usr/bin/env python3
"""NumPy's side of `loupe-bench --snmf`: the same semi-NMF iterations Loupe runs (Z by ridge
least squares, the top 1% of neurons kept per feature, rows of Y at unit norm, Ding et al.'s
multiplicative update of Y, the loss from the cached products) on 20,000 tokens x 1536
neurons at rank 100, float32, with BLAS limited to the same thread count. Written the way
the paper's code and a careful NumPy user would: matrix products in BLAS, the k x k system
by np.linalg.solve, the top neurons by np.argpartition.

    python3 bench/snmf_numpy.py [--threads 2] [--iterations 21] [--out /tmp/loupe-snmf-bench]

Writes the rows it timed to --out/x.npy, so `loupe-bench --snmf --snmf-data DIR` fits the
very same rows. Prints per-iteration times (median and range) as JSON on the last line.
"""
import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--iterations", type=int, default=21)
ap.add_argument("--out", default="/tmp/loupe-snmf-bench")
args = ap.parse_args()

N, D, K, SPARSITY, RIDGE, EPS = 20000, 1536, 100, 0.01, 1e-6, 1e-9
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
if (out / "x.npy").exists():
    x = np.load(out / "x.npy")
else:
    rng = np.random.default_rng(0)
    x = np.maximum(rng.standard_normal((N, D), dtype=np.float32), np.float32(-0.17))  # GELU-like floor
    np.save(out / "x.npy", x)
x = np.ascontiguousarray(x, dtype=np.float32)
N, D = x.shape  # a matrix given in --out may have any size (bench/snmf_acceptance.sh's rows)
a = np.ascontiguousarray(x.T)  # d x n, tokens as columns
keep = max(1, math.ceil(SPARSITY * D))


def z_step(y, yy):
    g = yy.astype(np.float64) + RIDGE * np.eye(K)
    return np.linalg.solve(g, (y @ x).astype(np.float64)).astype(np.float32).T  # d x k


with threadpool_limits(limits=args.threads):
    rng = np.random.default_rng(1)
    y = rng.random((K, N), dtype=np.float32)
    total = float(np.sum(x.astype(np.float64) ** 2))
    yy = y @ y.T
    z = z_step(y, yy)
    times, losses = [], []
    for it in range(args.iterations):
        t0 = time.perf_counter()
        z = z_step(y, yy)
        small = np.argpartition(-np.abs(z), keep, axis=0)[keep:]  # all but the top `keep` per feature
        np.put_along_axis(z, small, 0.0, axis=0)
        s = np.linalg.norm(y, axis=1)
        s[s == 0] = 1
        y /= s[:, None]
        z *= s[None, :]
        za = z.T @ a
        zz = z.T @ z
        zzp, zzn = (np.abs(zz) + zz) / 2, (np.abs(zz) - zz) / 2
        y *= np.sqrt((np.maximum(za, 0) + zzn @ y) / (np.maximum(-za, 0) + zzp @ y + EPS))
        yy = y @ y.T
        loss = total - 2 * float(np.sum(y * za, dtype=np.float64)) + float(np.sum(zz * yy, dtype=np.float64))
        times.append(time.perf_counter() - t0)
        losses.append(loss)

times = sorted(times[1:])  # the first iteration warms caches
median = times[len(times) // 2]
print(f"numpy semi-NMF: {N} x {D}, rank {K}: {median * 1e3:.1f} ms per iteration (median of {len(times)}, "
      f"{times[0] * 1e3:.1f}-{times[-1] * 1e3:.1f}), {4 * D * N * K / median / 1e9:.1f} GFLOP/s; "
      f"relative error {math.sqrt(max(losses[-1], 0) / total):.4f}")
print(json.dumps({"numpy_snmf_iteration_seconds": median, "min": times[0], "max": times[-1], "threads": args.threads}))
