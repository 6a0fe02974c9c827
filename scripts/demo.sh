#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" build
exec "$root/examples/demo.sh" "$root/build"
