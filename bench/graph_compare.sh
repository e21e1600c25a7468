#!/usr/bin/env bash
# Attribution graph of one prompt, Loupe against circuit-tracer on the same CPU, model and
# transcoders, interleaved:
#   bash bench/graph_compare.sh SET [ROUNDS=2] [THREADS=2] [PROMPT="The Eiffel Tower is located in the city of"]
# SET is a Loupe transcoder set (`loupe sae train-transcoders --layers all --out SET`; TopK).
# Each round runs bench/graph_circuit_tracer.py (circuit-tracer 0.5 on TransformerLens, the GGUF
# dequantized by transformers; PYTHON defaults to /root/venv-saelens/bin/python) and then
# `loupe graph ... --format json`, both with THREADS threads. Loupe's time is the whole command
# (model and set loading, forward, backward, pruning, scores, report); circuit-tracer's is its
# `attribute` call alone (its model and transcoder loading, about a minute, left out), so the
# ratio is conservative for Loupe. Prints each round, then a Markdown table of medians and ranges
# with the backward passes' share and peak RSS (GNU time for Loupe, ru_maxrss for Python).
set -euo pipefail
source "$(dirname "$0")/common.sh"
set_dir="${1:?usage: graph_compare.sh SET [ROUNDS] [THREADS] [PROMPT]}"
rounds="${2:-2}" threads="${3:-2}" prompt="${4:-The Eiffel Tower is located in the city of}"
loupe="$(release_binary loupe)"
for r in $(seq 1 "$rounds"); do
    "$python" bench/graph_circuit_tracer.py --set "$set_dir" --prompt "$prompt" --threads "$threads" 2>/dev/null \
        | grep '^{' > "$work/ct-$r.json"
    /usr/bin/time -f '%M' -o "$work/rss-$r" "$loupe" graph --prompt "$prompt" --transcoders "$set_dir" --threads "$threads" \
        --out-dir "$work/graph-$r" --format json 2>/dev/null > "$work/loupe-$r.json"
    python3 - "$work" "$r" <<'PY'
import json, sys
w, r = sys.argv[1], sys.argv[2]
c, l = json.load(open(f"{w}/ct-{r}.json")), json.load(open(f"{w}/loupe-{r}.json"))
print(f"round {r}: circuit-tracer {c['seconds']:.1f} s ({c['active_features']} features, {c['nodes']} nodes), "
      f"Loupe {l['seconds']:.1f} s ({l['activeFeatures']} features, {l['nodes']} nodes)")
PY
done
python3 - "$work" "$rounds" "$threads" "$prompt" <<'PY'
import json, statistics, sys
w, rounds, threads, prompt = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ct = [json.load(open(f"{w}/ct-{r}.json")) for r in range(1, rounds + 1)]
lo = [json.load(open(f"{w}/loupe-{r}.json")) for r in range(1, rounds + 1)]
rss = [int(open(f"{w}/rss-{r}").read().split()[-1]) / 1024 for r in range(1, rounds + 1)]
def span(xs, f="{:.1f}"):
    return f"{f.format(statistics.median(xs))} ({f.format(min(xs))}-{f.format(max(xs))})"
ratios = [c["seconds"] / l["seconds"] for c, l in zip(ct, lo)]
print(f"\n{prompt!r}: {len(lo[0]['tokens'])} tokens with <|endoftext|>, {threads} threads, {rounds} rounds\n")
print("| | Loupe | circuit-tracer | ratio |\n|---|---|---|---|")
print(f"| graph, seconds | {span([l['seconds'] for l in lo])} | {span([c['seconds'] for c in ct])} | {span(ratios, '{:.2f}')}x |")
print(f"| of which backward passes, s | {span([l['backwardSeconds'] for l in lo])} | {span([c['backward_seconds'] for c in ct])} | |")
print(f"| backward share | {span([l['backwardSeconds'] / l['seconds'] for l in lo], '{:.2f}')} | "
      f"{span([c['backward_seconds'] / c['seconds'] for c in ct], '{:.2f}')} | |")
print(f"| peak RSS, MB | {span(rss, '{:.0f}')} | {span([c['peak_rss_mb'] for c in ct], '{:.0f}')} | |")
print(f"| active features / nodes | {lo[0]['activeFeatures']} / {lo[0]['nodes']} | {ct[0]['active_features']} / {ct[0]['nodes']} | |")
PY
