#!/usr/bin/env bash
# Runs the test suite with LibTorch, oneDNN and OpenBLAS kept off the newer vector units, so that a
# machine with AVX-512 tests what a user's AVX2-only CPU (or one without AVX) computes. Every
# process inherits the restriction: the test-model export, the hooks reference and torchprobe.
#
#   scripts/test-isa.sh [avx2|default] [CTEST_REGEX]
#     avx2     ATEN_CPU_CAPABILITY=avx2, ONEDNN_MAX_CPU_ISA=DNNL_MAX_CPU_ISA=AVX2,
#              OPENBLAS_CORETYPE=Haswell                                        (the default)
#     default  ATEN_CPU_CAPABILITY=default (no vector kernels), oneDNN SSE41 (its minimum),
#              OPENBLAS_CORETYPE=Nehalem (SSE only)
#   e.g. scripts/test-isa.sh avx2 'cli.test_check|cli.test_readme_examples'
#
# Uses the Release build in $BUILD_DIR (default build/, made by scripts/test.sh; built here if
# missing). The test models are exported again under the restriction into
# $BUILD_DIR/test-models-ISA and must come out byte for byte the same as the unrestricted ones in
# $BUILD_DIR/test-models (when those exist): scripts/export_model.py initialises in float64 so that
# the weights do not depend on the CPU. Hooks reference outputs are cached per restriction.
# OPENBLAS_CORETYPE is left as it is where the machine already sets it (older OpenBLAS builds
# need that on some processors).
set -euo pipefail
cd "$(dirname "$0")/.."
ISA=${1:-avx2}
REGEX=${2:-}
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

case "$ISA" in
  avx2) aten=avx2 onednn=AVX2 openblas=Haswell ;;
  default) aten=default onednn=SSE41 openblas=Nehalem ;;
  *) echo "test-isa.sh: unknown instruction set '$ISA': give avx2 or default" >&2; exit 2 ;;
esac
export ATEN_CPU_CAPABILITY=$aten ONEDNN_MAX_CPU_ISA=$onednn DNNL_MAX_CPU_ISA=$onednn
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-$openblas}
export TORCHPROBE_TEST_MODELS_DIR
TORCHPROBE_TEST_MODELS_DIR=$(pwd)/$BUILD_DIR/test-models-$ISA

if [ ! -x "$BUILD_DIR/src/torchprobe" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS"
fi

# Say what is in force, from LibTorch itself.
/usr/bin/python3 -c 'import torch; print(torch.__config__.show())' | grep -i "CPU capability" \
  | sed "s/^ */test-isa: /" >&2
echo "test-isa: ONEDNN_MAX_CPU_ISA=$ONEDNN_MAX_CPU_ISA OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE" >&2

(cd "$BUILD_DIR" && ctest -j "$JOBS" --output-on-failure --timeout 1800 ${REGEX:+-R "$REGEX"})

# The export does not depend on the instruction set: same files as the unrestricted export.
if [ -d "$BUILD_DIR/test-models" ]; then
  differ=0
  for restricted in "$TORCHPROBE_TEST_MODELS_DIR"/*.pt; do
    plain="$BUILD_DIR/test-models/$(basename "$restricted")"
    if [ -f "$plain" ] && ! cmp -s "$restricted" "$plain"; then
      echo "test-isa: $(basename "$restricted") exported under $ISA differs from $plain" >&2
      differ=1
    fi
  done
  [ "$differ" = 0 ] || exit 1
  echo "test-isa: every test model exported under $ISA equals the unrestricted export" >&2
fi
