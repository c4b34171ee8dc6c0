#!/usr/bin/env bash
# Builds torchprobe and its tests with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DTORCHPROBE_SANITIZE=ON) and runs the test suite under them.
#   scripts/sanitize.sh [CTEST_REGEX]        e.g. scripts/sanitize.sh 'Capture|Readout'
# LibTorch itself is not instrumented: ASan checks torchprobe's own code and what it hands to
# LibTorch and OpenCV. Leak detection is off (LibTorch keeps global allocations alive at exit).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-asan}
bash scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTORCHPROBE_SANITIZE=ON >/dev/null
cmake --build "$BUILD_DIR"
export ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$BUILD_DIR"
ctest -j "$(nproc)" --output-on-failure --timeout 3600 ${1:+-R "$1"}
