#!/usr/bin/env bash
# Semi-NMF iteration time, Loupe against NumPy, interleaved on the same rows and thread count:
#   bash bench/snmf_compare.sh [ROUNDS=5] [THREADS=2]
# Each round runs bench/snmf_numpy.py, then `loupe-bench --snmf` (release build) on the x.npy it
# wrote (20,000 tokens x 1536 neurons, rank 100, sparsity 0.01); prints every round and the
# median and range of the per-round medians, then Loupe's per-step times (medians) of each round. Needs numpy and threadpoolctl (pip).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}" threads="${2:-2}" data="${SNMF_BENCH_DIR:-/tmp/loupe-snmf-bench}"
swift build -c release --product loupe-bench >/dev/null
bench="$(swift build -c release --show-bin-path)/loupe-bench"
numpy=() loupe=()
for r in $(seq 1 "$rounds"); do
    n=$(python3 bench/snmf_numpy.py --threads "$threads" --out "$data" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["numpy_snmf_iteration_seconds"])')
    json="$data/loupe-$r.json"
    "$bench" --snmf --snmf-data "$data" --threads "$threads" --json "$json" | grep "snmf steps" > "$data/steps-$r.txt" || true
    l=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snmf_iteration_seconds"])' "$json")
    numpy+=("$n") loupe+=("$l")
    awk -v r="$r" -v n="$n" -v l="$l" 'BEGIN { printf "round %d: numpy %.1f ms, loupe %.1f ms per iteration\n", r, n * 1000, l * 1000 }'
done
python3 - "${numpy[*]}" "${loupe[*]}" "$threads" <<'PY'
import statistics, sys
numpy = [float(v) for v in sys.argv[1].split()]
loupe = [float(v) for v in sys.argv[2].split()]
ratios = [a / b for a, b in zip(numpy, loupe)]
ms = lambda xs: f"{statistics.median(xs) * 1e3:.1f} ms ({min(xs) * 1e3:.1f}-{max(xs) * 1e3:.1f})"
print(f"| semi-NMF iteration, 20,000 x 1536, k 100, {sys.argv[3]} threads | {ms(loupe)} | NumPy {ms(numpy)} | "
      f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) |")
PY
for r in $(seq 1 "$rounds"); do sed "s/^/round $r: /" "$data/steps-$r.txt"; done
