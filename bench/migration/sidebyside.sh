#!/usr/bin/env bash
# Side by side: two 2-node labs, one running the base om (wmbase), one the change (wmchange); memticker moves of each
# size alternate between them (ABBA), each beside a TCP copy of the same bytes in its own lab. Prints per-move whole
# and frozen times, medians and ratios, and the load.
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
  "${OM[$lab]}" lab exec --name $lab 2 -- python3 "$here/tcpcopy.py" recv 7777 >/dev/null &
done
trap 'for l in $B $X; do "${OM[$l]}" lab down --name $l >/dev/null 2>&1 || true; done' EXIT
sleep 1
move() { # lab mib -> "whole_s frozen_s"
  local lab=$1 mib=$2 om=${OM[$1]} out runner moved tries=0
  out=$(mktemp)
  "$om" lab exec --name $lab 1 -- "$om" run "$programs/memticker" "$mib" 100000 100 > "$out" &
  runner=$!
  until grep -q ready "$out" 2>/dev/null; do
    kill -0 $runner 2>/dev/null || { echo "target exited" >&2; exit 1; }
    tries=$((tries+1)); [ $tries -lt 2400 ] || { echo "not ready" >&2; exit 1; }; sleep 0.05
  done
  moved=$("$om" lab exec --name $lab 1 -- "$om" migrate $runner 2 2>&1)
  kill -9 $runner 2>/dev/null || true; wait $runner 2>/dev/null || true; rm -f "$out"
  python3 -c '
import re,sys
m=re.search(r"frozen ([0-9]+) ms(?:, after \d+ pre-copy rounds? of [0-9.]+ MiB while it ran, ([0-9]+) ms in all)?", sys.argv[1])
if not m: sys.exit("migration failed: "+sys.argv[1])
f=int(m.group(1))/1000; w=int(m.group(2))/1000 if m.group(2) else f
print(w, f)' "$moved"
}
copy() { local lab=$1 t; eval "t=\$TARGET_$lab"; "${OM[$lab]}" lab exec --name $lab 1 -- python3 "$here/tcpcopy.py" send "$t" 7777 "$2"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "load at start $(cut -d' ' -f1-3 /proc/loadavg)"
for mib in ${sizes//,/ }; do
  declare -A W F C; for l in $B $X; do W[$l]=""; F[$l]=""; C[$l]=""; done
  for r in $(seq $rounds); do
    if [ $((r % 2)) = 1 ]; then order="$B $X"; else order="$X $B"; fi
    for l in $order; do
      read -r w f <<< "$(move $l $mib)"; c=$(copy $l $mib)
      W[$l]+="$w "; F[$l]+="$f "; C[$l]+="$c "
      echo "  $mib MiB round $r $l: whole $w s, frozen $f s, copy $c s, ratio $(awk -v a=$w -v b=$c 'BEGIN{printf "%.2f",a/b}'), load $(cut -d' ' -f1 /proc/loadavg)"
    done
  done
  for l in $B $X; do
    mw=$(printf '%s\n' ${W[$l]} | median); mc=$(printf '%s\n' ${C[$l]} | median); mf=$(printf '%s\n' ${F[$l]} | median)
    ratios=$(for i in $(seq $rounds); do w=$(echo ${W[$l]} | cut -d' ' -f$i); c=$(echo ${C[$l]} | cut -d' ' -f$i); awk -v a=$w -v b=$c 'BEGIN{printf "%.2f\n",a/b}'; done)
    echo "$mib MiB $l: whole median $mw s (frozen $mf), copy median $mc s, whole÷copy of medians $(awk -v a=$mw -v b=$mc 'BEGIN{printf "%.2f",a/b}'), per-round ratios median $(echo "$ratios" | median) range $(echo "$ratios" | sort -g | head -1)-$(echo "$ratios" | sort -g | tail -1)"
  done
done
grep -oh "slept through the first [0-9]* ms" /run/omlab/$X/n1/omd.log | sort | uniq -c
echo "load at end $(cut -d' ' -f1-3 /proc/loadavg)"
