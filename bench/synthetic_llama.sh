#!/usr/bin/env bash
# A 1.7B-parameter Llama in Q4_K (random weights, SmolLM2-1.7B's shape, the default model's
# tokenizer) made by bench/make_synthetic_llama.py, then loaded and run by `loupe generate`
# with the weights in place: peak resident memory (GNU time's maximum RSS, which counts the
# mapped file's pages as they are read), load time, prompt time and generation speed.
#   bash bench/synthetic_llama.sh [TOKENS=16] [THREADS=2]
# The model (0.96 GB) is written once to ${SYNTH_DIR:-/tmp/loupe-synth}. Needs NumPy and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
tokens="${1:-16}" threads="${2:-2}" dir="${SYNTH_DIR:-/tmp/loupe-synth}"
source_model="${LOUPE_MODEL:-$HOME/.cache/loupe/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
model="$dir/synthetic-1.7b-q4_k.gguf"
mkdir -p "$dir"
[ -f "$model" ] || python3 bench/make_synthetic_llama.py --tokenizer-from "$source_model" --out "$model"
swift build -c release --product loupe >/dev/null
loupe="$(swift build -c release --show-bin-path)/loupe"
for prompt in "The capital of France is" \
              "The capital of France is Paris and the capital of Spain is Madrid, and the capital of Italy is"; do
    out=$(/usr/bin/time -v "$loupe" generate --model "$model" --threads "$threads" --max-tokens "$tokens" --ignore-eos "$prompt" 2>&1 >/dev/null)
    rss=$(grep "Maximum resident set size" <<<"$out" | awk '{printf "%.0f", $6 / 1024}')
    echo "$(grep -o 'loaded .* in [0-9.]* s' <<<"$out"); $(grep -o '[0-9]* tokens, .*stop' <<<"$out" | sed 's/, stop//'); peak RSS ${rss} MB"
done
