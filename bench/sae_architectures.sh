#!/usr/bin/env bash
# README's per-architecture SAE training throughput: `loupe sae train --input` on a random
# [16384, 576] float32 matrix (numpy default_rng(0) standard normal), d_sae 4608, k 32,
# batch 2048, 20 steps (--tokens 40960), OpenBLAS 2 threads (THREADS), each architecture
# RUNS times (default 2); prints the final `loupe: N tokens/s` line of each run.
#
#   PYTHON=<python with numpy> bash bench/sae_architectures.sh [RUNS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-2}"
python="${PYTHON:-python3}"
work="${TMPDIR:-/tmp}/loupe-sae-architectures"
mkdir -p "$work"
"$python" -c "import numpy as np; np.save('$work/random16k.npy', np.random.default_rng(0).standard_normal((16384, 576)).astype(np.float32))"
swift build -c release --package-path "$root" --product loupe >&2
export OPENBLAS_NUM_THREADS="${THREADS:-2}"
for run in $(seq "$runs"); do
    for a in topk batchtopk matryoshka jumprelu standard; do
        rm -rf "$work/sae-$a"
        line=$("$root/.build/release/loupe" sae train --input "$work/random16k.npy" --architecture "$a" --latents 4608 --k 32 \
            --batch-size 2048 --tokens 40960 --out "$work/sae-$a" 2>&1 | grep -E '^loupe: [0-9]+ tokens/s' | tail -1)
        echo "run $run $a: $line"
    done
done
