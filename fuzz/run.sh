#!/usr/bin/env bash
# fuzz/run.sh <seconds-per-target> [target...]: builds the libFuzzer targets with clang,
# ASan and UBSan in build-fuzz, then runs each one for the given time from its seed corpus
# (fuzz/corpus/<target>, kept read-only; new inputs go to build-fuzz/corpus/<target>), as many
# targets at a time as there are cores.
# Crashes, leaks and hangs (> 10 s for one input) are written to build-fuzz/artifacts/ and
# fail the run; commit a reproducer under fuzz/regressions/<target>/ and it is replayed on
# every run from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz/run.sh <seconds-per-target> [target...]}
shift
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(inbox_open_fuzz inbox_slots_fuzz config_fuzz manifest_fuzz cli_values_fuzz cli_argv_fuzz)
build=build-fuzz

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" \
  -DSLUICE_SANITIZE=address,undefined -DSLUICE_FUZZ=ON -DSLUICE_WERROR=OFF \
  -DSLUICE_WITH_CAF=OFF -DSLUICE_BUILD_TESTS=OFF -DSLUICE_BUILD_BENCH=OFF >/dev/null

# The fuzzed code reads these; the developer's own must not steer it.
unset SLUICE_DIR SLUICE_BUS MAX_INBOX_SIZE SLUICE_SLOT_SIZE SLUICE_CRITICAL_RESERVE XDG_CONFIG_HOME
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$build/artifacts"
if ! cmake --build "$build" -j2 --target "${targets[@]}"; then
  echo "== fuzz targets do not build"
  exit 1
fi

# One target: replay its regressions, then fuzz. Prints its own report, returns non-zero on a
# finding. Run as a background job, so the report goes to a file printed in target order.
fuzz_one() {
  local t=$1 status=0
  local work="$build/corpus/$t" log="$build/artifacts/$t.log"
  mkdir -p "$work"
  if [[ -d fuzz/regressions/$t ]] && compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    echo "== $t: replaying regressions"
    "$build/fuzz/$t" -timeout=10 -runs=1 fuzz/regressions/"$t"/* >"$log.replay" 2>&1 || {
      status=1
      tail -5 "$log.replay"
    }
  fi
  echo "== $t: fuzzing for $seconds s"
  if "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      -artifact_prefix="$build/artifacts/$t-" -print_final_stats=1 "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    echo "   $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') executions, no crash"
  else
    status=1
    echo "   FAILED: see $log and $build/artifacts/$t-*"
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5 || true
  fi
  return $status
}

# As many targets at once as there are cores: each fuzzer is single-threaded.
jobs=$(nproc)
declare -A pid_of
for t in "${targets[@]}"; do
  while (( $(jobs -rp | wc -l) >= jobs )); do wait -n || true; done
  fuzz_one "$t" >"$build/artifacts/$t.report" 2>&1 &
  pid_of[$t]=$!
done
status=0
for t in "${targets[@]}"; do
  wait "${pid_of[$t]}" || status=1
  cat "$build/artifacts/$t.report"
done
exit $status
