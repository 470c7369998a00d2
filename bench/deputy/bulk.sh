#!/usr/bin/env bash
# bench/deputy/bulk.sh: bulk transfer through forwarded descriptors against the same at home. bulk.py under om run in
# node 1 of a 2-node lab moves N MiB through fd 7 (a FIFO read at home by cat), reads N MiB from fd 8 (a pipe that
# cat fills from /dev/zero at home; only the program holds its read end), sends N MiB over a TCP connection to
# a sink in node 1 and receives N MiB over one from a source there; then it is moved to node 2 and does it again,
# each call carried home. Reports MiB/s of each, median over the rounds, and the load average; and, for the moved part,
# the CPU time each omd spent per MiB in each phase (home's omd, the copy's node's), read from /proc/PID/stat before and
# after each phase (the program waits for a SIGUSR1 before each, so the omds are idle while they are read): a measure
# the load of other processes moves less than MiB/s, where the omds get a share of a CPU.
# --base OM also runs the same rounds with another build's om (say main's) in a lab of its own, base and change in
# turns, so both see the same minutes of load; --perf FILE records `perf record -a -g` of the change's moved part of
# the first round (symbols: `perf buildid-cache -a artifacts/bin/om.dbg`). Needs root.
# usage: bench/deputy/bulk.sh [--mib 256] [--rounds 3] [--base OM] [--perf FILE] [--markdown]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
mib=256; rounds=3; markdown=0; base=""; perf_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mib) mib=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --perf) perf_out=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -z "$base" ] || [ -x "$base" ] || { echo "no om at $base" >&2; exit 2; }
source "$here/wait.sh"
load_before=$(cut -d' ' -f1 /proc/loadavg)
deputy_lab benchbulk
change_om=$om change_lab=$lab
variants=(change)
if [ -n "$base" ]; then
  # The base's lab, made and removed by the base's own om.
  base_lab=${lab}b
  trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done; "$change_om" lab down --name "$change_lab" > /dev/null 2>&1 || true; "$base" lab down --name "$base_lab" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
  om=$base lab=$base_lab lab_up --nodes 2 --cpus 1,1 --no-balance
  variants=(base change)
fi

declare -A results cpu
# omd_pid LAB NODE: node NODE's omd in LAB; omd_cpu PID: its CPU time so far, in clock ticks (all its threads).
omd_pid() { pgrep -f "daemon --config /run/omlab/$1/n$2/omd.toml" | head -1; }
omd_cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# one_round VARIANT ROUND: bulk.py at home and moved, with VARIANT's om and lab; its lines into results[VARIANT.where.what].
one_round() {
  local variant=$1 round=$2 om lab fifo out port runner perf_pid=""
  if [ "$variant" = base ]; then om=$base lab=$base_lab; else om=$change_om lab=$change_lab; fi
  fifo=$work/fifo$variant$round out=$work/out$variant$round port=$((30000 + RANDOM % 20000))
  mkfifo "$fifo"
  cat "$fifo" > /dev/null &
  in_node python3 "$here/bulkserver.py" "$port" > "$work/server$variant$round" &
  servers+=($!)
  wait_for "$work/server$variant$round" listening "${servers[-1]}"
  # The pipe reaches fd 8 through stdin, so that no shell here keeps its read end (a pipe another process reads is not
  # read ahead); cat ends by SIGPIPE once the program has.
  { cat /dev/zero || true; } | "$om" lab exec --name "$lab" 1 -- "$om" run python3 "$here/bulk.py" "$port" "$mib" 8<&0 0< /dev/null > "$out" 7> "$fifo" &
  runner=$!
  wait_for "$out" ready "$runner" 300
  "$om" lab exec --name "$lab" 1 -- "$om" migrate "$runner" 2 > /dev/null 2>&1
  if [ -n "$perf_out" ] && [ "$variant" = change ] && [ "$round" = 1 ]; then
    perf record -a -g -F 1999 -o "$perf_out" > /dev/null 2>&1 &
    perf_pid=$!
    sleep 0.5 # perf's start-up, not measured
  fi
  local what home_omd node_omd home_before node_before
  home_omd=$(omd_pid "$lab" 1) node_omd=$(omd_pid "$lab" 2)
  kill -USR1 "$runner"
  for what in pipe pipein send recv; do
    wait_for "$out" "next $what" "$runner" 300
    home_before=$(omd_cpu "$home_omd") node_before=$(omd_cpu "$node_omd")
    kill -USR1 "$runner"
    wait_for "$out" "moved $what " "$runner" 300
    cpu[$variant.home.$what]+="$(per_mib $(($(omd_cpu "$home_omd") - home_before))) "
    cpu[$variant.node.$what]+="$(per_mib $(($(omd_cpu "$node_omd") - node_before))) "
  done
  wait "$runner"
  [ -z "$perf_pid" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
  kill "${servers[-1]}" 2>/dev/null || true
  while read -r where what rate; do results[$variant.$where.$what]+="$rate "; done < "$out"
}
# per_mib TICKS: milliseconds of CPU per MiB moved.
per_mib() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v m="$mib" 'BEGIN{printf "%.2f", t * 1000 / hz / m}'; }
for round in $(seq "$rounds"); do
  for variant in "${variants[@]}"; do one_round "$variant" "$round"; done
done
load_after=$(cut -d' ' -f1 /proc/loadavg)
cells() { local h m; h=$(median ${results[$1.home.$2]}); m=$(median ${results[$1.moved.$2]}); echo "$h | $m | $(ratio "$m" "$h")"; }
row() { local line="$2"; for v in "${variants[@]}"; do line+=" | $(cells "$v" "$1")"; done; echo "$line"; }
if [ "$markdown" = 1 ]; then
  header="| $mib MiB, medians of $rounds" separator="|---"
  for v in "${variants[@]}"; do header+=" | $v: home (MiB/s) | $v: moved (MiB/s) | $v: moved / home"; separator+="|---|---|---"; done
  echo "$header |"; echo "$separator|"
  echo "| $(row pipe "written to fd 7, a FIFO read at home") |"
  echo "| $(row pipein "read from fd 8, a pipe written at home") |"
  echo "| $(row send "sent over TCP to a sink at home") |"
  echo "| $(row recv "received over TCP from a source at home") |"
  echo; echo "| omd CPU per MiB moved (ms), medians of $rounds$(for v in "${variants[@]}"; do printf ' | %s: home omd | %s: node omd' "$v" "$v"; done) |"
  echo "|---$(for v in "${variants[@]}"; do printf '|---|---'; done)|"
  for what in pipe pipein send recv; do echo "| $what$(for v in "${variants[@]}"; do printf ' | %s | %s' "$(median ${cpu[$v.home.$what]})" "$(median ${cpu[$v.node.$what]})"; done) |"; done
else
  echo "columns: ${variants[*]} (home | moved | moved/home)"
  row pipe "fifo write"; row pipein "pipe read"; row send "tcp send"; row recv "tcp recv"
  echo "omd cpu ms per MiB moved: ${variants[*]} (home omd | node omd)"
  for what in pipe pipein send recv; do
    line="$what"; for v in "${variants[@]}"; do line+=" | $(median ${cpu[$v.home.$what]}) | $(median ${cpu[$v.node.$what]})"; done; echo "$line"
  done
fi
echo "load average $load_before before, $load_after after"
