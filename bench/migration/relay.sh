#!/usr/bin/env bash
# bench/migration/relay.sh: the relay alone, for one build or several side by side. benchprog writes MIB MiB to a
# stdout pipe read at home, once left at home and once moved to node 2 (its output relayed home), interleaved, in a
# 2-node lab (1 CPU each) per build; the rounds alternate between the builds, so a noisy minute hits them all. For
# each moved run it also reports what each node's cgroup spent in CPU (cpuacct) and how long node 2's was throttled by
# its quota (the copy and its omd share that one CPU's quota: what omd spends per byte there slows the writer), and how
# many context switches each omd made (a count the load blurs less than a time).
# usage: bench/migration/relay.sh [--rounds 5] [--mib 512] [OM_BIN...]   (default: artifacts/bin/om)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
rounds=5; mib=512; builds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --mib) mib=$2; shift 2 ;;
    -*) echo "unknown argument $1" >&2; exit 2 ;;
    *) builds+=("$1"); shift ;;
  esac
done
[ ${#builds[@]} -gt 0 ] || builds=("${OM_BIN:-$root/artifacts/bin/om}")
for om in "${builds[@]}"; do [ -x "$om" ] || { echo "no om at $om (build first)" >&2; exit 1; }; done
prog=$(mktemp /tmp/benchprog.XXXXXX)
cc -O2 -o "$prog" "$here/benchprog.c"
prefix=${BENCH_LAB:-relayb}
labs=()
cleanup() {
  for i in "${!builds[@]}"; do "${builds[$i]}" lab down --name "$prefix$i" > /dev/null 2>&1 || true; done
  rm -f "$prog"
}
trap cleanup EXIT
for i in "${!builds[@]}"; do
  "${builds[$i]}" lab down --name "$prefix$i" > /dev/null 2>&1 || true
  "${builds[$i]}" lab up --name "$prefix$i" --nodes 2 --cpus 1,1 > /dev/null
  labs+=("$prefix$i")
done
load() { cut -d' ' -f1 /proc/loadavg; }
cpuacct() { cat "/sys/fs/cgroup/cpuacct/omlab-$1/n$2/cpuacct.usage"; }
# omd_cpu LAB NODE -> CPU milliseconds the node's omd has used (utime + stime, /proc/PID/stat)
omd_cpu() {
  local pid
  for pid in $(cat "/sys/fs/cgroup/cpu/omlab-$1/n$2/cgroup.procs"); do
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q ' daemon '; then
      awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$pid/stat"; return
    fi
  done
  echo 0
}
# omd_switches LAB NODE -> context switches of all the node's omd threads so far (voluntary and not, /proc/PID/task/*/status):
# a count the load does not blur as it blurs times, so a change in how often omd sleeps and wakes shows even on a busy
# machine. Threads that end during the run take their counts with them (a pool thread retired): a low or negative
# figure in one round is that, read the medians
omd_switches() {
  local pid
  for pid in $(cat "/sys/fs/cgroup/cpu/omlab-$1/n$2/cgroup.procs"); do
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q ' daemon '; then
      cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'; return
    fi
  done
  echo 0
}
# omd_faults LAB NODE -> page faults the node's omd has taken so far (minor, /proc/PID/stat): memory the runtime got afresh for
# relayed frames (up to 256 per MiB in 4 KiB pages), a count the load does not blur
omd_faults() {
  local pid
  for pid in $(cat "/sys/fs/cgroup/cpu/omlab-$1/n$2/cgroup.procs"); do
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q ' daemon '; then
      awk '{print $10}' "/proc/$pid/stat"; return
    fi
  done
  echo 0
}
throttled() { awk '/^throttled_time/ {print $2}' "/sys/fs/cgroup/cpu/omlab-$1/n$2/cpu.stat"; }

# wait_ready FILE PID: until the program prints "ready"; fails if it dies first or takes more than two minutes.
wait_ready() {
  local tries=0
  until grep -q ready "$1" 2>/dev/null; do
    kill -0 "$2" 2>/dev/null || { echo "benchprog exited before it was ready" >&2; exit 1; }
    tries=$((tries + 1)); [ "$tries" -lt 2400 ] || { echo "benchprog not ready after 2 minutes" >&2; exit 1; }
    sleep 0.05
  done
}

# run OM LAB MOVE(0|1) -> "elapsed_s node1_cpu_ms node2_cpu_ms node2_throttled_ms omd1_cpu_ms omd2_cpu_ms omd1_switches omd2_switches omd1_faults"
run() {
  local om=$1 lab=$2 err fifo; err=$(mktemp); fifo=$(mktemp -u /tmp/relayout.XXXXXX); mkfifo "$fifo"
  # A named pipe read at home (not /dev/null, which a moved process reopens by path)
  cat "$fifo" > /dev/null &
  local reader=$!
  "$om" lab exec --name "$lab" 1 -- "$om" run "$prog" write "$mib" 400 2> "$err" > "$fifo" &
  local runner=$!
  wait_ready "$err" "$runner"
  if [ "$3" = 1 ] && ! "$om" lab exec --name "$lab" 1 -- "$om" migrate "$runner" 2 > /dev/null 2>&1; then
    echo "the program did not move" >&2; exit 1
  fi
  local c1 c2 t2 o1 o2 s1 s2 f1; c1=$(cpuacct "$lab" 1); c2=$(cpuacct "$lab" 2); t2=$(throttled "$lab" 2); o1=$(omd_cpu "$lab" 1); o2=$(omd_cpu "$lab" 2)
  s1=$(omd_switches "$lab" 1); s2=$(omd_switches "$lab" 2); f1=$(omd_faults "$lab" 1)
  wait "$runner"; wait "$reader"
  local e; e=$(sed -n 's/^elapsed //p' "$err")
  [ -n "$e" ] || { echo "benchprog printed no time: $(cat "$err")" >&2; exit 1; }
  echo "$e $(( ($(cpuacct "$lab" 1) - c1) / 1000000 )) $(( ($(cpuacct "$lab" 2) - c2) / 1000000 )) $(( ($(throttled "$lab" 2) - t2) / 1000000 )) $(( $(omd_cpu "$lab" 1) - o1 )) $(( $(omd_cpu "$lab" 2) - o2 )) $(( $(omd_switches "$lab" 1) - s1 )) $(( $(omd_switches "$lab" 2) - s2 )) $(( $(omd_faults "$lab" 1) - f1 ))"
  rm -f "$err" "$fifo"
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

declare -A home moved n1 n2 thr d1 d2 w1 w2 pf1
start_load=$(load)
for round in $(seq "$rounds"); do
  for i in "${!builds[@]}"; do
    read -r h _ _ _ <<< "$(run "${builds[$i]}" "${labs[$i]}" 0)"; home[$i]+="$h "
    read -r e a b t x y v w f <<< "$(run "${builds[$i]}" "${labs[$i]}" 1)"; moved[$i]+="$e "; n1[$i]+="$a "; n2[$i]+="$b "; thr[$i]+="$t "; d1[$i]+="$x "; d2[$i]+="$y "
    w1[$i]+="$v "; w2[$i]+="$w "; pf1[$i]+="$f "
    echo "round $round build $i: home $h moved $e (node 1 ${a} ms, node 2 ${b} ms CPU, node 2 throttled ${t} ms; omd 1 ${x} ms, omd 2 ${y} ms; omd 1 ${v}, omd 2 ${w} context switches; omd 1 ${f} page faults), load $(load)" >&2
  done
done
echo "| build | at home (s) | moved (s) | moved ÷ home | each round's ratio | node 1 CPU (ms) | node 2 CPU (ms) | node 2 throttled (ms) | omd 1 (home) CPU (ms) | omd 2 CPU (ms) | omd 1 switches | omd 2 switches | omd 1 page faults |"
echo "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for i in "${!builds[@]}"; do
  read -ra h <<< "${home[$i]}"; read -ra m <<< "${moved[$i]}"
  ratios=(); for k in "${!h[@]}"; do ratios+=("$(awk -v a="${h[$k]}" -v b="${m[$k]}" 'BEGIN{printf "%.2f", b/a}')"); done
  hm=$(median "${h[@]}"); mm=$(median "${m[@]}")
  # shellcheck disable=SC2086
  echo "| ${builds[$i]} | $hm | $mm | $(awk -v a="$hm" -v b="$mm" 'BEGIN{printf "%.2f", b/a}') | ${ratios[*]} | $(median ${n1[$i]}) | $(median ${n2[$i]}) | $(median ${thr[$i]}) | $(median ${d1[$i]}) | $(median ${d2[$i]}) | $(median ${w1[$i]}) | $(median ${w2[$i]}) | $(median ${pf1[$i]}) |"
done
echo
echo "$mib MiB, medians of $rounds, load average $start_load at the start and $(load) at the end."
