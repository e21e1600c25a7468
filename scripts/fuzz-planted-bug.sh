#!/usr/bin/env bash
# Checks that the fuzzers find a real bug: plants one in a copy of the sources (ByteReader's
# bounds check forgets its upper bound, so a truncated GGUF file reads past its end) and runs
# the GGUF harness on the copy for up to SECONDS (default 300). Succeeds when the harness
# fails (crash found, input left in the copy's fuzz/artifacts), fails when it does not.
#   bash scripts/fuzz-planted-bug.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
copy="$(mktemp -d)"; trap 'rm -rf "$copy"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$copy"
python3 - "$copy/Sources/Formats/ByteReader.swift" <<'PY'
import sys
path = sys.argv[1]
s = open(path).read()
sound = "guard n >= 0, n <= remaining else {"
assert s.count(sound) == 1, "the bounds check to break is not where this script expects it"
open(path, "w").write(s.replace(sound, "guard n >= 0 else {"))
PY
start=$(date +%s)
if (cd "$copy" && bash scripts/fuzz.sh "$seconds" FuzzGGUF) > "$copy/fuzz.log" 2>&1; then
    tail -n 5 "$copy/fuzz.log"
    echo "planted bug NOT found in $seconds s: the GGUF harness is not doing its job" >&2
    exit 1
fi
if ! grep -qE "deadly signal|ERROR: AddressSanitizer|ERROR: libFuzzer|Fatal error" "$copy/fuzz.log"; then
    tail -n 20 "$copy/fuzz.log"
    echo "the harness failed without a crash report (a build error?): nothing was shown" >&2
    exit 1
fi
grep -E "deadly signal|ERROR: AddressSanitizer|ERROR: libFuzzer|Fatal error" "$copy/fuzz.log" | head -n 3
echo "planted bug found by FuzzGGUF ($(( $(date +%s) - start )) s including the build); input: $(ls "$copy/fuzz/artifacts" | head -n 1)"
