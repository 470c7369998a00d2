#!/usr/bin/env bash
# bench/deputy/bulk.sh: bulk transfer through forwarded descriptors against the same at home. bulk.py under om run in
# node 1 of a 2-node lab moves N MiB through fd 7 (a FIFO read at home by cat), reads N MiB from fd 8 (a pipe that
# cat fills from /dev/zero at home; only the program holds its read end), sends N MiB over a TCP connection to
# a sink in node 1 and receives N MiB over one from a source there; then it is moved to node 2 and does it again,
# each call carried home. Reports MiB/s of each, median over the rounds. Needs root.
# usage: bench/deputy/bulk.sh [--mib 256] [--rounds 3] [--markdown]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
mib=256; rounds=3; markdown=0
while [ $# -gt 0 ]; do
  case "$1" in
    --mib) mib=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
source "$here/wait.sh"
deputy_lab benchbulk

declare -A results
for round in $(seq "$rounds"); do
  fifo=$work/fifo$round out=$work/out$round port=$((30000 + RANDOM % 20000))
  mkfifo "$fifo"
  cat "$fifo" > /dev/null &
  in_node python3 "$here/bulkserver.py" "$port" > "$work/server$round" &
  servers+=($!)
  wait_for "$work/server$round" listening "${servers[-1]}"
  # The pipe reaches fd 8 through stdin, so that no shell here keeps its read end (a pipe another process reads is not
  # read ahead); cat ends by SIGPIPE once the program has.
  { cat /dev/zero || true; } | "$om" lab exec --name "$lab" 1 -- "$om" run python3 "$here/bulk.py" "$port" "$mib" 8<&0 0< /dev/null > "$out" 7> "$fifo" &
  runner=$!
  wait_for "$out" ready "$runner" 300
  "$om" lab exec --name "$lab" 1 -- "$om" migrate "$runner" 2 > /dev/null 2>&1
  kill -USR1 "$runner"
  wait "$runner"
  kill "${servers[-1]}" 2>/dev/null || true
  while read -r where what rate; do results[$where.$what]+="$rate "; done < "$out"
done
row() { local h m; h=$(median ${results[home.$1]}); m=$(median ${results[moved.$1]}); echo "$2 | $h | $m | $(ratio "$m" "$h")"; }
if [ "$markdown" = 1 ]; then
  echo "| $mib MiB | at home (MiB/s) | moved to node 2 (MiB/s) | moved / home |"
  echo "|---|---|---|---|"
  echo "| $(row pipe "written to fd 7, a FIFO read at home") |"
  echo "| $(row pipein "read from fd 8, a pipe written at home") |"
  echo "| $(row send "sent over TCP to a sink at home") |"
  echo "| $(row recv "received over TCP from a source at home") |"
else
  row pipe "fifo write"; row pipein "pipe read"; row send "tcp send"; row recv "tcp recv"
fi
