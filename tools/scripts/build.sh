#!/usr/bin/env bash
# Configures and builds one build tree: build.sh DIR [extra cmake -D options...]
set -euo pipefail
dir=$1
shift
mkdir -p "$dir"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >"$dir/configure.log" 2>&1 || {
  cat "$dir/configure.log"
  exit 1
}
cmake --build "$dir" -j "$(nproc)"
