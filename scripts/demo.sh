#!/usr/bin/env bash
# Installs what is missing, builds what the demo needs (the `examples` target: sluice, its
# actor verbs, the example agents and the Python and Node.js bindings; not the tests or the
# benchmarks), and runs the main demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
SLUICE_BUILD_TARGETS=examples "$root/scripts/build.sh" build
exec "$root/examples/demo.sh" "$root/build"
