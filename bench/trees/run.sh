#!/usr/bin/env bash
# bench/trees: fork-and-forget. Each figure is a ratio of two runs made side by side in this one run:
#  1. eight CPU jobs forked by one shell (`om run bash -c 'for ...; do JOB & done; wait'`) on node 1 of a 4-node lab
#     of half a CPU per node, next to the same eight jobs run straight on this machine's two CPUs;
#  2. `om run make -jJ` of a generated C code base (bench/trees/gen-sources.sh) on node 1 of the same lab, next to a
#     plain `make -jJ` of the same sources on this machine; the objects must be byte-identical;
#  3. the cost of being managed: a loop of N fork+exec+wait of /bin/true in a one-node lab (all CPUs), under om run
#     and without, alternated, the median of each.
# Goal (issue #13): 1 and 2 at most 1.25x, 3 at most 1.05x. Needs root (the lab).
# usage: bench/trees/run.sh [--seconds 6] [--units 16] [--functions 150] [--make-jobs 8] [--loop 10000] [--repeat 3]
#                           [--parts 123]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
seconds=6; units=16; functions=150; make_jobs=8; loop=10000; repeat=3; parts=123
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --units) units=$2; shift 2 ;;
    --functions) functions=$2; shift 2 ;;
    --make-jobs) make_jobs=$2; shift 2 ;;
    --loop) loop=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --parts) parts=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
make -s -C "$root/tests/Programs"
spinner=$root/tests/Programs/build/spinner
rate=$("$spinner" --rate)
lab=benchtree
work=$(mktemp -d /tmp/om-bench-trees.XXXXXX)
source "$here/../common.sh"
trap '"$om" lab down --name "$lab" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT


if [[ $parts == *1* ]]; then
jobs_script="for i in 1 2 3 4 5 6 7 8; do $spinner $seconds $rate > /dev/null & done; wait"
echo "== 1. eight CPU jobs forked by one shell ($seconds s of CPU each at $rate rounds/s)"
lab_up --nodes 4 --cpus 0.5
start=$(now); bash -c "$jobs_script"; direct=$(since "$start")
start=$(now); in_node "$om" run bash -c "$jobs_script"; managed=$(since "$start")
echo "straight on this machine: ${direct} s   om run on node 1 of 4 x 0.5 CPU: ${managed} s   ratio $(ratio "$managed" "$direct")"

fi

if [[ $parts == *2* ]]; then
echo "== 2. make -j$make_jobs of $units generated units of $functions functions"
bash "$here/gen-sources.sh" "$work/plain" "$units" "$functions"
bash "$here/gen-sources.sh" "$work/managed" "$units" "$functions"
start=$(now); make -s -j"$make_jobs" -C "$work/plain"; direct=$(since "$start")
start=$(now); in_node "$om" run make -s -j"$make_jobs" -C "$work/managed"; managed=$(since "$start")
for o in "$work"/plain/*.o; do cmp -s "$o" "$work/managed/$(basename "$o")" || { echo "objects differ: $(basename "$o")" >&2; exit 1; }; done
echo "straight on this machine: ${direct} s   om run on node 1 of 4 x 0.5 CPU: ${managed} s   ratio $(ratio "$managed" "$direct")   objects identical"

fi

if [[ $parts == *3* ]]; then
echo "== 3. $loop x fork+exec+wait of /bin/true, one node with all CPUs, median of $repeat"
lab_up --nodes 1
loop_script="for ((i = 0; i < $loop; i++)); do /bin/true; done"
plain=(); managed=()
for _ in $(seq "$repeat"); do
  start=$(now); in_node bash -c "$loop_script"; plain+=("$(since "$start")")
  start=$(now); in_node "$om" run bash -c "$loop_script"; managed+=("$(since "$start")")
done
p=$(median "${plain[@]}"); m=$(median "${managed[@]}")
echo "without om run: ${plain[*]} s (median $p)   under om run: ${managed[*]} s (median $m)   ratio $(ratio "$m" "$p")"
fi
