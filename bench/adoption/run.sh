#!/usr/bin/env bash
# bench/adoption (issue #19): what adoption costs, each figure a ratio of runs made side by side in this one run:
#  1. a loop of N fork+exec+wait of /bin/true in a one-node lab (all CPUs) under a [manage] rule that matches every
#     /bin/true (each is adopted at its exec), against the same loop with no rule; alternated, the median of each;
#  2. `om migrate PID 2` of a process started plainly (adopted on the spot) next to the same for one started with
#     `om run`, in a two-node lab: the time until it runs on node 2 (om migrate's own "in all"), median of R.
# Needs root (the lab).
# usage: bench/adoption/run.sh [--loop 10000] [--repeat 5]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
loop=10000; repeat=5
while [ $# -gt 0 ]; do
  case "$1" in
    --loop) loop=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
make -s -C "$root/tests/Programs"
spinner=$root/tests/Programs/build/spinner
lab=benchadopt
source "$here/../common.sh"
trap '"$om" lab down --name "$lab" > /dev/null 2>&1 || true' EXIT

move_ms() { in_node "$om" migrate --json "$1" 2 | sed -n 's/.*"totalMs": *\([0-9]*\).*/\1/p'; }

echo "== 1. $loop x fork+exec+wait of /bin/true, one node with all CPUs, median of $repeat"
lab_up --nodes 1
loop_script="for ((i = 0; i < $loop; i++)); do /bin/true; done"
true_path=$(readlink -f /bin/true)
plain=(); ruled=()
for _ in $(seq "$repeat"); do
  in_node "$om" mosctl manage --programs "" > /dev/null
  start=$(now); in_node bash -c "$loop_script"; plain+=("$(since "$start")")
  in_node "$om" mosctl manage --programs "$true_path" > /dev/null
  start=$(now); in_node bash -c "$loop_script"; ruled+=("$(since "$start")")
done
p=$(median "${plain[@]}"); r=$(median "${ruled[@]}")
echo "no rule: ${plain[*]} s (median $p)   [manage] programs = $true_path: ${ruled[*]} s (median $r)   ratio $(ratio "$r" "$p")"

[ "${skip_moves:-0}" = 1 ] && exit 0  # skip_moves=1: part 1 only
echo "== 2. om migrate to node 2: a process started plainly (adopted on the spot) and one started with om run, median of $repeat"
lab_up --nodes 2 --no-balance
rate=$("$spinner" --rate)
adopted=(); managed=()
for _ in $(seq "$repeat"); do
  # Not through in_node: a function in the background is a subshell, and $! would be that shell, not the program.
  "$om" lab exec --name "$lab" 1 -- "$spinner" 30 "$rate" > /dev/null & plain_job=$!
  "$om" lab exec --name "$lab" 1 -- "$om" run "$spinner" 30 "$rate" > /dev/null & run_job=$!
  sleep 1
  # Each goes first every other time: the first move of a round pays for a cold link and code.
  if [ $((${#adopted[@]} % 2)) = 0 ]; then
    adopted+=("$(move_ms "$plain_job")"); managed+=("$(move_ms "$run_job")")
  else
    managed+=("$(move_ms "$run_job")"); adopted+=("$(move_ms "$plain_job")")
  fi
  kill "$plain_job" "$run_job" 2> /dev/null || true
  wait "$plain_job" "$run_job" 2> /dev/null || true
done
a=$(median "${adopted[@]}"); m=$(median "${managed[@]}")
echo "started plainly: ${adopted[*]} ms (median $a)   started with om run: ${managed[*]} ms (median $m)   ratio $(ratio "$a" "$m")"
