#!/usr/bin/env bash
# Instructions per message (one push and one pop of a 256-byte message, every 8th critical),
# counted by callgrind: a figure the neighbours on a shared VM cannot move, for comparing two
# trees of the inbox in the same run. Each TREE is a checkout with a built build/ directory.
#   bench/instructions/run.sh OLD_TREE NEW_TREE ...
# The workload runs twice (N and 2N messages); the difference divided by N leaves out
# start-up. Wall-clock figures stay with sluice-bench: a cheaper path is not always faster.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v valgrind >/dev/null || { echo "run.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 69; }
[ $# -ge 1 ] || { echo "usage: $0 TREE [TREE...]" >&2; exit 64; }
n=20000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count() {  # count EXE MESSAGES: instructions the run executed
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for tree in "$@"; do
  exe="$work/workload-$(basename "$tree")"
  g++ -O2 -std=c++17 -DNDEBUG -I"$tree" "$here/workload.cpp" "$tree/build/inbox/libsluice_inbox.a" \
    -o "$exe" -lpthread
  a=$(count "$exe" "$n")
  b=$(count "$exe" $((2 * n)))
  echo "$tree ($(git -C "$tree" rev-parse --short HEAD)): $(( (b - a) / n )) instructions per message"
done
