#!/usr/bin/env python3
"""scikit-learn's side of `loupe-bench --probes`: L2 logistic regression (lbfgs, C=1,
tol=1e-4) on 20,000 x 576 float32 rows, binary and 10 classes, both linearly separable
(labels from a random linear teacher), with BLAS limited to the same thread count.

    python3 bench/probes_sklearn.py [--threads 2] [--out /tmp/loupe-probe-bench]

Writes the data it timed as .npy into --out, so that
`swift run -c release loupe-bench --probes --probes-data /tmp/loupe-probe-bench` fits the
very same rows. Median of 5 fits after one warm-up.
"""
import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--out", default="/tmp/loupe-probe-bench")
ap.add_argument("--runs", type=int, default=5)
args = ap.parse_args()

rng = np.random.default_rng(0)
n, d = 20000, 576
x = rng.standard_normal((n, d), dtype=np.float32)
teacher = rng.standard_normal((10, d)).astype(np.float32)
y2 = (x @ teacher[0] > 0).astype(np.int64)
y10 = np.argmax(x @ teacher.T, axis=1).astype(np.int64)
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
np.save(out / "x.npy", x)
np.save(out / "y2.npy", y2.astype(np.float32))
np.save(out / "y10.npy", y10.astype(np.float32))

with threadpool_limits(limits=args.threads):
    for name, y in (("binary", y2), ("10 classes", y10)):
        times, clf = [], None
        for i in range(args.runs + 1):
            t = time.perf_counter()
            clf = LogisticRegression(C=1.0, tol=1e-4, max_iter=10000).fit(x, y)
            if i > 0:
                times.append(time.perf_counter() - t)
        acc = (clf.predict(x) == y).mean()
        print(f"sklearn lbfgs {name}: {np.median(times):.3f} s median of {args.runs}, "
              f"{int(clf.n_iter_[0])} iterations, train accuracy {acc:.4f}")
