#!/usr/bin/env bash
# Side by side: two 2-node labs, one running the base om (wmbase), one the change (wmchange); memticker moves of each
# size alternate between them (ABBA), each beside a TCP copy of the same bytes in its own lab. Prints per-move whole
# and frozen times, medians and ratios, and the load. "whole" is omd's own figure (`ms in all`); "asked" is the wall time of the whole
# `om lab exec ... om migrate` command, the same for any build (om's start and the namespace entry included).
# The change's omd log lines "slept through the first N ms of the probe" (issue #20) are counted at the end.
# usage: bench/migration/sidebyside.sh BASE_OM CHANGE_OM SIZES ROUNDS   (root; e.g. an om built from main, and yours)
# BENCH_LAB=PREFIX names the labs PREFIXbase and PREFIXchange (default wm), so that two benches can run at once.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/close-inherited-fds.sh"
base=$1; change=$2; sizes=$3; rounds=$4
programs=$root/tests/Programs/build
p=${BENCH_LAB:-wm}; B=${p}base; X=${p}change
here=$root/bench/migration
declare -A OM=([$B]=$base [$X]=$change)
for lab in $B $X; do
  "${OM[$lab]}" lab down --name $lab >/dev/null 2>&1 || true
  "${OM[$lab]}" lab up --name $lab --nodes 2 --cpus 1,1 >/dev/null
  tgt=$("${OM[$lab]}" lab status --name $lab --json | python3 -c 'import json,sys; print([n["address"] for n in json.load(sys.stdin)["nodes"] if n["id"]==2][0])')
  eval "TARGET_$lab=$tgt"
  pids=$("${OM[$lab]}" lab status --name $lab --json | python3 -c 'import json,sys; print(" ".join(str(n["daemonPid"]) for n in sorted(json.load(sys.stdin)["nodes"], key=lambda n: n["id"])))')
  eval "OMD_$lab=\"$pids\""
  "${OM[$lab]}" lab exec --name $lab 2 -- python3 "$here/tcpcopy.py" recv 7777 >/dev/null &
done
trap 'for l in $B $X; do "${OM[$l]}" lab down --name $l >/dev/null 2>&1 || true; done' EXIT
sleep 1
# omd_use "PID1 PID2" -> "cpu1_ms cpu2_ms switches1 switches2" so far
omd_use() {
  local p c=() s=()
  for p in $1; do
    c+=("$(awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$p/stat")")
    s+=("$(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}')")
  done
  echo "${c[*]} ${s[*]}"
}
move() { # lab mib -> "whole_s frozen_s home_cpu_ms target_cpu_ms home_switches target_switches asked_s"
  local lab=$1 mib=$2 om=${OM[$1]} out runner moved tries=0 pids before after asked
  out=$(mktemp)
  "$om" lab exec --name $lab 1 -- "$om" run "$programs/memticker" "$mib" 100000 100 > "$out" &
  runner=$!
  until grep -q ready "$out" 2>/dev/null; do
    kill -0 $runner 2>/dev/null || { echo "target exited" >&2; exit 1; }
    tries=$((tries+1)); [ $tries -lt 2400 ] || { echo "not ready" >&2; exit 1; }; sleep 0.05
  done
  eval "pids=\$OMD_$lab"; before=$(omd_use "$pids")
  asked=$(date +%s%N)
  moved=$("$om" lab exec --name $lab 1 -- "$om" migrate $runner 2 2>&1)
  asked=$(( $(date +%s%N) - asked ))
  after=$(omd_use "$pids")
  kill -9 $runner 2>/dev/null || true; wait $runner 2>/dev/null || true; rm -f "$out"
  python3 -c '
import re,sys
m=re.search(r"frozen ([0-9]+) ms(?:, after \d+ pre-copy rounds? of [0-9.]+ MiB while it ran, ([0-9]+) ms in all)?", sys.argv[1])
if not m: sys.exit("migration failed: "+sys.argv[1])
f=int(m.group(1))/1000; w=int(m.group(2))/1000 if m.group(2) else f
b=[int(x) for x in sys.argv[2].split()]; a=[int(x) for x in sys.argv[3].split()]
print(w, f, *[y - x for x, y in zip(b, a)], int(sys.argv[4]) / 1e9)' "$moved" "$before" "$after" "$asked"
}
copy() { local lab=$1 t; eval "t=\$TARGET_$lab"; "${OM[$lab]}" lab exec --name $lab 1 -- python3 "$here/tcpcopy.py" send "$t" 7777 "$2"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "load at start $(cut -d' ' -f1-3 /proc/loadavg)"
for mib in ${sizes//,/ }; do
  declare -A W F C H T A; for l in $B $X; do W[$l]=""; F[$l]=""; C[$l]=""; H[$l]=""; T[$l]=""; A[$l]=""; done
  for r in $(seq $rounds); do
    if [ $((r % 2)) = 1 ]; then order="$B $X"; else order="$X $B"; fi
    for l in $order; do
      read -r w f hc tc hs ts a <<< "$(move $l $mib)"; c=$(copy $l $mib)
      W[$l]+="$w "; F[$l]+="$f "; C[$l]+="$c "; H[$l]+="$hc "; T[$l]+="$tc "; A[$l]+="$a "
      echo "  $mib MiB round $r $l: whole $w s, asked $a s, frozen $f s, copy $c s, ratio $(awk -v a=$w -v b=$c 'BEGIN{printf "%.2f",a/b}'), omd CPU home $hc ms target $tc ms, switches home $hs target $ts, load $(cut -d' ' -f1 /proc/loadavg)"
    done
  done
  for l in $B $X; do
    mw=$(printf '%s\n' ${W[$l]} | median); mc=$(printf '%s\n' ${C[$l]} | median); mf=$(printf '%s\n' ${F[$l]} | median)
    ratios=$(for i in $(seq $rounds); do w=$(echo ${W[$l]} | cut -d' ' -f$i); c=$(echo ${C[$l]} | cut -d' ' -f$i); awk -v a=$w -v b=$c 'BEGIN{printf "%.2f\n",a/b}'; done)
    echo "$mib MiB $l: whole median $mw s (frozen $mf), asked median $(printf '%s\n' ${A[$l]} | median) s, copy median $mc s, whole÷copy of medians $(awk -v a=$mw -v b=$mc 'BEGIN{printf "%.2f",a/b}'), per-round ratios median $(echo "$ratios" | median) range $(echo "$ratios" | sort -g | head -1)-$(echo "$ratios" | sort -g | tail -1), omd CPU median home $(printf '%s\n' ${H[$l]} | median) ms target $(printf '%s\n' ${T[$l]} | median) ms (target range $(printf '%s\n' ${T[$l]} | sort -g | head -1)-$(printf '%s\n' ${T[$l]} | sort -g | tail -1))"
  done
done
grep -oh "slept through the first [0-9]* ms" /run/omlab/$X/n1/omd.log | sort | uniq -c
echo "load at end $(cut -d' ' -f1-3 /proc/loadavg)"
