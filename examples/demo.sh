#!/usr/bin/env bash
# The main demo (replaced by the swarm demo in the launch issue).
set -euo pipefail
build=${1:?usage: examples/demo.sh BUILD_DIR}
echo "sluice demo: build ready in $build"
