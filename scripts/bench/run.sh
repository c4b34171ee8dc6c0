#!/usr/bin/env bash
# The benchmark of issue 8: torchprobe against two Python ways of reading layer responses.
#
#   scripts/bench/run.sh [--quick] [--images N] [--repeats R] [--no-build]
#   scripts/bench/run.sh --quick            # 64 images, 1 repeat: a smoke test of a few minutes
#   BUILD_DIR=/tmp/b scripts/bench/run.sh   # build dir (default build/), cache in $BUILD_DIR/bench-cache
#
# One invocation: builds torchprobe and torchprobe_compute_bench (Release), prepares the inputs
# (prepare.py: googlenet with seeded random weights, N deterministic 256x256 JPEGs), checks once
# that torchprobe's centre values equal the hooks peer's, then runs, interleaved and repeated R
# times (tool order rotated each repeat), for each workload:
#   torchprobe run MODEL --layer ... DIR/ -o out.json --batch-size 16 --threads 2 --readout center
#   torchprobe run ... --no-crop                     (when this build has receptive-field cropping)
#   peers.py hooks / peers.py fx (/usr/bin/python3, Debian's torch: the same LibTorch kernels)
# each on N images and on 1 image (startup: steady-state img/s = (N - 1) / (T_N - T_1)), and
# torchprobe_compute_bench (preloaded tensors, with and without cropping). --quick (64 images,
# 1 repeat) measures startup and compute-only on inception3a only, to finish in a few minutes.
# Unless --quick, it ends with batch_memory.py: peak RSS of a streaming run of 2000 images vs 200
# (target: within 10%). Wall times are from process start to JSON written; peak RSS from
# /usr/bin/time %M. report.py prints the table of
# medians and the targets met or missed, and writes $BUILD_DIR/bench-cache/results.md.
#
# Options the CLI may lack are detected from `torchprobe run --help` (directory stimuli, @LIST
# files, --no-crop, --quiet, --fit); stimuli then go as @LIST or as file arguments.
# Exit codes: 0 done (whether or not targets are met), 1 a run failed, 2 bad arguments.
set -euo pipefail

SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$SOURCE/scripts/bench
PY=/usr/bin/python3
BUILD_DIR=${BUILD_DIR:-$SOURCE/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$SOURCE/$BUILD_DIR ;; esac
CACHE=$BUILD_DIR/bench-cache
JOBS=${JOBS:-$(nproc)}
BATCH=16
THREADS=2

usage() { sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//'; }
QUICK=0 IMAGES="" REPEATS="" BUILD=1
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --images) IMAGES=${2:?--images needs a count}; shift ;;
    --repeats) REPEATS=${2:?--repeats needs a count}; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then IMAGES=${IMAGES:-64} REPEATS=${REPEATS:-1}; fi
IMAGES=${IMAGES:-1000} REPEATS=${REPEATS:-3}
[[ $IMAGES =~ ^[0-9]+$ && $IMAGES -ge 2 && $REPEATS =~ ^[0-9]+$ && $REPEATS -ge 1 ]] ||
  { echo "error: --images must be >= 2 and --repeats >= 1" >&2; exit 2; }

TP=$BUILD_DIR/src/torchprobe
CB=$BUILD_DIR/src/torchprobe_compute_bench
if ((BUILD)); then
  echo "== building torchprobe and torchprobe_compute_bench in $BUILD_DIR" >&2
  cmake -S "$SOURCE" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS" --target torchprobe torchprobe_compute_bench >/dev/null
fi
[[ -x $TP ]] || { echo "error: no '$TP'; run without --no-build" >&2; exit 1; }

echo "== preparing inputs in $CACHE" >&2
$PY "$BENCH/prepare.py" --cache "$CACHE" --images "$IMAGES" 4 1
MODEL=$CACHE/googlenet.pt
STATE=$CACHE/googlenet_state.pt
WORK=$CACHE/work
mkdir -p "$WORK"
RUNS=$CACHE/runs.tsv
LOG=$CACHE/bench.log
: >"$LOG"

# What this torchprobe offers.
HELP=$("$TP" run --help 2>&1)
has() { grep -q -- "$1" <<<"$HELP"; }
TP_OPTS=(--batch-size "$BATCH" --threads "$THREADS" --readout center)
has '--fit' && TP_OPTS+=(--fit stretch)   # the peers stretch to 224x224
has '--quiet' && TP_OPTS+=(--quiet)
CROP=0; has '--no-crop' && CROP=1
FEATURES="directories=$(has 'directories' && echo yes || echo no) @LIST=$(has '@LIST' && echo yes || echo no)"
FEATURES+=" --no-crop=$( ((CROP)) && echo yes || echo no) --fit=$(has '--fit' && echo yes || echo no)"
FEATURES+=" --quiet=$(has '--quiet' && echo yes || echo no) --workers=$(has '--workers' && echo 'yes (default)' || echo no)"

# Stimulus arguments for the folder of `count` images: DIR/, else @LIST, else the files.
stimuli_for() {
  local count=$1
  if has 'directories'; then echo "$CACHE/images-$count/"
  elif has '@LIST'; then echo "@$CACHE/images-$count.txt"
  else cat "$CACHE/images-$count.txt"; fi
}

