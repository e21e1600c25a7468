#!/usr/bin/env bash
# One comparison of the engine against its peers, interleaved on the same thread count:
#   bash bench/compare.sh [ROUNDS=3] [THREADS=2]
# Each round runs `loupe-bench --quick` (release build: forward passes at 16 and 128 tokens,
# the same with every hook point captured, greedy generation of 64 tokens) and bench/peers.py
# (`transformers` forward and `generate`, TransformerLens `run_with_cache`, the same GGUF
# dequantized to float32), the order alternating between rounds. Prints one Markdown table of
# medians (ranges) over the rounds and the median of the per-round ratios, then the machine,
# the BLAS each side used and the load average before and after. PYTHON picks the interpreter
# for the peers (default /root/venv-saelens/bin/python; it needs torch, transformers, gguf,
# tokenizers, accelerate and transformer_lens). The other comparisons have their own commands:
# causal tracing (trace_compare.sh: `loupe-bench --trace` against scripts/fixtures/tracing/make_trace_reference.py),
# probes (bench/probes_sklearn.py), SNMF (snmf_compare.sh), SAE training (sae_compare.sh),
# attribution graphs (graph_compare.sh), weights in place against float32 (weights_compare.sh).
set -euo pipefail
source "$(dirname "$0")/common.sh"
rounds="${1:-3}" threads="${2:-2}"
bench="$(release_binary loupe-bench)"
load_average > "$work/load-start"
loupe_round() { "$bench" --quick --threads "$threads" --model "$model" --json "$work/loupe-$1.json" > "$work/loupe-$1.txt"; }
peers_round() {
    HF_HUB_OFFLINE=1 "$python" bench/peers.py --threads "$threads" --gguf "$model" --lengths 16,128 --tl-lengths 128 \
        --json "$work/peers-$1.json" > "$work/peers-$1.txt" 2>&1
}
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then loupe_round "$r"; peers_round "$r"; else peers_round "$r"; loupe_round "$r"; fi
    echo "round $r of $rounds done" >&2
done
load_average > "$work/load-end"
"$python" - "$work" "$rounds" "$threads" <<'PY'
import json, platform, statistics, sys
import torch
w, rounds, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
L = [json.load(open(f"{w}/loupe-{r}.json")) for r in range(1, rounds + 1)]
P = [json.load(open(f"{w}/peers-{r}.json")) for r in range(1, rounds + 1)]

def span(xs, f="{:.1f}"):
    return f"{f.format(statistics.median(xs))} ({f.format(min(xs))}-{f.format(max(xs))})"

def row(what, loupe, peer, peer_name, lower_is_better=True, unit=""):
    ratios = [(p / l if lower_is_better else l / p) for l, p in zip(loupe, peer)]
    print(f"| {what} | {span(loupe)}{unit} | {peer_name} {span(peer)}{unit} | {span(ratios, '{:.2f}')}x |")

print(f"| workload ({threads} threads, {rounds} rounds) | Loupe | peer | Loupe's speed-up |")
print("|---|---|---|---|")
for n in ("16", "128"):
    row(f"forward, {n} tokens, ms", [l[f"forward_{n}_ms"] for l in L],
        [p["forward"][n]["median_s"] * 1e3 for p in P], "`transformers`")
tl = [p.get("transformer_lens") or {} for p in P]
if all("run_with_cache" in t and "128" in t["run_with_cache"] for t in tl):
    row("every hook captured, 128 tokens, ms", [l["forward_128_all_hooks_ms"] for l in L],
        [t["run_with_cache"]["128"]["median_s"] * 1e3 for t in tl], "TransformerLens `run_with_cache`")
own = [l["forward_128_all_hooks_ms"] / l["forward_128_ms"] for l in L]
print(f"| every hook captured vs Loupe's plain pass, 128 tokens | {span(own, '{:.2f}')}x the time | | |")
row("greedy generation, 64 tokens, tokens/s", [l["generate_tokens_per_s"] for l in L],
    [p["generate"]["tokens_per_s"] for p in P], "`transformers` `generate`", lower_is_better=False)
kernels = next((line.strip() for line in open(f"{w}/loupe-1.txt") if "OpenBLAS" in line), "OpenBLAS (kernels not printed)")
import re
blas = re.findall(r"(?:BLAS|LAPACK)_INFO=[^,\s]+", torch.__config__.show())
print()
print(f"Machine: {platform.processor() or platform.machine()}, {open('/proc/cpuinfo').read().count('processor')} CPUs; "
      f"Loupe: {kernels}; torch {torch.__version__} ({', '.join(blas) or 'BLAS not reported'}), "
      f"transformers {P[0]['versions']['transformers']}, TransformerLens {tl[0].get('version', '-')}; "
      f"load average {open(f'{w}/load-start').read().strip()} before, {open(f'{w}/load-end').read().strip()} after.")
PY
