#!/usr/bin/env bash
# Weights read in place (--weights native) against float32 (--weights f32): ROUNDS rounds
# (default 5), each running loupe-bench --weights-bench once per format in its own process,
# alternating which goes first; prints medians and ranges of generation tokens/s, forward
# times at 16 and 128 tokens, and resident memory after loading and after the runs.
# With GENERIC=1, each round also runs native weights with LOUPE_KERNELS=generic (the Swift
# SSE2-baseline kernels) beside the run-time choice (AVX2/FMA where the CPU has them).
#   [GENERIC=1] bash bench/weights_compare.sh [ROUNDS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
threads=${2:-2}
bin=.build/release/loupe-bench
[ -x "$bin" ] || swift build -c release --product loupe-bench >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
runs="native f32"
[ "${GENERIC:-0}" = 1 ] && runs="native generic f32"
for r in $(seq 1 "$rounds"); do
  order=$runs
  [ $((r % 2)) -eq 0 ] && order=$(echo "$runs" | tr ' ' '\n' | tac | tr '\n' ' ')
  for w in $order; do
    if [ "$w" = generic ]; then
      LOUPE_KERNELS=generic "$bin" --threads "$threads" --weights native --weights-bench | grep '^{' >> "$out"
    else
      "$bin" --threads "$threads" --weights "$w" --weights-bench | grep '^{' >> "$out"
    fi
  done
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $threads threads, $rounds rounds"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = [("generate_tokens_per_s", "greedy generation, tokens/s"), ("forward_16_ms", "forward 16 tokens, ms"),
        ("forward_128_ms", "forward 128 tokens, ms"), ("rss_loaded_mb", "resident after load, MB"),
        ("rss_after_runs_mb", "resident after the runs, MB")]
# Columns: native weights per kernel set (the run-time choice first), then f32.
columns = []
for r in rows:
    c = ("f32", None) if r["weights"] == "f32" else ("native", r.get("kernels"))
    if c not in columns:
        columns.append(c)
columns.sort(key=lambda c: (c[0] == "f32", c[1] == "generic"))
def cell(c, k):
    v = [r[k] for r in rows if (("f32", None) if r["weights"] == "f32" else ("native", r.get("kernels"))) == c]
    return statistics.median(v), min(v), max(v)
names = [w if kern is None else f"{w} ({kern})" for w, kern in columns]
f32 = ("f32", None)
ratios = [c for c in columns if c != f32]
print("| workload | " + " | ".join(names) + " | " + " | ".join(f"{n} / f32" for n in names[:len(ratios)]) + " |")
print("|---" * (1 + len(columns) + len(ratios)) + "|")
for k, label in keys:
    cells = [cell(c, k) for c in columns]
    f = cell(f32, k)
    text = [f"{m:.1f} ({lo:.1f}-{hi:.1f})" for m, lo, hi in cells]
    text += [f"{cell(c, k)[0] / f[0]:.2f}x" for c in ratios]
    print(f"| {label} | " + " | ".join(text) + " |")
PY
