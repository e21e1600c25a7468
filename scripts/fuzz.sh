#!/usr/bin/env bash
# Fuzzes Loupe's parsers of untrusted files with libFuzzer + AddressSanitizer:
#   bash scripts/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS...]
# Harnesses (fuzz/Sources): FuzzGGUF, FuzzSafetensors, FuzzTokenizerJSON, FuzzConfigJSON,
# FuzzNotebook (the notebook parser), FuzzPromptFile (.txt/.jsonl/.tsv prompt files; the
# input's first byte picks the kind).
# Each is seeded from the test fixtures, runs SECONDS (default 15) with a 2 GB memory limit,
# a 1 GB single-allocation limit and a 10 s per-input timeout, and the script fails on any
# crash, leak, over-limit allocation or timeout; the input that did it is left in
# fuzz/artifacts/. scripts/test.sh runs it briefly on every CI run; run it for longer
# (e.g. 3600) to look harder, or set LOUPE_FUZZ_RUNS=N to stop each harness after N inputs instead
# (SECONDS then only bounds the time). The per-input timeout is wall-clock: on a machine busy with
# other work raise it with LOUPE_FUZZ_TIMEOUT=SECONDS (default 10), or a starved input reads as a hang. Needs only the Swift toolchain (libFuzzer ships with it).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"; shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(FuzzGGUF FuzzSafetensors FuzzTokenizerJSON FuzzConfigJSON FuzzNotebook FuzzPromptFile)

# Instrumented for libFuzzer and ASan at compile time (-Xfrontend); linked with ASan and
# libFuzzer's runtime without its `main`: SwiftPM gives each executable its own entry, which
# the harness defines to start libFuzzer (fuzz/Sources/FuzzSupport).
runtime="$(ls "$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")"/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -n 1)"
flags=(-c debug --package-path fuzz -Xswiftc -sanitize=address -Xswiftc -Xfrontend -Xswiftc -sanitize=fuzzer,address
       -Xlinker "$runtime" -Xlinker -lstdc++)
swift build "${flags[@]}" 2>&1 | grep -E "error:|Build" | tail -3
bin="$(swift build "${flags[@]}" --show-bin-path)"

# Seed corpora from the fixtures (copied, so the fuzzer's additions stay out of the tree).
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{FuzzGGUF,FuzzSafetensors,FuzzTokenizerJSON,FuzzConfigJSON,FuzzNotebook,FuzzPromptFile} fuzz/artifacts
cp Tests/Fixtures/formats/tiny.gguf "$work/FuzzGGUF/"
for t in Tests/Fixtures/tokenizers/*/tokenizer.json Tests/Fixtures/models/*/tokenizer.json; do
    cp "$t" "$work/FuzzTokenizerJSON/$(basename "$(dirname "$t")").json"
done
for c in Tests/Fixtures/models/tiny-*/config.json; do cp "$c" "$work/FuzzConfigJSON/$(basename "$(dirname "$c")").json"; done
for n in notebooks-text/0[0-2]-*.md; do head -c 8192 "$n" > "$work/FuzzNotebook/$(basename "$n")"; done
# Prompt files: one byte for the kind (0 .txt, 1 .jsonl, 2 .tsv), then the file.
n=0
for f in $(find probes -name '*.jsonl' | head -n 3) $(find probes -name '*.tsv' | head -n 2) $(find probes -name '*.txt' | head -n 2); do
    case "$f" in *.txt) k='\x00';; *.jsonl) k='\x01';; *.tsv) k='\x02';; esac
    { printf "$k"; head -c 4096 "$f"; } > "$work/FuzzPromptFile/seed$n"; n=$((n + 1))
done
python3 - "$work/FuzzSafetensors" <<'PY'
import json, struct, sys
# Small, valid safetensors files (the fixtures' are hundreds of KB): F32, F16 and BF16 tensors.
def write(path, tensors):
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
write(sys.argv[1] + "/a.safetensors", {"w": ("F32", [2, 3], struct.pack("<6f", *range(6))), "b": ("F16", [2], b"\x00\x3c\x00\x40")})
write(sys.argv[1] + "/b.safetensors", {"x.weight": ("BF16", [1, 4], b"\x80\x3f" * 4)})
PY

export LOUPE_FUZZ_MODEL="$PWD/Tests/Fixtures/models/tiny-llama"
# Leaks in the toolchain's own libraries (listed, with the reason, in the file) are not ours.
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"
runs_flag=()
[ -z "${LOUPE_FUZZ_RUNS:-}" ] || runs_flag=(-runs="$LOUPE_FUZZ_RUNS")
failed=0
for h in "${harnesses[@]}"; do
    log="$work/$h.log"
    if "$bin/$h" "$work/$h" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout="${LOUPE_FUZZ_TIMEOUT:-10}" \
        -max_len=8192 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$h-" "${runs_flag[@]}" >"$log" 2>&1; then
        runs=$(grep -m1 "stat::number_of_executed_units" "$log" | awk '{print $2}')
        took=$(grep -m1 "stat::average_exec_per_sec" "$log" | awk -v r="${runs:-0}" '$2 > 0 { printf "%.0f", r / $2 }')
        echo "$h: ${runs:-?} inputs in ${took:-$seconds} s, no crash"
    else
        failed=1
        echo "$h: FAILED (input saved under fuzz/artifacts/)"
        grep -E "ERROR|==[0-9]+==|Fatal error|SUMMARY|Test unit written" "$log" | head -20
    fi
done
exit "$failed"
