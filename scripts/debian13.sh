#!/usr/bin/env bash
# Builds and tests torchprobe against Debian 13's LibTorch 2.6 in a Debian 13 (trixie) root.
#
#   scripts/debian13.sh                       # build (build-debian13/) and run the whole suite
#   scripts/debian13.sh -- CMD [ARGS...]      # run CMD inside the root, in the source tree
#   scripts/debian13.sh --prepare             # only create the root and install the dependencies
#
# The root is made once with `debootstrap --variant=minbase trixie` and kept outside the build tree
# at $DEBIAN13_ROOT (default /var/cache/torchprobe/debian13; about 6.5 GB), then reused: it is
# remade only when its creation did not finish, and scripts/install-deps.sh is rerun inside it when
# that script changed. The source tree is bind-mounted at /src inside the root, so build outputs
# (build-debian13/, its test models and reference outputs) are visible from the host as well.
#
# The mounts (/proc, /dev, /dev/pts, /sys, the source) are made in a private mount namespace
# (unshare --mount): they vanish with this script's process on every exit path, even a kill, and
# are never seen by the host's other processes. Needs root. The command inside gets a clean
# environment but for CI and the variables that select CPU kernels (ATEN_CPU_CAPABILITY,
# ONEDNN_MAX_CPU_ISA, DNNL_MAX_CPU_ISA, OPENBLAS_CORETYPE: scripts/test-isa.sh).
#
# Environment: DEBIAN13_ROOT, BUILD_DIR (default build-debian13), CTEST_ARGS (extra ctest
# arguments, e.g. "-R cli.test_check"), CTEST_EXCLUDE (tests to leave out besides Slurm's, as
# regex alternatives, e.g. "cli.test_diff|cli.test_shard_merge"), JOBS.
#
# The whole suite runs but slurm_array_merge: Slurm and munge are not installed in the root (the
# single-node cluster set-up is Debian 12's, see shared/design/slurm.md), and that test exercises
# the sbatch scripts, not LibTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE=$(pwd)
ROOT=${DEBIAN13_ROOT:-/var/cache/torchprobe/debian13}
BUILD_DIR=${BUILD_DIR:-build-debian13}
JOBS=${JOBS:-$(nproc)}

if [ "$(id -u)" -ne 0 ]; then
  echo "debian13.sh: needs root (debootstrap, chroot, mounts)" >&2
  exit 2
fi

create_root() {
  local done_stamp="$ROOT/.torchprobe-debootstrap-done"
  [ -f "$done_stamp" ] && return 0
  if ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  if [ -e "$ROOT" ]; then
    echo "debian13.sh: removing the unfinished root $ROOT" >&2
    rm -rf --one-file-system "$ROOT"
  fi
  mkdir -p "$(dirname "$ROOT")"
  echo "debian13.sh: debootstrap --variant=minbase trixie $ROOT" >&2
  debootstrap --variant=minbase trixie "$ROOT" >"$ROOT.debootstrap.log" 2>&1 || {
    tail -n 20 "$ROOT.debootstrap.log" >&2
    exit 1
  }
  touch "$done_stamp"
}

# Inside the private mount namespace: mounts, then the command under chroot.
enter() {
  mkdir -p "$ROOT/src"
  mount --bind "$SOURCE" "$ROOT/src"
  mount -t proc proc "$ROOT/proc"
  mount --rbind /sys "$ROOT/sys"
  mount --rbind /dev "$ROOT/dev"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
  local deps_stamp="$ROOT/.torchprobe-deps"
  local want
  want=$(sha256sum scripts/install-deps.sh | cut -d' ' -f1)
  if [ "$(cat "$deps_stamp" 2>/dev/null)" != "$want" ]; then
    chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      bash /src/scripts/install-deps.sh
    echo "$want" >"$deps_stamp"
  fi
  [ "$#" -eq 0 ] && return 0
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    ${CI:+CI=$CI} ${ATEN_CPU_CAPABILITY:+ATEN_CPU_CAPABILITY=$ATEN_CPU_CAPABILITY} \
    ${ONEDNN_MAX_CPU_ISA:+ONEDNN_MAX_CPU_ISA=$ONEDNN_MAX_CPU_ISA} \
    ${DNNL_MAX_CPU_ISA:+DNNL_MAX_CPU_ISA=$DNNL_MAX_CPU_ISA} \
    ${OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE} \
    bash -c 'cd /src && "$@"' bash "$@"
}

if [ "${TORCHPROBE_IN_NAMESPACE:-}" = 1 ]; then
  enter "$@"
  exit $?
fi

case "${1:-}" in
  --prepare) command=() ;;
  --) shift; command=("$@") ;;
  "") command=(bash -c "cmake -S . -B '$BUILD_DIR' -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null \
        && cmake --build '$BUILD_DIR' -j $JOBS \
        && cd '$BUILD_DIR' && ctest -j $JOBS --output-on-failure --timeout 1800 -E '^(slurm_array_merge${CTEST_EXCLUDE:+|$CTEST_EXCLUDE})\$' ${CTEST_ARGS:-}") ;;
  *) echo "debian13.sh: unknown argument '$1' (see the usage at the top of this script)" >&2; exit 2 ;;
esac

create_root
TORCHPROBE_IN_NAMESPACE=1 exec unshare --mount --propagation private "$0" "${command[@]}"
