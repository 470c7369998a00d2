#!/usr/bin/env bash
# bench/idle: what an omd left alone costs. A 4-node lab is started and left to settle; then, over two windows
# (30 s and 60 s), the CPU time of every omd is read from /proc/PID/task/*/schedstat (nanoseconds actually run, not
# the 10 ms ticks of /proc/PID/stat, which miss short wakeups) and its RSS. Goal (issue #20): under 0.5 % of a core
# each. Pass OM_BIN=... to measure another build of om, e.g. the one before a change, in the same conditions.
# usage: bench/idle/run.sh [--nodes 4] [--settle 15]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
nodes=4; settle=15
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
lab=benchidle
source "$here/../common.sh"
trap '"$om" lab down --name "$lab" > /dev/null 2>&1 || true' EXIT
lab_up --nodes "$nodes"
sleep "$settle"
daemons=$(pgrep -f "daemon --config /run/omlab/$lab/" || true)
[ -n "$daemons" ] || { echo "no omd of lab $lab found" >&2; exit 1; }
# run_ns PID -> nanoseconds all its threads have run so far
run_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s+=$1} END{print s}'; }
for window in 30 60; do
  declare -A before=()
  for p in $daemons; do before[$p]=$(run_ns "$p"); done
  load0=$(cut -d' ' -f1 /proc/loadavg)
  sleep "$window"
  shares=()
  for p in $daemons; do shares+=("$(awk -v a="${before[$p]}" -v b="$(run_ns "$p")" -v w="$window" 'BEGIN{printf "%.3f", (b-a)/1e9/w*100}')"); done
  rss=$(for p in $daemons; do awk '/VmRSS/{printf "%d ", $2/1024}' /proc/"$p"/status; done)
  echo "window ${window}s: omd CPU % of a core: ${shares[*]} (median $(median "${shares[@]}")); RSS MiB: $rss; load ${load0} → $(cut -d' ' -f1 /proc/loadavg)"
  unset before
done
