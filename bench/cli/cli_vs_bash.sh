#!/usr/bin/env bash
# sluice CLI against the bash file-per-message bus it replaces, measured in the same run with
# hyperfine (scripts/setup.sh --with-tests installs it):
#   1. start-up: `sluice count` of a missing inbox (parse, resolve the bus, no mapping)
#   2. one send into a non-full inbox: `sluice send` vs bash_bus.sh send
#   3. receive of 10 messages: `sluice recv` vs bash_bus.sh receive (the 10 messages are put
#      in by --prepare, which hyperfine does not time)
# Only one-shot verbs are measured: they run in `sluice` itself, never in a sluice-<feature>.
# Prints each median and the ratios; targets: sluice send <= 2 ms median and at
# least 10x faster than the bash send.
#
#   bench/cli/cli_vs_bash.sh [path/to/sluice] [runs]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
sluice=$(realpath "${1:-$here/../../build/cli/sluice}")
runs=${2:-300}
for tool in hyperfine jq flock; do
  command -v "$tool" >/dev/null || { echo "cli_vs_bash: needs $tool (scripts/setup.sh --with-tests)" >&2; exit 69; }
done
[[ -x $sluice ]] || { echo "cli_vs_bash: no sluice executable at $sluice; build it or pass its path" >&2; exit 66; }

work=$(mktemp -d /dev/shm/sluice-cli-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export SLUICE_DIR="$work/sluice-bus" BASH_BUS_DIR="$work/bash-bus"
# Both inboxes hold 1000 messages; the send runs stay far below that so neither is ever full.
export MAX_INBOX_SIZE=1000
payload='{"action":"process","data":"test"}'

# Prepare steps: empty the inbox (so sends never fill it) / put 10 messages in for a receive.
cat > "$work/drain.sh" <<EOF
"$sluice" clear bench-to >/dev/null
rm -rf "$BASH_BUS_DIR/inbox/bench-to"
EOF
cat > "$work/fill_sluice.sh" <<EOF
"$sluice" clear bench-to >/dev/null
for i in 0 1 2 3 4 5 6 7 8 9; do "$sluice" send bench-from bench-to task '$payload'; done
EOF
cat > "$work/fill_bash.sh" <<EOF
rm -rf "$BASH_BUS_DIR/inbox/bench-to"
for i in 0 1 2 3 4 5 6 7 8 9; do "$here/bash_bus.sh" send bench-from bench-to task '$payload'; done
EOF
"$sluice" init bench-to
bash "$work/drain.sh"

# Every send run starts from an emptied inbox so the bash inbox's `find | wc -l` does not
# grow with the run count (that would flatter sluice).
hyperfine --shell=none --warmup 20 --runs "$runs" --style basic \
  --export-json "$work/startup_send.json" \
  --command-name "sluice start-up (count, no inbox)" --prepare true "$sluice count nobody" \
  --command-name "sluice send" --prepare "bash $work/drain.sh" \
  "$sluice send bench-from bench-to task '$payload'" \
  --command-name "bash send" --prepare "bash $work/drain.sh" \
  "$here/bash_bus.sh send bench-from bench-to task '$payload'"

recv_runs=$(( runs / 3 > 30 ? runs / 3 : 30 ))
hyperfine --shell=none --warmup 5 --runs "$recv_runs" --style basic \
  --export-json "$work/recv.json" \
  --command-name "sluice recv 10" --prepare "bash $work/fill_sluice.sh" "$sluice recv bench-to" \
  --command-name "bash receive 10" --prepare "bash $work/fill_bash.sh" \
  "$here/bash_bus.sh receive bench-to"

# Each receive really returned 10 messages (a benchmark of an empty receive would lie).
bash "$work/fill_sluice.sh"; n_sluice=$("$sluice" recv bench-to | jq length)
bash "$work/fill_bash.sh"; n_bash=$("$here/bash_bus.sh" receive bench-to | jq length)
[[ $n_sluice == 10 && $n_bash == 10 ]] || { echo "cli_vs_bash: receive returned $n_sluice / $n_bash messages, not 10" >&2; exit 70; }

median_ms() { jq -r --arg name "$2" '.results[] | select(.command == $name) | .median * 1000' "$1"; }
# CPU time (user + system, mean) is printed too: on a machine shared with compiles the wall
# time mostly measures the scheduler, while CPU time still compares the work done.
cpu_ms() { jq -r --arg name "$2" '.results[] | select(.command == $name) | (.user + .system) * 1000' "$1"; }
row() {  # label file sluice-name bash-name
  awk -v label="$1" -v s="$(median_ms "$2" "$3")" -v b="$(median_ms "$2" "$4")" \
      -v sc="$(cpu_ms "$2" "$3")" -v bc="$(cpu_ms "$2" "$4")" \
    'BEGIN { printf "%-22s %9.3f %9.3f %7.1fx   %9.3f %9.3f %7.1fx\n", label, s, b, b / s, sc, bc, bc / sc }'
}
echo
echo "                       median wall time (ms)          CPU time, user+sys (ms)"
echo "                          sluice      bash   ratio      sluice      bash   ratio"
row "send, non-full inbox" "$work/startup_send.json" "sluice send" "bash send"
row "receive 10 messages" "$work/recv.json" "sluice recv 10" "bash receive 10"
awk -v s="$(median_ms "$work/startup_send.json" "sluice start-up (count, no inbox)")" \
    -v c="$(cpu_ms "$work/startup_send.json" "sluice start-up (count, no inbox)")" \
  'BEGIN { printf "%-22s %9.3f %28s %9.3f\n", "sluice start-up", s, "", c }'
s_send=$(median_ms "$work/startup_send.json" "sluice send")
b_send=$(median_ms "$work/startup_send.json" "bash send")
if libs=$(ldd "$sluice" 2>/dev/null | awk '/=>/ {print $1}' | tr '\n' ' ') && [[ -n $libs ]]; then
  echo "linking: dynamic, $(wc -w <<<"$libs") shared libraries ($libs)"
else
  echo "linking: static"
fi
# Instructions do not depend on the machine's load, unlike the wall times above.
instr() { perf stat -x, -e instructions:u "$@" 2>&1 >/dev/null | cut -d, -f1; }
if command -v perf >/dev/null && n_count=$(instr "$sluice" count nobody) && [[ $n_count =~ ^[0-9]+$ ]]; then
  echo "instructions (user): start-up (count) $n_count, send $(instr "$sluice" send bench-from bench-to task "$payload")"
fi
awk -v s="$s_send" -v b="$b_send" 'BEGIN {
  ok = (s <= 2.0 && b / s >= 10.0)
  printf "target sluice send <= 2 ms and >= 10x bash: %s\n", ok ? "met" : "NOT met"
  exit ok ? 0 : 1 }'
