#!/usr/bin/env python3
"""The real-activation matrix of the README's SAE speed table, for bench/sae_compare.sh.

    python3 bench/sae_bench_matrix.py [--out /tmp/sae-bench-l15.npy] [--tokens 20000]
        [--hook blocks.15.hook_resid_post] [--loupe scripts/loupe]

The repository's own documentation (README, docs/, notebooks-text/, scripts/*/README.md) as a
JSONL corpus, one document per file; `loupe capture --corpus --context 128 --max-tokens N`
of the hook into a store next to --out; `loupe store export` to .npy; then rows at position 0
(the attention sink) and rows above 10x the median norm are left out, as `loupe sae train`
does, and the rest is written as float32 [rows, d_model]. Needs numpy and the default model.
"""
import argparse
import glob
import json
import subprocess
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ap = argparse.ArgumentParser()
ap.add_argument("--out", default="/tmp/sae-bench-l15.npy")
ap.add_argument("--tokens", type=int, default=20000)
ap.add_argument("--hook", default="blocks.15.hook_resid_post")
ap.add_argument("--loupe", default=str(ROOT / "scripts" / "loupe"))
args = ap.parse_args()

out = Path(args.out)
work = out.with_suffix("")
work.mkdir(parents=True, exist_ok=True)
files = ["README.md"] + sorted(glob.glob("docs/*.md", root_dir=ROOT)) + sorted(glob.glob("notebooks-text/*.md", root_dir=ROOT)) \
    + sorted(glob.glob("scripts/*/README.md", root_dir=ROOT))
corpus = work / "corpus.jsonl"
with open(corpus, "w") as f:
    for p in files:
        f.write(json.dumps({"text": (ROOT / p).read_text(), "source": p}) + "\n")
store = work / "store.db"
run = ["bash", args.loupe] if args.loupe.endswith("scripts/loupe") else [args.loupe]
subprocess.run([*run, "capture", "--corpus", str(corpus), "--context", "128", "--hooks", args.hook,
                "--store", str(store), "--max-tokens", str(args.tokens), "--overwrite"], check=True)
raw = work / "raw.npy"
subprocess.run([*run, "store", "export", str(store), "--hook", args.hook, "--out", str(raw)], check=True)
x = np.load(raw).astype(np.float32)
rows = [json.loads(line) for line in open(raw.with_suffix(".rows.jsonl"))]
position = np.array([r["position"] for r in rows])
norms = np.linalg.norm(x, axis=1)
keep = (position != 0) & (norms <= 10 * np.median(norms))
np.save(out, np.ascontiguousarray(x[keep]))
print(f"{out}: {int(keep.sum())} x {x.shape[1]} ({int((position == 0).sum())} position-0 rows, "
      f"{int(((position != 0) & ~keep).sum())} outliers left out)")
