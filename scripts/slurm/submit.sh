#!/usr/bin/env bash
# Probes a stimulus list on a Slurm cluster: a job array of N shards, then a merge job that runs
# only if every shard succeeded (afterok).
#
#   scripts/slurm/submit.sh N OUTDIR MODEL --layer NAME [run options] STIMULUS...
#
# Writes OUTDIR/part-K-of-N.jsonl, OUTDIR/probe-K.log, then OUTDIR/all.jsonl and OUTDIR/merge.log;
# prints the two job ids. sbatch's own environment variables choose partition, time limit and
# resources (SBATCH_PARTITION, SBATCH_TIMELIMIT, SBATCH_ACCOUNT, ...), and $TORCHPROBE the binary.
# Resubmitting the same command continues the unfinished parts (--resume).
set -euo pipefail

if [ $# -lt 3 ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
n=$1
outdir=$2
shift 2
case $n in '' | *[!0-9]* | 0) echo "submit.sh: N must be a positive integer, not '$n'" >&2; exit 2 ;; esac
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

array=$(sbatch --parsable --array="1-$n" --output="$outdir/probe-%a.log" \
  "$here/probe-array.sbatch" "$outdir" "$@")
array=${array%%;*}  # --parsable prints JOBID or JOBID;CLUSTER
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$outdir/merge.log" "$here/merge.sbatch" "$outdir" "$n")
merge=${merge%%;*}
echo "submitted array job $array ($n shards) and merge job $merge -> $outdir/all.jsonl"
echo "$array $merge" >"$outdir/jobs"
