#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite:
#   scripts/test.sh [build-dir] [extra cmake args...]
# (.ci/run also uses it for the sanitizer builds.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-build}
shift || true
"$root/scripts/setup.sh" --with-tests
"$root/scripts/build.sh" "$build_dir" "$@"
cd "$root/$build_dir"
ctest --output-on-failure -j "$(nproc)" --timeout 600
