#!/usr/bin/env bash
# bench/deputy: the cost of a forwarded descriptor. A python3 program under om run in node 1 of a 2-node lab writes
# one byte at a time to fd 7 (a FIFO read at home) N times, at home (a plain write) and again once it has been moved to
# node 2 (each write carried home and answered: seccomp notification, the node link, home's write, the answer).
# Reports the mean per write of each, median over the rounds; and the same for a write to /dev/null (local wherever the
# program runs: what the forwarding filter costs the calls it lets through). Needs root.
# usage: bench/deputy/run.sh [--writes 2000] [--rounds 3] [--markdown]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
writes=2000; rounds=3; markdown=0
while [ $# -gt 0 ]; do
  case "$1" in
    --writes) writes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
lab=benchdep
source "$here/../common.sh"
work=$(mktemp -d)
trap '"$om" lab down --name "$lab" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
lab_up --nodes 2 --cpus 1,1 --no-balance

source "$here/wait.sh"

home=(); moved=(); homenull=(); movednull=()
for round in $(seq "$rounds"); do
  fifo=$work/fifo$round out=$work/out$round
  mkfifo "$fifo"
  cat "$fifo" > /dev/null &
  "$om" lab exec --name "$lab" 1 -- "$om" run python3 "$here/roundtrip.py" "$writes" > "$out" 7> "$fifo" &
  runner=$!
  wait_for "$out" ready "$runner"
  # om lab exec and om run both exec: the background job's PID is the program's.
  pid=$runner
  "$om" lab exec --name "$lab" 1 -- "$om" migrate "$pid" 2 > /dev/null 2>&1
  kill -USR1 "$pid"
  wait "$runner"
  wait
  home+=("$(awk '/^home /{print $2}' "$out")"); moved+=("$(awk '/^moved /{print $2}' "$out")")
  homenull+=("$(awk '/^homenull /{print $2}' "$out")"); movednull+=("$(awk '/^movednull /{print $2}' "$out")")
done
h=$(median "${home[@]}"); m=$(median "${moved[@]}"); hn=$(median "${homenull[@]}"); mn=$(median "${movednull[@]}")
if [ "$markdown" = 1 ]; then
  echo "| write of 1 byte | at home | moved to node 2 | ratio |"
  echo "|---|---|---|---|"
  echo "| to fd 7, a FIFO read at home (forwarded once moved) | $h µs | $m µs | $(ratio "$m" "$h") |"
  echo "| to /dev/null (local everywhere) | $hn µs | $mn µs | $(ratio "$mn" "$hn") |"
else
  echo "fd 7: local write ${h} µs, forwarded write ${m} µs ($(ratio "$m" "$h")x); /dev/null: ${hn} µs at home, ${mn} µs moved ($(ratio "$mn" "$hn")x)"
fi
