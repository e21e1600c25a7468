# Sourced by the comparison scripts (compare.sh, trace_compare.sh, graph_compare.sh): moves
# to the repository root and sets what they share.
#   python  the peers' interpreter: PYTHON, default /root/venv-saelens/bin/python
#   model   the GGUF: LOUPE_MODEL, default the one scripts/setup.sh fetches into ~/.cache/loupe
#   work    a temporary folder, removed when the script exits
# release_binary PRODUCT builds PRODUCT (loupe, loupe-bench) in release and prints its path;
# load_average prints the first three fields of /proc/loadavg.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python="${PYTHON:-/root/venv-saelens/bin/python}"
model="${LOUPE_MODEL:-$HOME/.cache/loupe/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
release_binary() {
    swift build -c release --product "$1" >/dev/null
    echo "$(swift build -c release --show-bin-path)/$1"
}
load_average() { cut -d' ' -f1-3 /proc/loadavg; }
