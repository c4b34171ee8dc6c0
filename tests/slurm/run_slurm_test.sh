#!/usr/bin/env bash
# A real Slurm run: starts a single-node cluster on localhost (munged, slurmctld, slurmd in the
# foreground, no systemd) in a scratch directory, submits scripts/slurm/submit.sh over a folder of
# generated PNGs (the directory as the stimulus) (a 4-task job array plus the dependent merge job), waits with a bounded timeout,
# and checks that the merged file equals a single-process run byte for byte. The daemons are
# stopped by their PIDs on exit, whatever happens.
#
#   tests/slurm/run_slurm_test.sh TORCHPROBE_BIN SOURCE_DIR
#
# Needs root and Debian's slurmctld, slurmd, slurm-client and munge (scripts/install-deps.sh);
# installs nothing. Exits 77 (CTest: skipped) when not root. Runs are serialised with a lock file,
# and use their own munge socket and free ports, so concurrent test runs do not collide.
set -euo pipefail

BIN=$(realpath "$1")
SOURCE_DIR=$(realpath "$2")
PYTHON=${TORCHPROBE_PYTHON:-/usr/bin/python3}
TIMEOUT=${SLURM_TEST_TIMEOUT:-45}   # seconds for the jobs, after the cluster is up
SHARDS=4

log() { echo "slurm-test: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  log "skipped: needs root (munged runs as the munge user, slurmd as root)"
  exit 77
fi
for cmd in munged mungekey munge unmunge slurmctld slurmd sbatch squeue sinfo scancel setpriv flock; do
  command -v "$cmd" >/dev/null ||
    fail "'$cmd' not found: install slurmctld slurmd slurm-client munge (scripts/install-deps.sh)"
done

# One cluster at a time on this machine (ctest in several build directories at once).
exec 9>/tmp/torchprobe-slurm-test.lock
flock -w 120 9 || fail "another Slurm test holds /tmp/torchprobe-slurm-test.lock"

BASE=$(mktemp -d /tmp/torchprobe-slurm.XXXXXX)
chmod 755 "$BASE"
mkdir -p "$BASE"/{state,spool,pids,log,munge,stimuli,out}
PIDS=()  # started daemons, in start order

stop_pid() {  # SIGTERM, then SIGKILL after 5 s; a zombie counts as stopped
  local pid=$1 name=$2 i state
  [ -r "/proc/$pid/comm" ] || return 0
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    if [ -z "$state" ] || [ "$state" = Z ]; then return 0; fi
    sleep 0.1
  done
  log "$name ($pid) ignored SIGTERM: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  set +e
  if [ -n "${SLURM_CONF:-}" ] && [ -n "${JOBS:-}" ]; then scancel $JOBS 2>/dev/null; fi
  # Stop in reverse start order: slurmd, slurmctld, munged.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid ${PIDS[$i]}; done
  wait 2>/dev/null
  if [ $status -ne 0 ] && [ $status -ne 77 ]; then
    for f in "$BASE"/log/*.log "$BASE"/out/*.log; do
      [ -f "$f" ] && { echo "----- $f (last 30 lines)" >&2; tail -n 30 "$f" >&2; }
    done
  fi
  rm -rf "$BASE"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.1 s
  local seconds=$1 what=$2 i
  shift 2
  for ((i = 0; i < seconds * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "timed out after ${seconds}s waiting for $what"
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- munge, on its own socket and key ------------------------------------------------------
started=$(date +%s%N)
elapsed() { echo "$((($(date +%s%N) - started) / 1000000)) ms"; }
# The socket's directory must be searchable by all, the key's readable by munge alone.
mkdir -p "$BASE/munge-key"
chown munge:munge "$BASE/munge" "$BASE/munge-key"
chmod 755 "$BASE/munge"
chmod 700 "$BASE/munge-key"
mungekey --create --keyfile="$BASE/munge-key/munge.key" 2>/dev/null
chown munge:munge "$BASE/munge-key/munge.key"
chmod 600 "$BASE/munge-key/munge.key"
SOCKET=$BASE/munge/munge.socket
setpriv --reuid=munge --regid=munge --init-groups \
  munged --foreground --socket="$SOCKET" --key-file="$BASE/munge-key/munge.key" \
  --pid-file="$BASE/munge/munged.pid" --seed-file="$BASE/munge/munged.seed" \
  --log-file="$BASE/munge/munged.log" 2>"$BASE/log/munged.log" &
PIDS+=("$! munged")
wait_for 10 "munged's socket" test -S "$SOCKET"
munge --socket="$SOCKET" -n | unmunge --socket="$SOCKET" >/dev/null || fail "munge does not work"

# ---- slurmctld and slurmd ------------------------------------------------------------------
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
export SLURM_CONF=$BASE/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MailProg=/bin/true
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/pids/slurmctld.daemonpid
SlurmdPidFile=$BASE/pids/slurmd.daemonpid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i -f "$SLURM_CONF" 2>>"$BASE/log/slurmctld.err" &
PIDS+=("$! slurmctld")
slurmd -D -N localhost -f "$SLURM_CONF" 2>>"$BASE/log/slurmd.err" &
PIDS+=("$! slurmd")
node_idle() { [ "$(sinfo -h -N -n localhost -o %t 2>/dev/null)" = idle ]; }
wait_for 20 "the node to be idle" node_idle
log "cluster up after $(elapsed)"

# ---- the probe ------------------------------------------------------------------------------
"$PYTHON" - "$BASE/stimuli" <<'PY'
import sys
import cv2
import numpy as np
rng = np.random.default_rng(5)
for i in range(14):
    cv2.imwrite(f"{sys.argv[1]}/img{i:02d}.png", rng.integers(0, 256, (48, 56, 3), dtype=np.uint8))
PY
RUN_ARGS=("$SOURCE_DIR/models/demo.pt" --layer stem.bn --layer pool --readout mean
          --batch-size 2 --threads 1 --preprocess imagenet "$BASE/stimuli")

cd "$BASE"
export TORCHPROBE=$BIN
"$SOURCE_DIR/scripts/slurm/submit.sh" "$SHARDS" "$BASE/out" "${RUN_ARGS[@]}" >&2
read -r ARRAY MERGE <"$BASE/out/jobs"
JOBS="$ARRAY $MERGE"
jobs_gone() { [ -z "$(squeue -h -j "$ARRAY,$MERGE" -o %i 2>/dev/null)" ]; }
# squeue polled every 0.1 s: faster than sbatch --wait.
wait_for "$TIMEOUT" "jobs $ARRAY and $MERGE to finish" jobs_gone
JOBS=

[ -f "$BASE/out/all.jsonl" ] || fail "the merge job wrote no $BASE/out/all.jsonl"
for ((k = 1; k <= SHARDS; k++)); do
  [ -f "$BASE/out/part-$k-of-$SHARDS.jsonl" ] || fail "no part $k of $SHARDS"
done
"$BIN" run "${RUN_ARGS[@]}" -o "$BASE/single.jsonl" 2>/dev/null
cmp "$BASE/single.jsonl" "$BASE/out/all.jsonl" || fail "the merged output differs from a single run"
records=$(($(wc -l <"$BASE/out/all.jsonl") - 1))
[ "$records" -eq 14 ] || fail "expected 14 records, found $records"
log "PASS: $SHARDS array tasks + merge equal the single run ($records records), $(elapsed)"
