#!/usr/bin/env bash
# The causal trace against ROME's straightforward loop, interleaved, on the same thread count:
#   bash bench/trace_compare.sh [ROUNDS=2] [THREADS=2]
# Alternates `loupe-bench --trace` (the README's first command's full trace, 3 kinds x 30
# layers x 10 tokens x 10 samples, as `loupe trace` runs it: one lane per thread) and
# scripts/fixtures/tracing/make_trace_reference.py --max-facts 1 (one `transformers` pass with
# hooks per cell, 901 passes, OMP_WAIT_POLICY=ACTIVE): Loupe, reference, Loupe, ..., Loupe, so
# every reference run sits between two Loupe runs (this shared host drifts by 10-20% within
# an hour). Prints each run, then a Markdown table: Loupe's and the reference's medians and
# ranges, and the ratio of each reference run to the mean of its two neighbouring Loupe runs.
# PYTHON picks the interpreter for the reference (default /root/venv-saelens/bin/python; it
# needs torch, transformers, gguf and numpy).
set -euo pipefail
source "$(dirname "$0")/common.sh"
rounds="${1:-2}" threads="${2:-2}"
bench="$(release_binary loupe-bench)"
load_average > "$work/load-start"
loupe_run() {
    "$bench" --trace --threads "$threads" --model "$model" --json "$work/loupe-$1.json" > "$work/loupe-$1.txt"
    echo "$(date -u +%H:%M:%S) Loupe $1: $(grep -o 'lanes: [0-9.]* s' "$work/loupe-$1.txt")" >&2
}
reference_run() {
    OMP_WAIT_POLICY=ACTIVE HF_HUB_OFFLINE=1 "$python" scripts/fixtures/tracing/make_trace_reference.py \
        --max-facts 1 --threads "$threads" --gguf "$model" --out "$work/reference-$1" > "$work/reference-$1.txt" 2>&1
    echo "$(date -u +%H:%M:%S) reference $1 done" >&2
}
loupe_run 0
for r in $(seq 1 "$rounds"); do reference_run "$r"; loupe_run "$r"; done
load_average > "$work/load-end"
python3 - "$work" "$rounds" "$threads" <<'PY'
import json, statistics, sys
w, rounds, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
loupe = [json.load(open(f"{w}/loupe-{r}.json"))["trace_full_seconds"] for r in range(rounds + 1)]
reference = [json.load(open(f"{w}/reference-{r}/reference.json"))["facts"][0]["seconds"] for r in range(1, rounds + 1)]
ratios = [reference[r - 1] / ((loupe[r - 1] + loupe[r]) / 2) for r in range(1, rounds + 1)]

def span(xs, f="{:.1f}"):
    return f"{f.format(statistics.median(xs))} ({f.format(min(xs))}-{f.format(max(xs))})"

kernels = next((line.strip() for line in open(f"{w}/loupe-0.txt") if "OpenBLAS" in line), "-")
print(f"| causal trace, Eiffel, 3 kinds x 30 layers, 10 samples ({threads} threads) | seconds |")
print("|---|---|")
print(f"| Loupe (`loupe-bench --trace`, {rounds + 1} runs) | {span(loupe)} |")
print(f"| ROME's loop (`make_trace_reference.py`, {rounds} runs) | {span(reference)} |")
print(f"| reference / Loupe, each reference run against its two neighbours | {span(ratios, '{:.2f}')}x |")
print()
print(f"Loupe: {kernels}; load average {open(f'{w}/load-start').read().strip()} before, "
      f"{open(f'{w}/load-end').read().strip()} after.")
PY
