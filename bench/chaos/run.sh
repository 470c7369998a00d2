#!/usr/bin/env bash
# bench/chaos: what each fault does to a moved process (issue #17). For every fault kind, --rounds times: memticker
# (16 MiB, a tick every 50 ms; its stdout a pipe read at home into a file) started with `om run` on node 1 of a 2-node
# lab, moved to node 2, the fault injected, then waited for (bounded). Per run: finished with output identical to an
# uninterrupted run, exit status, lost (the deputy ended without the program's last line: omd said "lost", or it
# died by a signal) and how long after the fault, seconds from the fault's end (heal, revive, omd started again) to
# the next line of output, memticker copies left on node 2 once the run is over, and wall time. A table per fault
# (medians) at the end; the per-run lines go to stderr. Faults:
#   cut5       om lab cut 2, 5 s, heal (shorter than the lab's 10 s link timeout)
#   cut15      om lab cut 2, 15 s, heal (longer)
#   kill2      om lab kill 2 (a crash of the copy's node), om lab revive 2 once home restarted or gave up the copy
# kill2 and cut15 wait for home's first checkpoint of the process before the fault; "restarted" counts the runs home
# restarted from it, "restart after" times the fault's start to home's log line saying so.
#   restart2   om lab restart 2 (the copy's omd, SIGTERM and started again: it sends its guest home first)
#   restart1   om lab restart 1 (home's omd: it brings the process home first)
#   sigkill1-pre / sigkill2-pre      omd of node 1 / 2 SIGKILLed while `om migrate` pre-copies a 512 MiB memticker
#                                    (the process running), then started again with om lab restart
#   sigkill1-frozen / sigkill2-frozen  the same during a move with --no-precopy (the process frozen, its image in flight)
#   sigkill1-home / sigkill2-home    the same during a trip home (`om migrate PID home` of a 512 MiB memticker moved to
#                                    node 2), once its deputy at home holds 64 MiB of the trip's pre-copy
#   sigkill1-post / sigkill2-post    the same mid-post-copy: once `om migrate --postcopy always` says the copy runs on
#                                    node 2 (a 512 MiB memticker, its memory still at home unless the log says it is over)
#   sigkill1-away / sigkill2-away    om lab restart --kill 1 / 2 while the process runs on node 2: omd SIGKILLed alone
#                                    (no drain) and started again; home's new omd takes the process over
#   sigkill21-away  om lab restart --kill 2, then (once home resumed the copy the new omd of node 2 adopted) om lab
#                   restart --kill 1: the adopted copy waits for home's next omd, which takes the process over
#   netem      om lab netem 2 --loss 5 --delay 50 for 5 s (where the kernel has no sch_netem, om lab emulates both
#              without it: the loss by a tc filter, the delay by a relay, docs/lab.md)
#   fulldisk   home's checkpoint directory (a 64 MiB tmpfs in node 1) filled up once home holds the first checkpoint,
#              so every later one fails with ENOSPC; then node 2 crashes (om lab kill 2): home must restart the
#              process from the checkpoint it kept, with identical output
#   cpfull     om checkpoint into a 4 MiB tmpfs (ENOSPC) of a plain 16 MiB memticker on node 1: the checkpoint
#              command's full disk (the process keeps running)
# usage: bench/chaos/run.sh [--rounds 3] [--faults cut5,cut15,...] [--markdown] [--lab NAME]
# (--lab: the lab's name, benchchaos by default; a lab of that name is replaced, so two runs at once need two names)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
programs=${OM_TEST_PROGRAMS:-$root/tests/Programs/build}
all_faults=cut5,cut15,kill2,restart2,restart1,sigkill1-pre,sigkill2-pre,sigkill1-frozen,sigkill2-frozen,sigkill1-home,sigkill2-home,sigkill1-post,sigkill2-post,sigkill1-away,sigkill2-away,sigkill21-away,netem,fulldisk,cpfull
faults=$all_faults; rounds=3; markdown=0; lab=benchchaos
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --faults) faults=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    --lab) lab=$2; shift 2 ;;
    -h|--help) sed -n '2,/^# (--lab/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (--help says what it takes)" >&2; exit 2 ;;
  esac
