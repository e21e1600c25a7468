#!/usr/bin/env bash
# Runs Loupe's tests on a fresh machine: installs what is missing, fetches the default
# model, then runs the whole suite in a release build (the real-model tests need optimized
# kernels; they skip themselves when LOUPE_MODEL points nowhere).
set -euo pipefail
cd "$(dirname "$0")/.."
export LOUPE_MODEL="${LOUPE_MODEL:-$(bash scripts/setup.sh | tail -n 1)}"
swift build -c release --build-tests
swift test -c release --skip-build
