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
#   RTOL, ATOL  tolerances of the comparison                  (default 1e-4, 1e-5)
#   WORK        where the model and the new responses go      (default: a temporary directory)
#
# Exit status: that of `torchprobe check`: 0 same within tolerance, 1 the responses changed
# (the table says where), 30 a stimulus file changed (not a model regression), 60 the golden file
# is unreadable, other codes as in the README's table. The export failing exits with its own code.
#
# The tolerances are looser than `torchprobe diff`'s defaults (1e-5, 1e-6): a golden file written
# on one machine is checked on others, where another CPU or BLAS build rounds differently.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ARCH="${ARCH:-resnet18}"
GOLDEN="${GOLDEN:-$here/golden/$ARCH.json}"
TORCHPROBE="${TORCHPROBE:-torchprobe}"
PYTHON="${PYTHON:-/usr/bin/python3}"
RTOL="${RTOL:-1e-4}"
ATOL="${ATOL:-1e-5}"
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
echo "== torchprobe check $MODEL --golden $GOLDEN (rtol $RTOL, atol $ATOL)"
"$TORCHPROBE" check "$MODEL" --golden "$GOLDEN" --rtol "$RTOL" --atol "$ATOL" \
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
