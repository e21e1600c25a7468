#!/usr/bin/env bash
# Runs Loupe's tests on a fresh machine: installs what is missing, fetches the default
# model, runs the whole suite in a release build (the real-model tests need optimized
# kernels; they skip themselves when LOUPE_MODEL points nowhere), then reruns every text
# notebook and checks its recorded outputs (`loupe notebook run --check`); in between, the
# fuzz harnesses run briefly (scripts/fuzz.sh). Before building,
# scripts/check-layers.sh checks that module imports run downward only.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOUPE_MODEL="${LOUPE_MODEL:-$(bash scripts/setup.sh | tail -n 1)}"
bash scripts/check-layers.sh
swift build -c release --build-tests
swift test -c release --skip-build
# The parsers of untrusted files under libFuzzer + ASan, about a minute in all (fails on any
# crash, leak, huge allocation or hang; scripts/fuzz.sh SECONDS runs longer).
bash scripts/fuzz.sh 15
if [ -f "$LOUPE_MODEL" ]; then
    "$(swift build -c release --show-bin-path)/loupe" notebook run --check notebooks-text/*.md
else
    echo "notebooks not checked: no model at $LOUPE_MODEL" >&2
fi
