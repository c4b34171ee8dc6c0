#!/usr/bin/env bash
# Installs the built torchprobe into a scratch prefix, builds tests/downstream against it with
# find_package(torchprobe), and runs it on the demo model.
# Usage: tests/downstream/run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$source/tests/downstream" -B "$scratch/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" >"$scratch/build.log" 2>&1 || { cat "$scratch/build.log"; exit 1; }
out=$("$scratch/build/downstream" "$source/models/demo.pt" stem.bn)
echo "$out"
[ "$out" = "stem.bn [1, 16, 32, 32]" ]
