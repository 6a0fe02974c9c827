#!/usr/bin/env bash
# The main demo (README command 1): the swarm from examples/swarm.toml under `sluice launch`.
# Usage: examples/demo.sh BUILD_DIR   (scripts/demo.sh builds first, then calls this)
set -euo pipefail
build=$(cd "${1:?usage: examples/demo.sh BUILD_DIR}" && pwd)
sluice="$build/cli/sluice"
for f in "$sluice" "$build/examples/coordinator" "$build/examples/swarm.toml"; do
  [[ -e $f ]] || { echo "demo: $f is missing; build first (scripts/build.sh $build)" >&2; exit 1; }
done
echo "sluice demo: 1 coordinator, 8 workers (5 C++, 1 deliberately slow, 2 bash), 20,000 tasks"
echo "  $sluice launch $build/examples/swarm.toml"
echo
exec "$sluice" launch "$build/examples/swarm.toml"
