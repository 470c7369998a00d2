#!/usr/bin/env bash
# bench/migration: how long a migrating process is frozen (stopped at home → running on the target) for processes
# of 64 MiB, 512 MiB and 2 GiB, next to the floor: a plain TCP copy of the same bytes between the same two lab
# nodes, measured alternately in the same run. A process that rewrites all of its memory all the time (dirtier) is
# moved both ways, pre-copy (--postcopy never) and as omd chooses by default (--postcopy auto: post-copy once it sees
# pre-copy cannot converge; frozen until its copy runs, whole until the copy holds every page). Also the cost of being managed: a CPU-bound program under `om run`
# against the same program started plainly, interleaved. Needs root; uses a 2-node lab (1 CPU each).
# Also a process of 16 threads (idle, or spinning with --busy-threads) against one of a single thread with the same
# memory, moved alternately.
# With --home, only the trip home: a process moved to node 2 is brought home with pre-copy and without, alternately.
# With --moves-only, only the moves and their floor (the first table).
# usage: bench/migration/run.sh [--sizes 64,512,2048] [--rounds 3] [--thread-mib 256] [--busy-threads] [--home] [--moves-only] [--markdown]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
programs=${OM_TEST_PROGRAMS:-$root/tests/Programs/build}
sizes=64,512,2048; rounds=3; markdown=0; thread_mib=256; thread_mode=idle; home_only=0; moves_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    --thread-mib) thread_mib=$2; shift 2 ;;
    --busy-threads) thread_mode=busy; shift ;;
    --home) home_only=1; shift ;;
    --moves-only) moves_only=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
make -s -C "$root/tests/Programs"
lab=${BENCH_LAB:-benchmig}   # another name (BENCH_LAB) lets two runs coexist
logs=/run/omlab/$lab
"$om" lab down --name "$lab" > /dev/null 2>&1 || true
trap '"$om" lab down --name "$lab" > /dev/null 2>&1 || true' EXIT
"$om" lab up --name "$lab" --nodes 2 --cpus 1,1 > /dev/null
target=$("$om" lab status --name "$lab" --json | python3 -c 'import json,sys; print([n["address"] for n in json.load(sys.stdin)["nodes"] if n["id"]==2][0])')
"$om" lab exec --name "$lab" 2 -- python3 "$here/tcpcopy.py" recv 7777 > /dev/null &
sleep 0.5
load() { cut -d' ' -f1 /proc/loadavg; }

