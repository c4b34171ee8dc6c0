#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# each for a bounded time on its seed corpus in tests/fuzz/corpus/.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   default 60 s, all seven targets
#   scripts/fuzz.sh 600 results_reader                 one target for 10 minutes
# Seeds: tests/fuzz/corpus/<target>/ (results_reader: results/, jsonl_reader: jsonl/); those of
# merge, resume and model_load are made by tests/fuzz/make_seeds.py.
# New inputs go to build-fuzz/corpus/<target>/ (the seeds stay untouched); crashes to
# build-fuzz/crashes/. Exit 1 if any target found a crash. FUZZ_FLAGS adds libFuzzer flags, e.g.
#   FUZZ_FLAGS="-fork=1 -ignore_crashes=1" scripts/fuzz.sh 600 model_load
# to keep going past crashes inside LibTorch's own parsers (docs/reliability.md), then triage the
# inputs in build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
BUILD_DIR=${BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTORCHPROBE_FUZZ=ON -DTORCHPROBE_BUILD_TESTS=OFF >/dev/null
targets=(stimulus_spec results_reader jsonl_reader image merge resume model_load)
if (($# > 1)); then targets=("${@:2}"); fi
cmake --build "$BUILD_DIR" --target "${targets[@]/%/_fuzzer}"
mkdir -p "$BUILD_DIR/crashes"
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
# torchprobe refuses JPEG/PNG headers declaring more than 2^28 pixels before decoding; hold
# OpenCV's other decoders (BMP, TIFF, WebP...) to the same bound, within libFuzzer's 2 GB.
export OPENCV_IO_MAX_IMAGE_PIXELS=$((1 << 28))
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for target in "${targets[@]}"; do
  seeds=tests/fuzz/corpus/${target%_reader}
  [ -d "$seeds" ] || seeds=tests/fuzz/corpus/$target
  [ "$target" = results_reader ] && seeds=tests/fuzz/corpus/results
  [ "$target" = jsonl_reader ] && seeds=tests/fuzz/corpus/jsonl
  work="$BUILD_DIR/corpus/$target"
  mkdir -p "$work"
  echo "== $target: ${SECONDS_PER_TARGET}s on $seeds" >&2
  # shellcheck disable=SC2086
  if ! "$BUILD_DIR/tests/fuzz/${target}_fuzzer" -max_total_time="$SECONDS_PER_TARGET" \
      ${FUZZ_FLAGS:-} -artifact_prefix="$BUILD_DIR/crashes/${target}-" -print_final_stats=1 \
      "$work" "$seeds" 2> "$BUILD_DIR/$target.log"; then
    echo "!! $target found a crash: see $BUILD_DIR/$target.log and $BUILD_DIR/crashes/" >&2
    status=1
  fi
  # Fork mode prints no final stats: its last progress line counts the inputs and crashes.
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$BUILD_DIR/$target.log" >&2 ||
    grep -E "^#[0-9]+: " "$BUILD_DIR/$target.log" | tail -n 1 >&2 || true
done
exit $status
