#!/usr/bin/env bash
# Installs every Debian package sluice needs to build, test and benchmark.
# Idempotent and quiet when everything is already there; run as root (or with sudo on PATH).
set -euo pipefail

build_packages=(
  cmake ninja-build g++ pkg-config git
  libcaf-dev libboost-dev libspdlog-dev libfmt-dev libssl-dev
  catch2 nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libbenchmark-dev lld
)
# Tools the test suite drives: flock/setpriv (util-linux), jq (the bash bus baseline),
# promtool (prometheus), tmux (sluice top), clang + compiler-rt (libFuzzer), hyperfine (bench/cli),
# chromium (the loadtest report), python3-jsonschema (result.json against its schema),
# redis-server and nats-server (sluice-bench bridge runs them beside the bridge; sluice-bench
# governance measures Redis limiters).
test_packages=(util-linux iproute2 jq procps prometheus tmux clang libclang-rt-14-dev hyperfine chromium
  python3-jsonschema redis-server nats-server)

want=("${build_packages[@]}")
if [[ "${1:-}" == "--with-tests" ]]; then want+=("${test_packages[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "sluice setup: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "sluice setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
