#!/usr/bin/env bash
# Installs the dependencies, builds torchprobe (Release) and probes the bundled demo model with a
# built-in stimulus, printing the JSON responses.
#   scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

bash scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target torchprobe
echo "+ torchprobe layers models/demo.pt" >&2
"$BUILD_DIR/src/torchprobe" layers models/demo.pt >&2
echo "+ torchprobe run models/demo.pt --layer stem.bn --layer mixed --layer fc noise:7" >&2
"$BUILD_DIR/src/torchprobe" run models/demo.pt --layer stem.bn --layer mixed --layer fc noise:7
