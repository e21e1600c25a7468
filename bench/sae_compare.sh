#!/usr/bin/env bash
# SAE training throughput, Loupe against plain PyTorch, interleaved on the same matrix.
#
#   bash bench/sae_compare.sh X.npy [ROUNDS]
#
# X.npy: [rows >= 2048, d_in] float32 (see README "Speed" for how the table's matrix was made).
# Each round runs, for topk then standard, bench/sae_train_torch.py and then
# `loupe-bench --sae` (release build) with the same settings: 2 threads (THREADS), d_sae 4608,
# k 32, batch 2048, 10 timed steps x 3 fresh SAEs, 2% of the latents dead. PYTHON picks the
# interpreter with torch (default python3). Every result line goes to stdout and to
# /tmp/loupe-sae-bench.log; compare medians from the same round, and ranges across rounds
# (a shared machine drifts).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${1:?usage: bash bench/sae_compare.sh X.npy [ROUNDS]}"
rounds="${2:-2}"
threads="${THREADS:-2}"
python="${PYTHON:-python3}"
log=/tmp/loupe-sae-bench.log
swift build -c release --package-path "$root" --product loupe-bench >&2
bench="$root/.build/release/loupe-bench"
: > "$log"
for round in $(seq "$rounds"); do
    for arch in topk standard; do
        echo "round $round, $arch" | tee -a "$log"
        "$python" "$root/bench/sae_train_torch.py" --data "$data" --architecture "$arch" --threads "$threads" \
            --latents 4608 --k 32 --batch-size 2048 --steps 10 --repeats 3 --dead-fraction 0.02 | tee -a "$log"
        "$bench" --threads "$threads" --sae --sae-data "$data" --sae-architecture "$arch" \
            --sae-latents 4608 --sae-k 32 --sae-batch 2048 --sae-steps 10 --sae-repeats 3 --sae-dead-fraction 0.02 \
            | grep '^sae' | tee -a "$log"
    done
done