done
for f in ${faults//,/ }; do [[ ",$all_faults," == *",$f,"* ]] || { echo "unknown fault $f (known: $all_faults)" >&2; exit 2; }; done
[ "$(id -u)" = 0 ] || { echo "bench/chaos needs root (it builds a lab)" >&2; exit 1; }
[ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
make -s -C "$root/tests/Programs"
source "$here/../common.sh"
work=$(mktemp -d /tmp/benchchaos.XXXXXX)
full=$work/full
cleanup() {
  "$om" lab down --name "$lab" > /dev/null 2>&1 || true
  mountpoint -q "$full" 2>/dev/null && umount "$full"
  rm -rf "$work"
}
trap cleanup EXIT
# The tmpfs first: a mount made after `lab up` is not seen inside the nodes.
mkdir -p "$full"; mount -t tmpfs -o size=4m chaosfull "$full"
lab_up --nodes 2 --cpus 1,1 --no-balance --timeout 30
labdir=/run/omlab/$lab
log() { echo "$*" >&2; } # per run, on stderr (the table goes to stdout)
fault() { "$om" lab "$1" --name "$lab" "${@:2}" > /dev/null; }
daemon_pid() { "$om" lab status --name "$lab" --json | python3 -c 'import json,sys; print([n.get("daemonPid", 0) for n in json.load(sys.stdin)["nodes"] if n["id"]==int(sys.argv[1])][0])' "$1"; }
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
# until_true SECONDS CMD...: polls CMD every 0.1 s; fails after SECONDS.
until_true() { local end; end=$(awk -v n="$(now)" -v s="$1" 'BEGIN{printf "%.3f", n+s}'); shift
  until "$@"; do awk -v n="$(now)" -v e="$end" 'BEGIN{exit !(n>e)}' && return 1; sleep 0.1; done; }
sees_alive() { # sees_alive OBSERVER NODE: OBSERVER's omd holds NODE alive
  "$om" lab exec --name "$lab" "$1" -- "$om" status --json 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
sys.exit(0 if any(n["id"] == int(sys.argv[1]) and str(n["state"]).lower() == "alive" for n in v["nodes"]) else 1)' "$2" 2>/dev/null; }
# healthy: both omd answer and each holds the other alive, so the next round starts from a whole cluster.
healthy() { until_true 60 sees_alive 1 2 && until_true 30 sees_alive 2 1 || log "warning: the lab did not become whole again: $(states)"; }
states() { local n; for n in 1 2; do printf 'node %s sees %s; ' "$n" "$("$om" lab exec --name "$lab" "$n" -- "$om" status --json 2>&1 |
  python3 -c 'import json,sys; print(" ".join(f"{n[\"id\"]}:{n[\"state\"]}" for n in json.load(sys.stdin)["nodes"]))' 2>&1 | tail -1)"; done; }
# strays: memticker processes left in node 2 once the run is over (a copy nobody answers for); killed after counting.
strays() { local n=0 pid
  for pid in $(cat /sys/fs/cgroup/cpu/omlab-$lab/n2/cgroup.procs 2>/dev/null); do
    [ "$(cat /proc/$pid/comm 2>/dev/null)" = memticker ] && { n=$((n + 1)); kill -9 "$pid" 2>/dev/null || true; }
  done; echo "$n"; }
children_of() { ps -o pid= --ppid "$1" 2>/dev/null | grep -q .; }

# read_at_home FILE: a reader at home copying the named pipe $work/pipe into FILE. A named pipe, not >(cat): bash
# would start that reader as a child of the program (which could then not move) and leave it a stray descriptor.
read_at_home() { rm -f "$work/pipe"; mkfifo "$work/pipe"; cat "$work/pipe" > "$1" & reader=$!; }
# reader_done: the reader has the last bytes (it ends once no writer is left; bounded, then stopped).
reader_done() { until_true 5 eval '! kill -0 "$reader" 2>/dev/null' || kill "$reader" 2>/dev/null || true; wait "$reader" 2>/dev/null || true; }

# watch_restart PID: writes to $work/restarted when home's omd logs that it restarted PID from its checkpoint.
watch_restart() { rm -f "$work/restarted"
  ( while [ -e "/proc/$1" ] && ! grep -q "process $1 restarted here" "$labdir/n1/omd.log" 2>/dev/null; do sleep 0.1; done
    grep -q "process $1 restarted here" "$labdir/n1/omd.log" 2>/dev/null && now > "$work/restarted" ) & restart_watcher=$!; }
# watch_end PID: writes to $work/ended when PID ends (a zombie counts as ended), whatever the script is doing then.
watch_end() { rm -f "$work/ended"
  ( while [ -e "/proc/$1" ] && ! grep -q ') Z ' "/proc/$1/stat" 2>/dev/null; do sleep 0.05; done; now > "$work/ended" ) & watcher=$!; }

declare -A reference
reference_of() { # reference_of MIB TICKS -> file with memticker's output when nothing happens to it
  local key=$1-$2
  if [ -z "${reference[$key]:-}" ]; then
    reference[$key]=$work/ref-$key; "$programs/memticker" "$1" "$2" 0 > "${reference[$key]}"
  fi
  echo "${reference[$key]}"; }

# One run. Globals set for the fault functions: runner (the deputy's PID), out (its output), fault_start, fault_end
# (when output may flow again; empty when nothing ends the fault).
results=()
run_once() { # run_once KIND MIB TICKS
  local kind=$1 mib=$2 ticks=$3 started ref status=0 recovery=- detect=- lost=no identical=no before bound ended restarted=-
  out=$work/out; err=$work/err; rm -f "$out" "$err"; fault_start=; fault_end=
  ref=$(reference_of "$mib" "$ticks")
  started=$(now)
  read_at_home "$out"
  "$om" lab exec --name "$lab" 1 -- "$om" run "$programs/memticker" "$mib" "$ticks" 50 > "$work/pipe" 2> "$err" &
  runner=$!; watch_end "$runner"; watch_restart "$runner"
  until_true 120 grep -q '^tick 2$' "$out" || { log "$kind: memticker not ticking"; }
  "fault_$kind" || true
  if [ -n "$fault_end" ]; then # recovery: the fault's end until the file grows again (or the run ends)
    before=$(lines "$out")
    until_true 60 eval '[ "$(lines "$out")" -gt "$before" ] || ! kill -0 "$runner" 2>/dev/null' || true
    [ "$(lines "$out")" -gt "$before" ] && recovery=$(since "$fault_end")
  fi
  bound=$(( ticks / 20 + 90 ))
  if ! until_true "$bound" eval '! kill -0 "$runner" 2>/dev/null'; then kill -9 "$runner" 2>/dev/null || true; status=hung; fi
  [ "$status" = hung ] || { wait "$runner" && status=0 || status=$?; }
  wait "$watcher" 2>/dev/null || true; ended=$(cat "$work/ended")
  wait "$restart_watcher" 2>/dev/null || true
  [ -s "$work/restarted" ] && [ -n "$fault_start" ] && restarted=$(awk -v s="$fault_start" -v e="$(cat "$work/restarted")" 'BEGIN{printf "%.2f", e-s}')
  reader_done
  cmp -s "$out" "$ref" && [ "$status" = 0 ] && identical=yes
  if grep -qE "process $runner (lost|\(.*\) on node [0-9]+ lost at stop)" "$labdir/n1/omd.log" 2>/dev/null || { [ "$status" != 0 ] && ! grep -q '^memticker done' "$out"; }; then
    lost=yes
    [ -n "$fault_start" ] && detect=$(awk -v s="$fault_start" -v e="$ended" 'BEGIN{printf "%.2f", e-s}')
  fi
  # CHAOS_LOGS=DIR keeps both omd logs of every run that lost its process, for a look at why.
  if [ "$lost" = yes ] && [ -n "${CHAOS_LOGS:-}" ]; then
    mkdir -p "$CHAOS_LOGS"; cp "$labdir/n1/omd.log" "$CHAOS_LOGS/$kind-$runner-n1.log"; cp "$labdir/n2/omd.log" "$CHAOS_LOGS/$kind-$runner-n2.log"
  fi
  local stray; stray=$(strays)
  results+=("$kind|$identical|$status|$lost|$recovery|$detect|$stray|$(awk -v s="$started" -v e="$ended" 'BEGIN{printf "%.1f", e-s}')|$restarted")
  log "$kind: identical $identical, status $status, lost $lost, restarted after $restarted s, recovery $recovery s, lost after $detect s, strays $stray, lines $(lines "$out")/$(lines "$ref")"
  healthy
}

move_to_2() { local try
  for try in 1 2 3; do
    "$om" lab exec --name "$lab" 1 -- "$om" migrate "$runner" 2 > /dev/null 2>> "$err" && { sleep 1; return 0; }
    sleep 2
  done; log "the move to node 2 failed: $(tail -1 "$err")"; return 1; }
# move_checkpointed: moved to node 2 and running there until home holds its first checkpoint (bounded). Looked for
# inside node 1: fulldisk's tmpfs is mounted there only.
move_checkpointed() { move_to_2 || return 1
  until_true 30 in_node test -e "$labdir/n1/state/checkpoints/$runner.ckpt" || log "no checkpoint of $runner at home after 30 s"; }
cut_for() { fault_start=$(now); fault cut 2; sleep "$1"; fault heal 2; fault_end=$(now); }
fault_cut5() { move_to_2 && cut_for 5; }
fault_cut15() { move_checkpointed && cut_for 15; }
# kill2: revived only once home has given the copy up (or after 30 s): a node revived sooner answers the old link with
# a reset, and 'lost after' would time the revive, not the crash's detection.
fault_kill2() { move_checkpointed || return 1; fault_start=$(now); fault kill 2
  until_true 30 eval '! kill -0 "$runner" 2>/dev/null || [ -s "$work/restarted" ]' || true; fault revive 2; fault_end=$(now); }
fault_restart2() { move_to_2 || return 1; fault_start=$(now); fault restart 2; fault_end=$(now); }
fault_restart1() { move_to_2 || return 1; fault_start=$(now); fault restart 1; fault_end=$(now); }
fault_sigkill1-away() { move_to_2 || return 1; fault_start=$(now); fault restart 1 --kill; fault_end=$(now); }
fault_sigkill2-away() { move_to_2 || return 1; fault_start=$(now); fault restart 2 --kill; fault_end=$(now); }
fault_sigkill21-away() { move_to_2 || return 1; fault_start=$(now); fault restart 2 --kill
  until_true 30 grep -q "(process $runner of node 1) resumed by its home" "$labdir/n2/omd.log" || log "the copy of $runner was not resumed on node 2 within 30 s"
  fault restart 1 --kill; fault_end=$(now); }
fault_netem() { move_to_2 || return 1; fault_start=$(now); fault netem 2 --loss 5 --delay "$netem_delay"; sleep 5; fault netem 2 --clear; fault_end=$(now); }
# sigkill_during NODE [--no-precopy]: the move starts; once node 2's omd has a child (the process it restores into),
# the image is on its way: the omd of NODE is SIGKILLed then, and started again.
sigkill_during() { local node=$1 target victim mig
  target=$(daemon_pid 2); victim=$(daemon_pid "$node")
  "$om" lab exec --name "$lab" 1 -- "$om" migrate "$runner" 2 ${2:-} > /dev/null 2>> "$err" & mig=$!
  until_true 60 eval 'children_of "$target" || ! kill -0 "$mig" 2>/dev/null' || true
  kill -0 "$mig" 2>/dev/null || log "the move ended before omd could be killed"
  kill -9 "$victim"; fault_start=$(now)
  wait "$mig" 2>/dev/null || true
  log "om migrate: $(tail -1 "$err")"
  fault restart "$node"; fault_end=$(now); }
rss_kib() { awk '/^VmRSS/ {print $2; f=1} END {if (!f) print 0}' "/proc/$1/status" 2>/dev/null || echo 0; }
# sigkill_homeward NODE: moved to node 2, then brought home; once the deputy at home has taken 64 MiB of the trip's
# pre-copy (its resident memory, near zero while it is a deputy), the omd of NODE is SIGKILLed, and started again.
sigkill_homeward() { local node=$1 victim mig
  move_to_2 || return 1
  victim=$(daemon_pid "$node")
  "$om" lab exec --name "$lab" 1 -- "$om" migrate "$runner" home > /dev/null 2>> "$err" & mig=$!
  until_true 120 eval '[ "$(rss_kib "$runner")" -gt 65536 ] || ! kill -0 "$mig" 2>/dev/null' || true
  kill -0 "$mig" 2>/dev/null || log "the trip home ended before omd could be killed"
  kill -9 "$victim"; fault_start=$(now)
  # Started again before `om migrate` is waited for: home may wait for a new omd on node 2 before it answers.
  fault restart "$node"; fault_end=$(now)
  wait "$mig" 2>/dev/null || true
  log "om migrate home: $(tail -1 "$err")"; }
# sigkill_postcopy NODE: moved to node 2 by post-copy; as soon as the copy runs there (its memory still at home), the
# omd of NODE is SIGKILLed, and started again. A post-copy home already logged as done is said so (the run then tests
# a process away, not a post-copy).
sigkill_postcopy() { local node=$1 victim
  victim=$(daemon_pid "$node")
  "$om" lab exec --name "$lab" 1 -- "$om" migrate "$runner" 2 --postcopy always > /dev/null 2>> "$err" || { log "the post-copy move failed: $(tail -1 "$err")"; return 1; }
  kill -9 "$victim"; fault_start=$(now)
  grep -q "Process $runner: post-copy to node 2 done" "$labdir/n1/omd.log" && log "the post-copy was over before omd was killed"
  fault restart "$node"; fault_end=$(now); }
fault_sigkill1-home() { sigkill_homeward 1; }
fault_sigkill2-home() { sigkill_homeward 2; }
fault_sigkill1-post() { sigkill_postcopy 1; }
fault_sigkill2-post() { sigkill_postcopy 2; }
fault_sigkill1-pre() { sigkill_during 1; }
fault_sigkill2-pre() { sigkill_during 2; }
fault_sigkill1-frozen() { sigkill_during 1 --no-precopy; }
fault_sigkill2-frozen() { sigkill_during 2 --no-precopy; }
# fulldisk: home's checkpoint directory, a tmpfs mounted in node 1 for the run, filled once the first checkpoint is
# stored; home must refuse the later ones (the guest runs on) and restart from the first after node 2 crashes.
fault_fulldisk() { local dir=$labdir/n1/state/checkpoints
  in_node sh -c "mount -t tmpfs -o size=64m,mode=0700 chaosckpt '$dir'" || { log "fulldisk: cannot mount a tmpfs on $dir"; return 1; }
  move_checkpointed || return 1
  in_node sh -c "cat /dev/zero > '$dir/filler' 2> /dev/null; true"
  until_true 30 grep -q "process $runner: checkpoint [0-9]* refused: .*No space" "$labdir/n1/omd.log" || log "fulldisk: no checkpoint refused for a full disk after 30 s"
  fault_start=$(now); fault kill 2
  until_true 30 eval '! kill -0 "$runner" 2>/dev/null || [ -s "$work/restarted" ]' || true
  fault revive 2; fault_end=$(now); }
# fulldisk_done: the tmpfs goes once the run is over (the restarted process no longer needs its checkpoint).
fulldisk_done() { in_node sh -c "umount '$labdir/n1/state/checkpoints'" 2> /dev/null || true; }
# cpfull: a plain memticker (omd does not trace it, so `om checkpoint` may), checkpointed into the full tmpfs.
cpfull_once() { local ref status=0 identical=no lost=no pid started cp
  out=$work/out; rm -f "$out"; ref=$(reference_of 16 100); started=$(now)
  read_at_home "$out"
  "$om" lab exec --name "$lab" 1 -- "$programs/memticker" 16 100 50 > "$work/pipe" & pid=$!
  until_true 60 grep -q '^tick 2$' "$out" || true
  cp=ok; "$om" lab exec --name "$lab" 1 -- "$om" checkpoint "$pid" -o "$full/image" > /dev/null 2> "$work/cperr" || cp=$(tail -1 "$work/cperr")
  log "cpfull: checkpoint: $cp; left in the tmpfs: $(ls "$full" | wc -l) files"
  wait "$pid" && status=0 || status=$?
  reader_done
  cmp -s "$out" "$ref" && [ "$status" = 0 ] && identical=yes
  [ "$status" = 0 ] || lost=yes
  results+=("cpfull|$identical|$status|$lost|-|-|0|$(since "$started")")
  log "cpfull: identical $identical, status $status"
  rm -f "$full"/* 2>/dev/null || true
}

netem_missing=
netem_delay=50
unshare -n tc qdisc add dev lo root netem delay 1ms 2>/dev/null || netem_missing="this kernel has no sch_netem (CONFIG_NET_SCH_NETEM): loss by a tc filter, delay by om lab's relay"
skipped=()
for kind in ${faults//,/ }; do
  if [ "$kind" = netem ] && [ -n "$netem_missing" ]; then log "netem: $netem_missing"; fi
  for round in $(seq "$rounds"); do
    case "$kind" in
      cpfull) cpfull_once ;;
      fulldisk) run_once "$kind" 16 700; fulldisk_done ;;
      cut15|kill2) run_once "$kind" 16 500 ;;
      sigkill*-away) run_once "$kind" 16 300 ;;
      sigkill*) run_once "$kind" 512 300 ;;
      *) run_once "$kind" 16 300 ;;
    esac
  done
done

# Summary per fault: runs, identical, lost, median recovery (of the runs that recovered), median time to lost,
# strays, median wall time.
summary() { local kind=$1 n=0 same=0 gone=0 stray=0 rec=() det=() wall=() statuses=() restarts=() r k i s l rc d st w rs
  for r in "${results[@]}"; do
    IFS='|' read -r k i s l rc d st w rs <<< "$r"
    [ "$k" = "$kind" ] || continue
    n=$((n + 1)); [ "$i" = yes ] && same=$((same + 1)); [ "$l" = yes ] && gone=$((gone + 1)); stray=$((stray + st))
    [ "$rc" = - ] || rec+=("$rc"); [ "$d" = - ] || det+=("$d"); wall+=("$w"); statuses+=("$s"); [ "${rs:--}" = - ] || restarts+=("$rs")
  done
  [ "$n" -gt 0 ] || return 0
  local mr=- md=- mrs=-; [ "${#rec[@]}" -gt 0 ] && mr=$(median "${rec[@]}"); [ "${#det[@]}" -gt 0 ] && md=$(median "${det[@]}")
  [ "${#restarts[@]}" -gt 0 ] && mrs=$(median "${restarts[@]}")
  local st_list; st_list=$(printf '%s\n' "${statuses[@]}" | sort | uniq -c | awk '{printf "%s%s×%s", (NR > 1 ? ", " : ""), $1, $2}')
  if [ "$markdown" = 1 ]; then
    echo "| $kind | $n | $same | $gone | ${#restarts[@]} | $mrs | $st_list | $mr | $md | $stray | $(median "${wall[@]}") |"
  else
    printf '%-16s %4s %9s %4s %9s %10s  %-14s %10s %10s %6s %8s\n' "$kind" "$n" "$same" "$gone" "${#restarts[@]}" "$mrs" "$st_list" "$mr" "$md" "$stray" "$(median "${wall[@]}")"
  fi
}
if [ "$markdown" = 1 ]; then
  echo "| fault | runs | identical output, status 0 | lost | restarted | restart after (s, median) | exit statuses | recovery (s, median) | lost after (s, median) | copies left on node 2 | wall (s, median) |"
  echo "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"
else
  printf '%-16s %4s %9s %4s %9s %10s  %-14s %10s %10s %6s %8s\n' fault runs identical lost restarted restart_s statuses recovery_s lost_after strays wall_s
fi
for kind in ${faults//,/ }; do summary "$kind"; done
for s in "${skipped[@]}"; do echo; echo "Skipped $s."; done
echo; echo "Load average at the end: $(cut -d' ' -f1 /proc/loadavg)."
