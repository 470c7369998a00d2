#!/usr/bin/env bash
# bench/balance: makespan of CPU-bound jobs started on one node of a 4-node lab, with omd balancing and without,
# next to the ideal (total work / total capacity), measured in the same run; then the simulator at 1,000 and 10,000
# nodes against none/random/roundrobin; and memory: processes growing on one node of 1 GiB nodes, with ushering and
# without (how many the OOM killer took). Needs root (the lab).
# The ideal is measured too: the same jobs run straight on this machine, without lab or omd, just before each lab run
# (total work / total capacity, where the capacity is what these CPUs deliver at that moment: the rate a spinner
# measures alone varies by ±7% from run to run on these machines). Balanced runs are repeated (--repeat) and each is
# paired with its own measured ideal; the median ratio is reported with every ratio.
# usage: bench/balance/run.sh [--jobs 16] [--seconds 5] [--repeat 3] [--hogs 5] [--hog-mib 400] [--markdown]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
jobs=16; seconds=5; repeat=3; markdown=0; hogs=5; hog_mib=400
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --hogs) hogs=$2; shift 2 ;;
    --hog-mib) hog_mib=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
make -s -C "$root/tests/Programs"
spinner=$root/tests/Programs/build/spinner
memgrow=$root/tests/Programs/build/memgrow
# Every job does the same work: rounds counted at a rate measured once, here, before the lab is up.
rate=$("$spinner" --rate)
lab=benchbal
trap '"$om" lab down --name "$lab" > /dev/null 2>&1 || true' EXIT

elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}'; }
# direct -> seconds until JOBS spinners run straight on this machine (no lab, no omd) are done
direct() {
  local start pids=()
  start=$(date +%s.%N)
  for _ in $(seq "$jobs"); do "$spinner" "$seconds" "$rate" > /dev/null & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done
  elapsed "$start"
}
# makespan CPUS BALANCE(1|0) -> seconds until all JOBS spinners, started on node 1, are done
makespan() {
  "$om" lab down --name "$lab" > /dev/null 2>&1 || true
  local flags=(); [ "$2" = 1 ] || flags=(--no-balance)
  "$om" lab up --name "$lab" --nodes 4 --cpus "$1" "${flags[@]}" > /dev/null
  local start pids=()
  start=$(date +%s.%N)
  for _ in $(seq "$jobs"); do
    "$om" lab exec --name "$lab" 1 -- "$om" run "$spinner" "$seconds" "$rate" > /dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  elapsed "$start"
}
# memory BALANCE(1|0) -> "finished killed peak_MiB_per_node": HOGS memgrow processes of HOG_MIB growing at 40 MiB/s
# on node 1 of four 1 GiB nodes (started as iojobs: only memory moves them), held 4 s, checked, counted.
memory() {
  "$om" lab down --name "$lab" > /dev/null 2>&1 || true
  local flags=(); [ "$1" = 1 ] || flags=(--no-balance)
  "$om" lab up --name "$lab" --nodes 4 --mem 1G "${flags[@]}" > /dev/null
  local pids=() ok=0 killed=0 peaks=()
  for _ in $(seq "$hogs"); do
    "$om" lab exec --name "$lab" 1 -- "$om" run --iojob "$memgrow" "$hog_mib" 40 4 > /dev/null 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do
    if wait "$p"; then ok=$((ok + 1)); else [ $? -eq 137 ] && killed=$((killed + 1)); fi
  done
  for n in 1 2 3 4; do peaks+=($(( $(cat /sys/fs/cgroup/memory/omlab-$lab/n$n/memory.max_usage_in_bytes) >> 20 ))); done
  echo "$ok $killed $(IFS=/; echo "${peaks[*]}")"
}
# nominal CPUS -> total work / total capacity by the rate measured alone
nominal() { awk -v j="$jobs" -v s="$seconds" -v c="$1" 'BEGIN{n=split(c,a,","); t=0; for(i=1;i<=n;i++) t+=a[i]; printf "%.1f", j*s/t}'; }
# measured CPUS DIRECT -> the ideal scaled from the direct run on all of this machine's CPUs to the lab's capacity
measured() { awk -v d="$2" -v c="$1" -v m="$(nproc)" 'BEGIN{n=split(c,a,","); t=0; for(i=1;i<=n;i++) t+=a[i]; printf "%.1f", d*m/t}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : sprintf("%.2f", (v[NR/2]+v[NR/2+1])/2)}'; }

