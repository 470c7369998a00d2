#!/usr/bin/env bash
# bench/deputy/connect.sh: sockets created away (issue #15). connect.py under om run in node 1 of a 2-node lab makes N
# TCP connections to an echo server on node 1's loopback (one line each) and N unix sockets; then it is moved to
# node 2 and does it again, each internet socket made at home by its deputy (forwarding.sockets_created_away = "home",
# the default). Reports microseconds per connection and per unix socket, median over the rounds. Needs root.
# usage: bench/deputy/connect.sh [--connections 200] [--rounds 3] [--markdown]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
count=200; rounds=3; markdown=0
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) count=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
source "$here/wait.sh"
deputy_lab benchconn

declare -A results
for round in $(seq "$rounds"); do
  out=$work/out$round port=$((30000 + RANDOM % 20000))
  in_node python3 "$here/echoserver.py" "$port" > "$work/server$round" &
  servers+=($!)
  wait_for "$work/server$round" listening "${servers[-1]}"
  "$om" lab exec --name "$lab" 1 -- "$om" run python3 "$here/connect.py" "$port" "$count" < /dev/null > "$out" &
  runner=$!
  wait_for "$out" ready "$runner" 300
  "$om" lab exec --name "$lab" 1 -- "$om" migrate "$runner" 2 > /dev/null 2>&1
  kill -USR1 "$runner"
  wait "$runner"
  kill "${servers[-1]}" 2>/dev/null || true
  while read -r where what value; do results[$where.$what]+="$value "; done < <(grep -v ready "$out")
done
row() { local h m; h=$(median ${results[home.$1]}); m=$(median ${results[moved.$1]}); echo "$2 | $h | $m | $(ratio "$m" "$h")"; }
if [ "$markdown" = 1 ]; then
  echo "| $count each | at home (µs) | moved to node 2 (µs) | moved / home |"
  echo "|---|---|---|---|"
  echo "| $(row connect "new TCP connection to home's loopback, one line echoed") |"
  echo "| $(row unix "unix socket made and closed (the node's)") |"
else
  row connect "tcp connection"; row unix "unix socket"
fi
