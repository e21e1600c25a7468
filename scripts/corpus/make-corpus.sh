#!/usr/bin/env bash
# Builds an English text corpus for `loupe capture --corpus` from Debian packages: installs
# them with apt when missing, extracts and cleans their text (scripts/corpus/corpus.py) and
# writes one {"text": ..., "source": ...} document per line. See scripts/corpus/README.md.
#   scripts/corpus/make-corpus.sh [OUT.jsonl]     default ~/.cache/loupe/corpus/english.jsonl
#   LOUPE_CACHE  cache folder (default ~/.cache/loupe)
#   LOUPE_BIN    a loupe binary to count tokens on a sample (default .build/release/loupe if built)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${LOUPE_CACHE:-$HOME/.cache/loupe}"
out="${1:-$cache/corpus/english.jsonl}"

need=()
for pkg in fortunes-min fortunes wordnet-base python3.11-doc debian-reference-en jargon-text python3; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "corpus: installing ${need[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

mkdir -p "$(dirname "$out")"
stats="$(python3 "$root/scripts/corpus/corpus.py" "$out" | tail -n 1)"

# Tokens: exact on a sample of documents with the model's tokenizer when a loupe binary is
# at hand, extrapolated by bytes; otherwise estimated at 4 bytes per token.
bin="${LOUPE_BIN:-$root/.build/release/loupe}"
sample_json=""
if [ -x "$bin" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # Every 20th document: the sample spans all sources.
  awk 'NR % 20 == 1' "$out" > "$tmp/sample.jsonl"
  if "$bin" tokenize --input "$tmp/sample.jsonl" --format json > "$tmp/tokens.json" 2>/dev/null; then
    sample_json="$tmp/tokens.json"
  fi
fi

python3 - "$out" "$stats" "$sample_json" <<'EOF'
import json, sys
out, stats, sample = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
if sample:
    entries = json.load(open(sample))
    tokens = sum(len(e["ids"]) for e in entries)
    nbytes = sum(len(e["text"].encode("utf-8")) for e in entries)
    ratio = nbytes / tokens
    how = f"{ratio:.2f} bytes/token measured with the model's tokenizer on {len(entries)} documents"
else:
    ratio, how = 4.0, "estimated at 4 bytes/token (build loupe to measure)"
for name, s in sorted(stats["sources"].items()):
    print(f"  {name:17} {s['documents']:6d} documents {s['bytes'] / 1e6:8.2f} MB")
print(f"dropped: {stats['duplicate_paragraphs']} duplicate and {stats['near_duplicate_paragraphs']} near-duplicate "
      f"paragraphs, {stats['duplicate_documents']} duplicate documents")
print(f"{out}: {stats['documents']} documents, {stats['bytes'] / 1e6:.2f} MB of text, "
      f"about {stats['bytes'] / ratio / 1e6:.2f}M tokens ({how})")
EOF
