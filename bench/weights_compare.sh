#!/usr/bin/env bash
# Weights read in place (--weights native) against float32 (--weights f32): ROUNDS rounds
# (default 5), each running loupe-bench --weights-bench once per format in its own process,
# alternating which goes first; prints medians and ranges of generation tokens/s, forward
# times at 16 and 128 tokens, and resident memory after loading and after the runs.
#   bash bench/weights_compare.sh [ROUNDS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
threads=${2:-2}
bin=.build/release/loupe-bench
[ -x "$bin" ] || swift build -c release --product loupe-bench >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then order="native f32"; else order="f32 native"; fi
  for w in $order; do
    "$bin" --threads "$threads" --weights "$w" --weights-bench | grep '^{' >> "$out"
  done
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $threads threads, $rounds rounds"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = [("generate_tokens_per_s", "greedy generation, tokens/s"), ("forward_16_ms", "forward 16 tokens, ms"),
        ("forward_128_ms", "forward 128 tokens, ms"), ("rss_loaded_mb", "resident after load, MB"),
        ("rss_after_runs_mb", "resident after the runs, MB")]
def cell(w, k):
    v = [r[k] for r in rows if r["weights"] == w]
    return statistics.median(v), min(v), max(v)
print("| workload | native | f32 | native / f32 |")
print("|---|---|---|---|")
for k, label in keys:
    n, f = cell("native", k), cell("f32", k)
    print(f"| {label} | {n[0]:.1f} ({n[1]:.1f}-{n[2]:.1f}) | {f[0]:.1f} ({f[1]:.1f}-{f[2]:.1f}) | {n[0] / f[0]:.2f}x |")
PY