# wait_ready FILE PID: until the program started in the background prints "ready"; fails if it dies first or takes
# more than two minutes (a lab taken down under the benchmark must not leave it waiting forever).
wait_ready() {
  local tries=0
  until grep -q ready "$1" 2>/dev/null; do
    kill -0 "$2" 2>/dev/null || { echo "benchmark target exited before it was ready" >&2; exit 1; }
    tries=$((tries + 1)); [ "$tries" -lt 2400 ] || { echo "benchmark target not ready after 2 minutes" >&2; exit 1; }
    sleep 0.05
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# move PROGRAM MIB [--no-precopy] -> "frozen_s total_s frozen_mib": starts PROGRAM MIB under om run on node 1, waits
# until it has touched its memory, moves it to node 2, and kills it.
move() { move_command "${3:-}" "$1" "$2" 100000 100; }
# move_command MIGRATE_OPTION PROGRAM ARGS...: the same for any program that prints "ready" once it is set up. With
# HOME_TRIP=1 it is moved out first and the trip measured is the one back home.
move_command() {
  local option=$1 out runner pid moved
  shift
  out=$(mktemp)
  "$om" lab exec --name "$lab" 1 -- "$om" run "$@" > "$out" &
  runner=$!
  wait_ready "$out" "$runner"
  pid=$runner
  if [ "${HOME_TRIP:-0}" = 1 ]; then
    "$om" lab exec --name "$lab" 1 -- "$om" migrate "$pid" 2 --no-precopy > /dev/null 2>&1
    moved=$("$om" lab exec --name "$lab" 1 -- "$om" migrate "$pid" home $option 2>&1)
  else
    moved=$("$om" lab exec --name "$lab" 1 -- "$om" migrate "$pid" 2 $option 2>&1)
  fi
  # A post-copy has moved once the copy holds every page: until then home keeps the original (killing it earlier
  # would end the move, not measure it). Home logs how long that took after the copy began to run.
  local fetched=""
  if [[ "$moved" == *"post-copy: its memory follows"* ]]; then
    local tries=0
    until fetched=$(grep -oP "Process $pid: post-copy to node 2 done in \K[0-9]+" "$logs/n1/omd.log" | tail -1) && [ -n "$fetched" ]; do
      tries=$((tries + 1)); [ "$tries" -lt 2400 ] || { echo "the post-copy of $pid never ended" >&2; exit 1; }
      sleep 0.05
    done
  fi
  # With PHASES=1 the copy is let run before the kill: its node logs how long its threads took once home was told.
  if [ "${PHASES:-0}" = 1 ]; then
    local tries=0
    until grep -q "process $pid of node 1 runs here as" "$logs/n2/omd.log"; do
      tries=$((tries + 1)); [ "$tries" -lt 200 ] || { echo "the copy of $pid never ran" >&2; exit 1; }
      sleep 0.05
    done
  fi
  kill -9 "$pid" 2>/dev/null || true; wait "$runner" 2>/dev/null || true; rm -f "$out"
  python3 - "$moved" "$pid" "${PHASES:-0}" "$logs" "$fetched" <<'PY'
import re, sys
m = re.search(r"\(([0-9.]+) MiB, frozen ([0-9]+) ms(?:, after \d+ pre-copy rounds? of [0-9.]+ MiB while it ran, ([0-9]+) ms in all)?(?:, post-copy: its memory follows)?\)", sys.argv[1])
if not m: sys.exit("migration failed: " + sys.argv[1])
frozen = int(m.group(2)) / 1000
whole = int(m.group(3)) / 1000 if m.group(3) else frozen
# Post-copy: the whole move ends when the copy holds every page (home's log: that long after the copy began to run),
# after the rounds if any went first.
if sys.argv[5]: whole = round(whole + int(sys.argv[5]) / 1000, 3)  # a sum of floats prints as 2.3489999999999998
fields = [frozen, whole, m.group(1)]
if sys.argv[3] == "1":
    pid, logs = sys.argv[2], sys.argv[4]
    def last(path, pattern):
        found = re.findall(pattern, open(path).read())
        if not found: sys.exit(f"no line like {pattern!r} in {path}")
        return found[-1]
    number = r"([0-9.]+)"
    home = last(f"{logs}/n1/omd.log", rf"process {pid} frozen {number} ms: final image dumped and sent in {number} ms, copy restored {number} ms later, running {number} ms later; deputy made in {number} ms")
    release = last(f"{logs}/n2/omd.log", rf"process {pid} of node 1 runs here as \d+, let go {number} ms after home was told")
    threads = re.findall(rf"\(was {pid}\): \d+ threads made in {number} ms \({number} ms of it waiting", open(f"{logs}/n2/omd.log").read())
    made, waited = threads[-1] if threads else ("0", "0")
    # sent, restored, running, deputy (home), let go, threads made, waited for ids (target): milliseconds
    fields += [home[1], home[2], home[3], home[4], release, made, waited]
print(*fields)
PY
}

# home_trip MIB [--no-precopy] -> "frozen_s total_s frozen_mib": memticker MIB under om run on node 1, moved to node
# 2 (without pre-copy, the quicker way out), brought home with the option (that trip is the one measured), and killed.
home_trip() { HOME_TRIP=1 move_command "${2:-}" "$programs/memticker" "$1" 100000 100; }

if [ "$home_only" = 1 ]; then
  [ "$markdown" = 1 ] && { echo "| memory | home, pre-copy: frozen (s) | frozen MiB | whole trip (s) | home, no pre-copy: frozen (s) | frozen MiB | frozen: pre-copy ÷ none |"; echo "|---|---:|---:|---:|---:|---:|---:|"; }
  for mib in ${sizes//,/ }; do
    pf=(); pt=(); pm=(); nf=(); nm=()
    for round in $(seq "$rounds"); do
      read -r f t fm <<< "$(home_trip "$mib")"; pf+=("$f"); pt+=("$t"); pm+=("$fm")
      read -r f _ fm <<< "$(home_trip "$mib" --no-precopy)"; nf+=("$f"); nm+=("$fm")
    done
    m() { printf '%s\n' "$@" | median; }
    a=$(m "${pf[@]}"); b=$(m "${nf[@]}")
    if [ "$markdown" = 1 ]; then
      echo "| $mib MiB | $a | $(m "${pm[@]}") | $(m "${pt[@]}") | $b | $(m "${nm[@]}") | $(ratio "$a" "$b") |"
    else
      echo "$mib MiB home: pre-copy frozen ${a}s ($(m "${pm[@]}") MiB frozen, whole trip $(m "${pt[@]}")s); no pre-copy frozen ${b}s ($(m "${nm[@]}") MiB); ratio $(ratio "$a" "$b")"
    fi
  done
  echo "load $(load)"
  exit 0
fi

dirtier=$(mktemp /tmp/dirtier.XXXXXX)
cc -O2 -o "$dirtier" "$here/dirtier.c"
rows=()
for mib in ${sizes//,/ }; do
  pf=(); pt=(); nf=(); copies=(); dirty=(); dtotal=(); post=(); ptotal=()
  for round in $(seq "$rounds"); do
    read -r f t _ <<< "$(move "$programs/memticker" "$mib")"; pf+=("$f"); pt+=("$t")
    read -r f _ _ <<< "$(move "$programs/memticker" "$mib" --no-precopy)"; nf+=("$f")
    read -r f t _ <<< "$(move "$dirtier" "$mib" "--postcopy never")"; dirty+=("$f"); dtotal+=("$t")
    read -r f t _ <<< "$(move "$dirtier" "$mib" "--postcopy auto")"; post+=("$f"); ptotal+=("$t")
    copies+=("$("$om" lab exec --name "$lab" 1 -- python3 "$here/tcpcopy.py" send "$target" 7777 "$mib")")
  done
  c=$(printf '%s\n' "${copies[@]}" | median)
  m() { printf '%s\n' "$@" | median; }
  rows+=("$mib MiB|$c|$(m "${pf[@]}")|$(m "${pt[@]}")|$(m "${nf[@]}")|$(m "${dirty[@]}")|$(m "${dtotal[@]}")|$(m "${post[@]}")|$(m "${ptotal[@]}")")
done
rm -f "$dirtier"
if [ "$moves_only" = 1 ]; then
  echo "| memory | TCP copy (s) | pre-copy: frozen (s) | ÷ copy | whole move (s) | ÷ copy | no pre-copy: frozen (s) | ÷ copy | always writing, pre-copy: frozen (s) | ÷ copy | whole move (s) | always writing, auto (post-copy): frozen (s) | ÷ copy | whole move (s) | ÷ copy |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for r in "${rows[@]}"; do
    IFS='|' read -r a c pf pt nf df dt qf qt <<< "$r"
    echo "| $a | $c | $pf | $(ratio "$pf" "$c") | $pt | $(ratio "$pt" "$c") | $nf | $(ratio "$nf" "$c") | $df | $(ratio "$df" "$c") | $dt | $qf | $(ratio "$qf" "$c") | $qt | $(ratio "$qt" "$c") |"
  done
  echo "load $(load)"
  exit 0
fi

# Managed but never moved: the same CPU-bound run (memticker 1 MiB, 0 ticks, is cheap; the checksum loop of a
# 512 MiB one is CPU-bound), plainly and under om run, interleaved.
plain=(); managed=()
for round in $(seq "$rounds"); do
  s=$(date +%s.%N); "$om" lab exec --name "$lab" 1 -- "$programs/memticker" 512 0 > /dev/null; e=$(date +%s.%N)
  plain+=("$(awk -v s="$s" -v e="$e" 'BEGIN{print e-s}')")
  s=$(date +%s.%N); "$om" lab exec --name "$lab" 1 -- "$om" run "$programs/memticker" 512 0 > /dev/null; e=$(date +%s.%N)
  managed+=("$(awk -v s="$s" -v e="$e" 'BEGIN{print e-s}')")
done
p=$(printf '%s\n' "${plain[@]}" | median); m=$(printf '%s\n' "${managed[@]}" | median)

# Threads: touchmem with 16 threads (idle in pause(), or spinning on their own stacks) against touchmem alone, the same
# memory, moved alternately (pre-copy on): what freezing, saving and recreating 15 more threads adds to the frozen
# time. Spinning threads share the node's one CPU with its omd, which then works slower: not the engine's cost alone.
touch=$(mktemp /tmp/touchmem.XXXXXX)
cc -O2 -pthread -o "$touch" "$root/bench/checkpoint/touchmem.c"
# Each move's phases come from the nodes' logs (milliseconds): home's final dump and transfer, the copy's restore,
# commit until it runs, the deputy; then, on the target, from telling home until every thread runs (the "let go"
# time: threads made, waiting for the ids home frees as it makes the deputy, in a lab's one PID namespace). The
# frozen time `om migrate` reports ends when home is told; frozen until every thread runs is that plus "let go".
t1=(); t16=(); w1=(); w16=(); p1=(); p16=()
for round in $(seq "$rounds"); do
  read -r f t _ rest <<< "$(PHASES=1 move_command "" "$touch" "$thread_mib" 1 "$thread_mode")"; t1+=("$f"); w1+=("$t"); p1+=("$rest")
  read -r f t _ rest <<< "$(PHASES=1 move_command "" "$touch" "$thread_mib" 16 "$thread_mode")"; t16+=("$f"); w16+=("$t"); p16+=("$rest")
done
rm -f "$touch"
t1m=$(printf '%s\n' "${t1[@]}" | median); t16m=$(printf '%s\n' "${t16[@]}" | median)
w1m=$(printf '%s\n' "${w1[@]}" | median); w16m=$(printf '%s\n' "${w16[@]}" | median)
# phase_table ROWS... -> one line per phase: median and range of each column, and the frozen-until-running sum
phase_table() {
  printf '%s\n' "$@" | python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
names = ["final dump + send", "copy restored", "commit until running", "deputy made (home)", "let go (target)", "threads made", "waited for ids"]
columns = list(zip(*rows)) + [tuple(r[0] + r[1] + r[2] + r[4] for r in rows)]
for name, values in zip(names + ["frozen until every thread runs"], columns):
    print(f"{name}: median {statistics.median(values):.1f} ms ({min(values):.1f}-{max(values):.1f})")'
}

# The same work at home and after a move, each timed by the program itself (benchprog): stdout throughput through
# the relay, and a CPU-bound loop, interleaved.
prog=$(mktemp /tmp/benchprog.XXXXXX)
cc -O2 -o "$prog" "$here/benchprog.c"
phase() { # phase MODE N MOVE(0|1) -> seconds of the work phase
  local err fifo; err=$(mktemp); fifo=$(mktemp -u /tmp/benchout.XXXXXX); mkfifo "$fifo"
  # stdout a pipe (as to a consumer at home), not /dev/null, which a moved process would reopen by path; a named
  # pipe, not `> >(cat)`, whose descriptor bash leaves open in the program (a pipe on fd 63 cannot move)
  cat "$fifo" > /dev/null &
  local reader=$!
  "$om" lab exec --name "$lab" 1 -- "$om" run "$prog" "$1" "$2" 400 2> "$err" > "$fifo" &
  local runner=$!
  wait_ready "$err" "$runner"
  if [ "$3" = 1 ] && ! "$om" lab exec --name "$lab" 1 -- "$om" migrate "$runner" 2 > /dev/null; then
    echo "bench/migration: the $1 phase's program did not move; its figure would be one of a run at home" >&2
    exit 1
  fi
  wait "$runner"; wait "$reader"
  sed -n 's/^elapsed //p' "$err"; rm -f "$err" "$fifo"
}
wl=(); wm=(); cl=(); cm=()
for round in $(seq "$rounds"); do
  wl+=("$(phase write 512 0)"); wm+=("$(phase write 512 1)")
  cl+=("$(phase spin 1500 0)"); cm+=("$(phase spin 1500 1)")
done
rm -f "$prog"
wlm=$(printf '%s\n' "${wl[@]}" | median); wmm=$(printf '%s\n' "${wm[@]}" | median)
clm=$(printf '%s\n' "${cl[@]}" | median); cmm=$(printf '%s\n' "${cm[@]}" | median)

if [ "$markdown" = 1 ]; then
  echo "| memory | TCP copy (s) | pre-copy: frozen (s) | ÷ copy | whole move (s) | ÷ copy | no pre-copy: frozen (s) | ÷ copy | always writing, pre-copy: frozen (s) | ÷ copy | whole move (s) | always writing, auto (post-copy): frozen (s) | ÷ copy | whole move (s) | ÷ copy |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for r in "${rows[@]}"; do
    IFS='|' read -r a c pf pt nf df dt qf qt <<< "$r"
    echo "| $a | $c | $pf | $(ratio "$pf" "$c") | $pt | $(ratio "$pt" "$c") | $nf | $(ratio "$nf" "$c") | $df | $(ratio "$df" "$c") | $dt | $qf | $(ratio "$qf" "$c") | $qt | $(ratio "$qt" "$c") |"
  done
  echo
  echo "Managed but not moved (memticker 512 MiB, CPU-bound checksum): plain $p s, under om run $m s: $(awk -v p="$p" -v m="$m" 'BEGIN{printf "%.3f", m/p}')×."
  echo
  echo "| after a move to node 2 | at home (s) | moved (s) | moved ÷ home |"
  echo "|---|---:|---:|---:|"
  echo "| 512 MiB to stdout (relayed home) | $wlm | $wmm | $(awk -v a="$wlm" -v b="$wmm" 'BEGIN{printf "%.2f", b/a}') |"
  echo "| CPU-bound loop | $clm | $cmm | $(awk -v a="$clm" -v b="$cmm" 'BEGIN{printf "%.3f", b/a}') |"
  echo
  echo "| $thread_mib MiB, moved with pre-copy | 1 thread (s) | 16 $thread_mode threads (s) | 16 ÷ 1 |"
  echo "|---|---:|---:|---:|"
  echo "| frozen | $t1m | $t16m | $(ratio "$t16m" "$t1m") |"
  echo "| whole move | $w1m | $w16m | $(ratio "$w16m" "$w1m") |"
  echo
  echo "Phases, 1 thread:"; phase_table "${p1[@]}"
  echo "Phases, 16 $thread_mode threads:"; phase_table "${p16[@]}"
  echo
  echo "Load average at the end: $(load)."
else
  printf '%-9s %8s %10s %10s %10s %10s %10s %10s %10s\n' memory copy_s pre_frozen pre_whole nopre_froz dirty_froz dirty_whole post_froz post_whole
  for r in "${rows[@]}"; do
    IFS='|' read -r a c pf pt nf df dt qf qt <<< "$r"
    printf '%-9s %8s %10s %10s %10s %10s %10s %10s %10s   frozen/copy %s (no pre-copy %s, always writing: pre-copy %s, post-copy %s)\n' "$a" "$c" "$pf" "$pt" "$nf" "$df" "$dt" "$qf" "$qt" \
      "$(ratio "$pf" "$c")" "$(ratio "$nf" "$c")" "$(ratio "$df" "$c")" "$(ratio "$qf" "$c")"
  done
  echo "managed but not moved: plain ${p}s, om run ${m}s, ratio $(awk -v p="$p" -v m="$m" 'BEGIN{printf "%.3f", m/p}')"
  echo "stdout 512 MiB: home ${wlm}s, moved ${wmm}s; CPU loop: home ${clm}s, moved ${cmm}s"
  echo "threads, $thread_mib MiB: frozen 1 thread ${t1m}s, 16 $thread_mode threads ${t16m}s, ratio $(ratio "$t16m" "$t1m"); whole move ${w1m}s vs ${w16m}s; load $(load)"
  echo "phases, 1 thread:"; phase_table "${p1[@]}"
  echo "phases, 16 $thread_mode threads:"; phase_table "${p16[@]}"
fi
