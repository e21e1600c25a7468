#!/usr/bin/env bash
# Attribution graphs of three facts the default model knows, through one transcoder set, as the
# table README's "Attribution graphs" section shows:
#   bash scripts/graphs/three-facts.sh SET [OUT]
# SET is a transcoder set folder (`loupe sae train-transcoders --layers all --out SET`); each
# graph's report goes to OUT/graph-<prompt>/ (default reports/). Prints a Markdown table: the
# prompt, the top logit and its probability, active features, nodes, kept nodes and edges,
# replacement and completeness scores, wall seconds (of which backward passes) and peak RSS.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
set_dir="${1:?usage: three-facts.sh SET [OUT]}"; out="${2:-$root/reports}"
export LOUPE_MODEL="${LOUPE_MODEL:-$(bash "$root/scripts/setup.sh" | tail -n 1)}"
swift build -c release --package-path "$root" --product loupe >&2
loupe="${LOUPE_BIN:-$root/.build/release/loupe}"
echo "| prompt | top logit (p) | active features | nodes | kept nodes | kept edges | replacement | completeness | seconds (backward) | peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|---|"
while IFS= read -r prompt; do
    slug="$(printf '%s' "$prompt" | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')"
    json="$(mktemp)"; timing="$(mktemp)"
    timer=(); [ -x /usr/bin/time ] && timer=(/usr/bin/time -f '%M' -o "$timing")   # peak RSS (Debian: apt install time)
    "${timer[@]}" "$loupe" graph --prompt "$prompt" --transcoders "$set_dir" \
        --out-dir "$out/graph-$slug" --format json > "$json"
    python3 - "$json" "$timing" "$prompt" <<'PY'
import json, sys
g = json.load(open(sys.argv[1])); t = open(sys.argv[2]).read().split()
rss = f"{int(t[-1]) / 1024:.0f} MB" if t else "n/a"
top = g["logits"][0]
print(f"| {sys.argv[3]} | {top['token']!r} ({top['probability']:.2f}) | {g['activeFeatures']:,} | {g['nodes']:,} | "
      f"{g['keptNodes']:,} | {g['keptEdges']:,} | {g['replacementScore']:.3f} | {g['completenessScore']:.3f} | "
      f"{g['seconds']:.1f} ({g['backwardSeconds']:.1f}) | {rss} |")
PY
    rm -f "$json" "$timing"
done <<'PROMPTS'
The Eiffel Tower is located in the city of
The Colosseum is located in the city of
The Acropolis is located in the city of
PROMPTS
