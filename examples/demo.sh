#!/usr/bin/env bash
# The main demo (README command 1): the swarm from examples/swarm.toml under `sluice launch`.
# Usage: examples/demo.sh BUILD_DIR   (scripts/demo.sh builds first, then calls this)
set -euo pipefail
build=$(cd "${1:?usage: examples/demo.sh BUILD_DIR}" && pwd)
sluice="$build/cli/sluice"
manifest="$build/examples/swarm.toml"
for f in "$sluice" "$build/examples/coordinator" "$manifest"; do
  [[ -e $f ]] || { echo "demo: $f is missing; build first (scripts/build.sh $build)" >&2; exit 1; }
done
# The agents of the build's manifest (it leaves out a binding that was not built).
agents=$(sed -n 's/^name = "\([^"]*\)".*/\1/p' "$manifest" | paste -sd' ')
echo "sluice demo: a coordinator fans 20,000 tasks out to workers in C++, bash, Python and Node.js"
echo "  agents: $agents"
echo "  $sluice launch $manifest"
echo
exec "$sluice" launch "$manifest"
