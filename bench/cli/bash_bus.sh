#!/usr/bin/env bash
# The file-per-message bus that sluice replaces, rebuilt from the seed's documentation
# (../../../shared/reference/bash-rate-limiting.md) as the baseline for cli_vs_bash.sh. It does
# what the seed's send_with_backpressure + send_message did on the fast path (inbox not full):
#   validate names, count the inbox (capacity check), flock a per-pair sequence file and
#   increment it, build the message JSON with jq, write a temp file, rename it into the inbox.
# receive lists the inbox directory, sorts, cats the files into a JSON array and removes them.
#
#   BASH_BUS_DIR=/dev/shm/x bash_bus.sh send <from> <to> <type> <payload>
#   BASH_BUS_DIR=/dev/shm/x bash_bus.sh receive <agent>
set -euo pipefail

bus=${BASH_BUS_DIR:?set BASH_BUS_DIR}
max_inbox_size=${MAX_INBOX_SIZE:-1000}
name_rule='^[A-Za-z0-9_-]{1,64}$'

validate() {
  [[ $1 =~ $name_rule ]] || { echo "invalid agent name: $1" >&2; exit 65; }
}

send() {
  local from=$1 to=$2 type=$3 payload=$4
  validate "$from"
  validate "$to"
  local inbox="$bus/inbox/$to"
  mkdir -p "$inbox" "$bus/seq"
  # check_inbox_capacity: the seed counted files with find | wc -l.
  local size
  size=$(find "$inbox" -maxdepth 1 -name '*.json' | wc -l)
  if (( size >= max_inbox_size )); then
    echo "inbox $to full" >&2
    exit 75
  fi
  local seq_file="$bus/seq/$from-$to"
  local seq
  {
    flock 9
    seq=$(( $(cat "$seq_file" 2>/dev/null || echo 0) + 1 ))
    echo "$seq" > "$seq_file"
  } 9>"$seq_file.lock"
  local now_ns msg_id
  now_ns=$(date +%s%N)
  msg_id="msg-$now_ns-$seq-$RANDOM"
  local payload_arg=(--arg payload "$payload")
  if jq -e . >/dev/null 2>&1 <<<"$payload"; then payload_arg=(--argjson payload "$payload"); fi
  local tmp
  tmp=$(mktemp "$inbox/.tmp.XXXXXX")
  jq -cn --arg msg_id "$msg_id" --arg from "$from" --arg to "$to" --arg type "$type" \
    --argjson timestamp "$(( now_ns / 1000000 ))" --argjson sequence "$seq" "${payload_arg[@]}" \
    '{version:1,msg_id:$msg_id,from:$from,to:$to,timestamp:$timestamp,sequence:$sequence,type:$type,priority:"normal",payload:$payload}' \
    > "$tmp"
  mv "$tmp" "$inbox/$now_ns-$msg_id.json"
}

receive() {
  local agent=$1
  validate "$agent"
  local inbox="$bus/inbox/$agent"
  local files=()
  if [[ -d $inbox ]]; then
    mapfile -t files < <(ls "$inbox" | grep '\.json$' | sort)
  fi
  local sep=""
  printf '['
  for f in "${files[@]}"; do
    printf '%s' "$sep"
    cat "$inbox/$f"
    rm -f "$inbox/$f"
    sep=","
  done
  printf ']\n'
}

case ${1:-} in
  send) shift; send "$@" ;;
  receive) shift; receive "$@" ;;
  *) echo "usage: bash_bus.sh send <from> <to> <type> <payload> | receive <agent>" >&2; exit 64 ;;
esac