# run_tool TOOL COUNT OUT LAYER... : runs one tool on `count` images; sets MS (wall time, ms) and
# RSS_KB (peak RSS), or exits 1 if the tool fails.
run_tool() {
  local tool=$1 count=$2 out=$3; shift 3
  local layers=() l
  for l in "$@"; do layers+=(--layer "$l"); done
  local stimuli
  mapfile -t stimuli < <(stimuli_for "$count")
  local cmd
  case $tool in
    torchprobe) cmd=("$TP" run "$MODEL" "${layers[@]}" "${stimuli[@]}" -o "$out" "${TP_OPTS[@]}") ;;
    torchprobe-nocrop) cmd=("$TP" run "$MODEL" "${layers[@]}" "${stimuli[@]}" -o "$out" "${TP_OPTS[@]}" --no-crop) ;;
    hooks|fx) cmd=($PY "$BENCH/peers.py" "$tool" "$STATE" "${layers[@]}" "${stimuli[@]}" -o "$out"
                   --batch-size "$BATCH" --threads "$THREADS") ;;
  esac
  rm -f "$out"
  local start end rc=0
  start=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$WORK/time.txt" "${cmd[@]}" >>"$LOG" 2>&1 || rc=$?
  end=$(date +%s%N)
  if ((rc != 0)) || [[ ! -s $out ]]; then
    echo "error: $tool on $count images ($*) failed with exit code $rc; the end of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
  MS=$(( (end - start) / 1000000 ))
  RSS_KB=$(tail -n 1 "$WORK/time.txt")
}

echo "== correctness: torchprobe vs hooks peer, conv1 centre values, 4 images" >&2
run_tool torchprobe 4 "$WORK/check-torchprobe.json" conv1
run_tool hooks 4 "$WORK/check-hooks.json" conv1
CHECK=$($PY "$BENCH/report.py" compare "$WORK/check-torchprobe.json" "$WORK/check-hooks.json" \
  --layer conv1 --tolerance 1e-4) || { echo "$CHECK" >&2; exit 1; }
echo "$CHECK" >&2

declare -A WORKLOADS=(
  [conv1]="conv1" [inception3a]="inception3a" [inception4e]="inception4e"
  [three]="conv1 inception3a inception4e" [fc]="fc")
ORDER=(conv1 inception3a inception4e three fc)
TOOLS=(torchprobe hooks fx)
((CROP)) && TOOLS=(torchprobe torchprobe-nocrop hooks fx)
CB_ARGS=(--seconds 3 --min-batches 5); ((QUICK)) && CB_ARGS=(--seconds 1 --min-batches 2)

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo -e "repeat\tworkload\ttool\timages\tmilliseconds\trss_kb\trate" >"$RUNS"
for ((r = 0; r < REPEATS; r++)); do
  for w in "${ORDER[@]}"; do
    read -r -a layers <<<"${WORKLOADS[$w]}"
    n=${#TOOLS[@]}
    for ((k = 0; k < n; k++)); do
      tool=${TOOLS[$(( (k + r) % n ))]}
      counts=("$IMAGES")
      # --quick: startup (1 image) measured on inception3a only and used for every workload.
      if ((QUICK == 0)) || [[ $w == inception3a ]]; then counts+=(1); fi
      for count in "${counts[@]}"; do
        echo "-- repeat $((r + 1))/$REPEATS $w $tool $count image(s)" >&2
        run_tool "$tool" "$count" "$WORK/$tool-$w-$count.json" "${layers[@]}"
        echo -e "$r\t$w\t$tool\t$count\t$MS\t$RSS_KB\t-" >>"$RUNS"
      done
    done
    if [[ -x $CB ]] && { ((QUICK == 0)) || [[ $w == inception3a ]]; }; then
      cb_layers=(); for l in "${layers[@]}"; do cb_layers+=(--layer "$l"); done
      for crop in crop nocrop; do
        extra=(); [[ $crop == nocrop ]] && extra=(--no-crop)
        echo "-- repeat $((r + 1))/$REPEATS $w compute-only ($crop)" >&2
        line=$("$CB" "$MODEL" "${cb_layers[@]}" --batch-size "$BATCH" --threads "$THREADS" \
               "${CB_ARGS[@]}" "${extra[@]}" 2>>"$LOG") ||
          { echo "error: torchprobe_compute_bench failed; see $LOG" >&2; exit 1; }
        echo "$line" >>"$WORK/compute-$w-$crop.jsonl"
        read -r rate build_ms < <($PY -c 'import json, sys; d = json.loads(sys.argv[1]);
print(d["images_per_s"], round(d["build_seconds"] * 1000))' "$line")
        echo -e "$r\t$w\tcompute-$crop\t-\t$build_ms\t-\t$rate" >>"$RUNS"
      done
    fi
  done
done

MACHINE="$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; torchprobe $(git -C "$SOURCE" describe --always --dirty 2>/dev/null || echo '(no git)')"
QUICK_ARG=(); ((QUICK)) && QUICK_ARG=(--startup-from inception3a)
$PY "$BENCH/report.py" table "$RUNS" --images "$IMAGES" --repeats "$REPEATS" "${QUICK_ARG[@]}" \
  --machine "$MACHINE" --features "$FEATURES" --check "$CHECK" \
  --crop-info "$WORK/torchprobe-inception3a-$IMAGES.json" \
  --markdown "$CACHE/results.md"

# Flat memory (issue 8's last target): peak RSS of a streaming run of 2000 images vs 200.
if ((QUICK == 0)); then
  echo "== memory: 200 vs 2000 images at inception3a, JSON Lines (batch_memory.py)" >&2
  MEM_RC=0
  MEM=$($PY "$BENCH/batch_memory.py" --bin "$TP" --keep "$CACHE/memory" --threads "$THREADS" \
        --batch-size "$BATCH") || MEM_RC=$?
  ((MEM_RC <= 1)) || { echo "error: batch_memory.py failed ($MEM_RC)" >&2; exit 1; }
  echo "$MEM"
  { echo; echo '```'; echo "$MEM"; echo '```'; } >>"$CACHE/results.md"
fi
