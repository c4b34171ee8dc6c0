#!/usr/bin/env bash
# Example CI step: export a model, check its layer responses against committed golden responses,
# print the diff table when they differ.
#
# Usage:
#   scripts/ci/check-model.sh                 # check resnet18 against scripts/ci/golden/resnet18.json
#   scripts/ci/check-model.sh --update        # (re)write the golden file, then commit it
#
# Environment (all optional):
#   ARCH        torchvision architecture to export            (default resnet18)
#   GOLDEN      golden responses file, JSON or JSONL          (default scripts/ci/golden/$ARCH.json)
#   MODEL       an existing TorchScript file: skip the export (e.g. your own model's export step)
#   TORCHPROBE  the torchprobe binary                         (default: torchprobe on PATH)
#   PYTHON      Python with torch and torchvision             (default /usr/bin/python3)
#   RTOL, ATOL, SCALE_TOL  tolerances of the comparison       (default 1e-4, 1e-5, 1e-4)
#   WORK        where the model and the new responses go      (default: a temporary directory)
#
# Exit status: that of `torchprobe check`: 0 same within tolerance, 1 the responses changed
# (the table says where), 30 a stimulus file changed (not a model regression), 60 the golden file
# is unreadable, other codes as in the README's table. The export failing exits with its own code.
#
# The tolerances are looser than `torchprobe diff`'s defaults (1e-5, 1e-6, no scaled term): a
# golden file written on one machine is checked on others, where other kernels (AVX2 vs AVX-512,
# another oneDNN or BLAS build) sum in another order. The export itself is the same on every
# x86-64 CPU (export_model.py initialises in float64: same model.sha256), so only that rounding is
# left. It grows with the magnitude of the terms summed, so SCALE_TOL allows a fraction of each
# response's largest magnitude: resnet18's layer4 moved by up to 6e-6 of it between AVX-512, AVX2
# and plain kernels (ATEN_CPU_CAPABILITY), 8.9e-5 absolute on a value of 0.1 (outside RTOL 1e-4 of
# that value alone); 1e-4 leaves a margin of more than 15 and still fails any real change.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ARCH="${ARCH:-resnet18}"
GOLDEN="${GOLDEN:-$here/golden/$ARCH.json}"
TORCHPROBE="${TORCHPROBE:-torchprobe}"
PYTHON="${PYTHON:-/usr/bin/python3}"
RTOL="${RTOL:-1e-4}"
ATOL="${ATOL:-1e-5}"
SCALE_TOL="${SCALE_TOL:-1e-4}"
status=0
if [[ -z "${WORK:-}" ]]; then
  WORK="$(mktemp -d)"
  # Kept when the check fails, for the new responses.
  trap '[[ "$status" == 0 ]] && rm -rf "$WORK"' EXIT
fi

# What the golden file pins: a few layers from early to late, synthetic stimuli (no image files to
# keep next to it), the centre readout. Used by --update only: `check` reads them from the file.
LAYERS=(conv1 layer1 layer2.0.downsample.1 layer4 fc)
STIMULI=(noise:1 noise:2 uniform:0.5 uniform:0.5@160x192)

# 1. The model under test.
if [[ -z "${MODEL:-}" ]]; then
  MODEL="$WORK/$ARCH.pt"
  echo "== exporting $ARCH (random weights, seed 0) to $MODEL"
  "$PYTHON" "$root/scripts/export_model.py" "$ARCH" -o "$MODEL" --weights random --seed 0
fi

# 2a. --update: write the golden file from this model.
if [[ "${1:-}" == "--update" ]]; then
  mkdir -p "$(dirname "$GOLDEN")"
  args=()
  for layer in "${LAYERS[@]}"; do args+=(--layer "$layer"); done
  "$TORCHPROBE" run "$MODEL" "${STIMULI[@]}" "${args[@]}" --force -o "$GOLDEN"
  echo "== wrote $GOLDEN: commit it"
  exit 0
fi

# 2b. The check.
echo "== torchprobe check $MODEL --golden $GOLDEN (rtol $RTOL, atol $ATOL, scale-tol $SCALE_TOL)"
"$TORCHPROBE" check "$MODEL" --golden "$GOLDEN" --rtol "$RTOL" --atol "$ATOL" --scale-tol "$SCALE_TOL" \
  -o "$WORK/responses.json" > "$WORK/check.txt" || status=$?

case "$status" in
  0)
    tail -n 1 "$WORK/check.txt"
    echo "== OK: $ARCH responds as $GOLDEN records"
    ;;
  1)
    cat "$WORK/check.txt"
    echo "== FAILED: $ARCH's layer responses changed (table above; new responses in" \
         "$WORK/responses.json)." >&2
    echo "   If the change is intended, run '$0 --update' and commit $GOLDEN." >&2
    ;;
  *)
    cat "$WORK/check.txt"
    echo "== ERROR: torchprobe check exited $status (see the error above)" >&2
    ;;
esac
exit "$status"
