#!/usr/bin/env bash
# Configures and builds sluice: scripts/build.sh [build-dir] [extra cmake args...]
# SLUICE_BUILD_TARGETS="a b" builds only those targets (scripts/demo.sh: examples).
# -g1 keeps line tables (backtraces, perf, sanitizer reports) but not full variable info:
# full debug info made objects 20-45 % slower to build. Configure a build directory of your
# own for a debugger session. lld (scripts/setup.sh installs it) links the test executables
# about 3x faster than ld.bfd.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-build}
shift || true
cd "$root"
linker=()
if command -v ld.lld >/dev/null; then linker=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld); fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" "${linker[@]}" "$@" >/dev/null
targets=()
if [[ -n ${SLUICE_BUILD_TARGETS:-} ]]; then read -ra targets <<<"--target $SLUICE_BUILD_TARGETS"; fi
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
