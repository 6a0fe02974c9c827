#!/usr/bin/env bash
# Installs every Debian package sluice needs to build, test and benchmark.
# Idempotent and quiet when everything is already there; run as root (or with sudo on PATH).
set -euo pipefail

build_packages=(
  cmake ninja-build g++ pkg-config git
  libcaf-dev libboost-dev libspdlog-dev libfmt-dev libssl-dev
  catch2 nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libbenchmark-dev lld
  # bindings/: the Python module (pybind11) and the Node.js addon (node_api.h from
  # libnode-dev, node-addon-api's headers).
  python3-dev python3-pybind11 nodejs libnode-dev node-addon-api
)
# Tools the test suite drives: flock/setpriv (util-linux), jq (the bash bus baseline),
# promtool (prometheus), tmux (sluice top), clang + compiler-rt (libFuzzer), clang-format
# (scripts/format.sh --check), hyperfine (bench/cli), chromium (the loadtest report),
# python3-jsonschema (result.json against its schema),
# redis-server and nats-server (sluice-bench bridge runs them beside the bridge; sluice-bench
# governance measures Redis limiters), pytest and mypy (bindings/python and its type stubs),
# dpkg-dev (cpack's dpkg-shlibdeps, tests/install).
test_packages=(util-linux iproute2 jq procps prometheus tmux clang libclang-rt-14-dev clang-format
  hyperfine chromium python3-jsonschema redis-server nats-server python3-pytest mypy dpkg-dev)
# From npm, where npm is there: tsc and Node's declarations check bindings/node's index.d.ts
# (Debian has no @types/node).
npm_test_packages=(typescript@5 @types/node@20)

want=("${build_packages[@]}")
if [[ "${1:-}" == "--with-tests" ]]; then want+=("${test_packages[@]}"); fi

# A nodejs from NodeSource instead of Debian's ships node_api.h itself and cannot take
# Debian's libnode-dev or node-addon-api (they need Debian's nodejs); node-addon-api, headers
# only, then comes from npm, which that nodejs includes.
node_addon_api_from_npm=false
if dpkg-query -W -f='${Version}' nodejs 2>/dev/null | grep -q nodesource; then
  node_addon_api_from_npm=true
  for i in "${!want[@]}"; do
    [[ ${want[i]} == libnode-dev || ${want[i]} == node-addon-api ]] && unset 'want[i]'
  done
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
npm_want=()
if $node_addon_api_from_npm; then npm_want+=(node-addon-api@5); fi
if [[ "${1:-}" == "--with-tests" ]] && command -v npm >/dev/null; then npm_want+=("${npm_test_packages[@]}"); fi
npm_missing=()
if [[ ${#npm_want[@]} -gt 0 ]]; then
  npm_root=$(npm root --global)
  for p in "${npm_want[@]}"; do
    [[ -e $npm_root/${p%@*}/package.json ]] || npm_missing+=("$p")
  done
fi
[[ ${#missing[@]} -eq 0 && ${#npm_missing[@]} -eq 0 ]] && exit 0

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "sluice setup: need root (or sudo) to install: ${missing[*]} ${npm_missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "sluice setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ ${#npm_missing[@]} -gt 0 ]]; then
  echo "sluice setup: installing ${npm_missing[*]} with npm" >&2
  "${sudo_cmd[@]}" npm install --global --no-audit --no-fund --loglevel=error "${npm_missing[@]}" >/dev/null
fi
