#!/usr/bin/env bash
# Cost of periodic checkpoints (issue #17 part 2) on a running CPU and memory job, side by side in one run: a 3-node
# lab, node 1 checkpointing its processes away at omd's default (checkpoint.interval_ms 20000), node 3 not at all
# (0). The same job (churner: rewrites pages of its memory, discards some, grows its heap, every tick) is started with
# `om run` on node 1 and on node 3 at once and both are moved to node 2 (2 CPUs: each job has one), so both run in
# the same conditions but one is checkpointed. Reported per round: each job's wall time, the slowdown of the
# checkpointed one, and the checkpoints its home stored. The first checkpoint is whole, the others incremental.
# usage: bench/ckptcost/run.sh [--rounds 3] [--mb 64] [--ticks 300000]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
programs=${OM_TEST_PROGRAMS:-$root/tests/Programs/build}
rounds=3; mb=64; ticks=300000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --mb) mb=$2; shift 2 ;;
    --ticks) ticks=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/ckptcost needs root (it builds a lab)" >&2; exit 1; }
[ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
make -s -C "$root/tests/Programs"
lab=benchckpt
source "$here/../common.sh"
work=$(mktemp -d /tmp/benchckpt.XXXXXX)
trap '"$om" lab down --name "$lab" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
lab_up --nodes 3 --cpus 1,2,1 --no-balance --timeout 30
labdir=/run/omlab/$lab
# Home's setting decides: node 1 at omd's default, node 3 off. omd reads omd.toml again when restarted.
sed -i 's/^interval_ms = 5000$/interval_ms = 20000/' "$labdir/n1/omd.toml"
sed -i 's/^interval_ms = 5000$/interval_ms = 0/' "$labdir/n3/omd.toml"
"$om" lab restart --name "$lab" 1 > /dev/null
"$om" lab restart --name "$lab" 3 > /dev/null

# job NODE OUT: churner started with om run on NODE, moved to node 2; prints its wall time in seconds when done.
job() { local node=$1 out=$2 started pid try
  started=$(now)
  "$om" lab exec --name "$lab" "$node" -- "$om" run "$programs/churner" "$mb" "$ticks" 0 > "$out" &
  pid=$!
  until grep -q . "$out" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  # Retried: an omd just restarted may not know node 2 yet.
  for try in $(seq 30); do "$om" lab exec --name "$lab" "$node" -- "$om" migrate "$pid" 2 > /dev/null 2>&1 && break; sleep 1; done
  wait "$pid"
  since "$started"
}

echo "| round | with checkpoints (s) | without (s) | slowdown | checkpoints stored |"
echo "|---:|---:|---:|---:|---:|"
for round in $(seq "$rounds"); do
  before=$(grep -c "checkpoint [0-9]* stored" "$labdir/n1/omd.log" 2>/dev/null || true)
  job 1 "$work/with" > "$work/t-with" &
  with=$!
  job 3 "$work/without" > "$work/t-without" &
  without=$!
  wait "$with" "$without"
  cmp -s "$work/with" "$work/without" || { echo "round $round: the two runs printed different output" >&2; exit 1; }
  stored=$(( $(grep -c "checkpoint [0-9]* stored" "$labdir/n1/omd.log" 2>/dev/null || true) - before ))
  a=$(cat "$work/t-with"); b=$(cat "$work/t-without")
  echo "| $round | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%+.1f %%", (a/b-1)*100}') | $stored |"
done
echo; echo "Load average at the end: $(cut -d' ' -f1 /proc/loadavg)."
