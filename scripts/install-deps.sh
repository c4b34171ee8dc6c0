#!/usr/bin/env bash
# Installs everything torchprobe's build, tests and scripts need, from Debian's packages.
# Idempotent: packages already present are skipped, so a second run is quick and changes nothing.
# On Debian 12 (bookworm: LibTorch 1.13) everything; on Debian 13 (trixie: LibTorch 2.6, the root
# that scripts/debian13.sh makes) what the build and the test suite need, without the sanitizer
# toolchain and Slurm (those legs of .ci/run run on Debian 12 only).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopencv-dev libcli11-dev nlohmann-json3-dev libjpeg-dev zlib1g-dev
  libgtest-dev libgmock-dev googletest
  python3-torch python3-torchvision python3-opencv python3-numpy python3-pytest python3-pil
  libopenblas0-pthread
)
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" != "trixie" ]; then
  packages+=(slurmctld slurmd slurm-client munge clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
