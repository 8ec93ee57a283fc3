# Shared by scripts/demo and scripts/test: install what is missing, then configure and build.
# Sourced, not run. Idempotent: every step checks before it acts.
set -euo pipefail

THOR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
THOR_BUILD="${THOR_BUILD:-$THOR_ROOT/build}"
THOR_JOBS="${THOR_JOBS:-$(nproc)}"

# Debian packages the project builds, tests and plots with.
THOR_PACKAGES=(
  build-essential cmake pkg-config clang-format
  libtorch-dev libeigen3-dev libtbb-dev libyaml-cpp-dev libboost-program-options-dev
  doctest-dev nlohmann-json3-dev zlib1g-dev liblbfgspp-dev libstb-dev
  dataset-fashion-mnist gnuplot-nox
  python3-sklearn python3-numpy python3-torch python3-torchvision
  libopenmpi-dev openmpi-bin
)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local missing=()
  for p in "${THOR_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "Debian packages: all ${#THOR_PACKAGES[@]} present"
    return
  fi
  say "Installing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build_thor() {
  if [ ! -f "$THOR_BUILD/CMakeCache.txt" ]; then
    say "Configuring (Release) into $THOR_BUILD"
    cmake -S "$THOR_ROOT" -B "$THOR_BUILD" -DCMAKE_BUILD_TYPE=Release
  fi
  say "Building with $THOR_JOBS jobs (only what changed)"
  cmake --build "$THOR_BUILD" -j "$THOR_JOBS"
}
