#!/usr/bin/env bash
# A shell agent: `sluice recv --follow` streams its tasks, `sluice send` answers each one.
# `sluice launch` sets SLUICE_AGENT, SLUICE_DIR and SLUICE_BIN (the sluice that launched it).
set -euo pipefail
sluice=${SLUICE_BIN:-sluice}
"$sluice" recv "$SLUICE_AGENT" --follow --jsonl | while IFS= read -r line; do
  [[ $line =~ \"from\":\"([^\"]+)\".*\"type\":\"task\".*\"payload\":\"?([0-9]+) ]] || continue
  "$sluice" send "$SLUICE_AGENT" "${BASH_REMATCH[1]}" result "${BASH_REMATCH[2]}"
done
