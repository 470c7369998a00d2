#!/usr/bin/env bash
# bench/deputy/fifo.sh: reads of a FIFO and of a shared pipe through forwarded descriptors against the same at home,
# side by side in one run. fifo.py under om run in node 1 of a 2-node lab reads N MiB from fd 9 (a FIFO that cat fills
# from /dev/zero at home) and from fd 10 (a pipe cat fills at home, whose read end a sleeping process at home holds
# too, so that it is read ahead checked, as a FIFO is); then it is moved to node 2 and does it again, each read served
# through home. Reports MiB/s of each, median over the rounds. Needs root.
# usage: bench/deputy/fifo.sh [--mib 64] [--rounds 3] [--markdown]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
mib=64; rounds=3; markdown=0
while [ $# -gt 0 ]; do
  case "$1" in
    --mib) mib=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
source "$here/wait.sh"
deputy_lab benchfifo

declare -A results
for round in $(seq "$rounds"); do
  fifo=$work/fifo$round out=$work/out$round
  mkfifo "$fifo"
  { cat /dev/zero > "$fifo" || true; } &
  # The sleeper holds the pipe's read end as well (through fd 11): another reader at home, as far as home can tell.
  { cat /dev/zero || true; } | {
    exec 11<&0
    sleep 100000 0<&11 &
    echo $! > "$work/sleeper$round"
    # Its stdin comes from fd 11 by name: an asynchronous command's own stdin is /dev/null.
    "$om" lab exec --name "$lab" 1 -- "$om" run python3 "$here/fifo.py" "$mib" 10<&11 0< /dev/null 11<&- 9< "$fifo" > "$out" &
    echo $! > "$work/runner$round"
    wait $!
  } &
  runner_shell=$!
  wait_for "$out" ready "$runner_shell" 300
  runner=$(cat "$work/runner$round")
  "$om" lab exec --name "$lab" 1 -- "$om" migrate "$runner" 2 > /dev/null 2>&1
  kill -USR1 "$runner"
  servers+=("$(cat "$work/sleeper$round")")
  wait_for "$out" "moved shared" "$runner" 600
  # The sleeper's read end keeps cat writing to the pipe, and the pipeline (which wait waits for whole) running.
  kill "$(cat "$work/sleeper$round")" 2>/dev/null || true
  wait "$runner_shell" || true
  while read -r where what rate; do results[$where.$what]+="$rate "; done < "$out"
done
row() { local h m; h=$(median ${results[home.$1]}); m=$(median ${results[moved.$1]}); echo "$2 | $h | $m | $(ratio "$m" "$h")"; }
if [ "$markdown" = 1 ]; then
  echo "| $mib MiB | at home (MiB/s) | moved to node 2 (MiB/s) | moved / home |"
  echo "|---|---|---|---|"
  echo "| $(row fifo "read from fd 9, a FIFO written at home") |"
  echo "| $(row shared "read from fd 10, a pipe written at home that another process holds open for reading") |"
else
  row fifo "fifo read"; row shared "shared pipe read"
fi
