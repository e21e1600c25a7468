#!/usr/bin/env bash
# The SNMF issue's acceptance run on the default model: layer 15's MLP activations
# (blocks.15.mlp.hook_post) of the first ~20,000 corpus tokens (128-token windows of
# scripts/corpus/make-corpus.sh's corpus, position 0 left out), rank 100:
#   1% sparsity, SVD start, 300 iterations     -> relative error (target <= 0.82)
#   no sparsity, SVD start, 50 iterations      -> relative error (target <= 0.70), never rising
#   bash bench/snmf_acceptance.sh [WORKDIR=/tmp/loupe-snmf-acceptance]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/loupe-snmf-acceptance}"
mkdir -p "$work"
corpus="$HOME/.cache/loupe/corpus/english.jsonl"
[ -f "$corpus" ] || bash scripts/corpus/make-corpus.sh >&2
swift build -c release --product loupe >/dev/null
loupe="$(swift build -c release --show-bin-path)/loupe"
"$loupe" capture --corpus "$corpus" --context 128 --hooks blocks.15.mlp.hook_post --store "$work/acts.db" \
    --max-tokens 20160 --overwrite >&2
for run in "sparse 0.01 300" "dense 0 50"; do
    set -- $run
    "$loupe" snmf fit --store "$work/acts.db" --hook blocks.15.mlp.hook_post --rank 100 --sparsity "$2" \
        --iterations "$3" --tolerance 0 --patience 1000 --out "$work/$1" --format json > "$work/$1.json"
    python3 - "$work/$1.json" "$work/$1/loss.csv" "$1" <<'PY'
import csv, json, sys
s = json.load(open(sys.argv[1]))
errors = [float(r["relative_error"]) for r in csv.DictReader(open(sys.argv[2]))]
rises = sum(1 for a, b in zip(errors, errors[1:]) if b > a * (1 + 1e-6))
print(f"{sys.argv[3]}: {s['tokens']} tokens x {s['neurons']} neurons, rank {s['rank']}: relative error "
      f"{s['relativeError']:.4f} at iteration {s['bestIteration']} of {s['iterations']} (start {s['startRelativeError']:.4f}), "
      f"{rises} rising iterations, {s['seconds']:.1f} s")
PY
done