rows=()
for cpus in 0.5,0.5,0.5,0.5 0.25,0.5,0.5,0.75; do
  runs=() ratios=()
  for _ in $(seq "$repeat"); do
    best=$(measured "$cpus" "$(direct)"); with=$(makespan "$cpus" 1)
    runs+=("$with/$best"); ratios+=("$(ratio "$with" "$best")")
  done
  best=$(measured "$cpus" "$(direct)"); without=$(makespan "$cpus" 0)
  rows+=("$cpus|$(nominal "$cpus")|${runs[*]}|$(echo "${ratios[*]}" | median)|${ratios[*]}|$without/$best|$(ratio "$without" "$best")")
done

read -r mem_ok mem_killed mem_peaks <<< "$(memory 1)"
read -r nomem_ok nomem_killed nomem_peaks <<< "$(memory 0)"
swap=$(awk 'NR > 1 { used += $4 } END { print used + 0 }' /proc/swaps)

sim1=$("$om" sim --nodes 1000 --jobs "10000,len=uniform:30-90,mem=uniform:16-256,on=first:100" --speeds uniform:5000-20000)
sim2=$("$om" sim --nodes 10000 --jobs "100000,len=uniform:30-90,mem=uniform:16-256,on=first:1000" --speeds uniform:5000-20000)

if [ "$markdown" = 1 ]; then
  echo "Lab, 4 nodes, $jobs jobs of ${seconds} s of CPU each (at $rate rounds/s) started on node 1; each lab run next to"
  echo "its measured ideal (the same jobs straight on this machine's $(nproc) CPUs, scaled to the lab's capacity):"
  echo
  echo "| CPU quotas | nominal ideal (s) | balancing: makespan/measured ideal (s) | ÷ ideal, median | each run | no balancing (s) | ÷ ideal |"
  echo "|---|---:|---|---:|---|---|---:|"
  for r in "${rows[@]}"; do IFS='|' read -r a b c d e f g <<< "$r"; echo "| $a | $b | ${c// /, } | **$d** | ${e// /, } | $f | $g |"; done
  echo
  echo '```'; echo "$sim1"; echo; echo "$sim2"; echo '```'
  echo
  echo "Lab, memory: $hogs processes growing to $hog_mib MiB at 40 MiB/s on node 1 of four 1 GiB nodes:"
  echo
  echo "| | finished | killed (OOM) | peak memory per node (MiB) |"
  echo "|---|---:|---:|---|"
  echo "| ushering | $mem_ok | $mem_killed | $mem_peaks |"
  echo "| no balancing | $nomem_ok | $nomem_killed | $nomem_peaks |"
  echo
  echo "Swap in use at the end: $swap KiB (lab nodes have memory.swappiness 0)."
else
  printf '%-20s %8s %-40s %7s %-16s %-12s %7s\n' quotas nominal balanced/ideal_s median ratios unbalanced ratio
  for r in "${rows[@]}"; do IFS='|' read -r a b c d e f g <<< "$r"; printf '%-20s %8s %-40s %7s %-16s %-12s %7s\n' "$a" "$b" "${c// /,}" "$d" "${e// /,}" "$f" "$g"; done
  echo "$sim1"; echo "$sim2"
  printf 'memory: %s processes of %s MiB on node 1 of 4 x 1 GiB: ushering %s finished, %s killed, peaks %s MiB; no balancing %s finished, %s killed, peaks %s MiB; swap used %s KiB\n' \
    "$hogs" "$hog_mib" "$mem_ok" "$mem_killed" "$mem_peaks" "$nomem_ok" "$nomem_killed" "$nomem_peaks" "$swap"
fi
