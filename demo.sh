#!/usr/bin/env bash
# The openMosix.NET demo, in four parts.
# 1. Checkpoint/restore: a real, unmodified program (python3) is frozen mid-run, written to an image and killed; a
#    new process is rebuilt from the image and carries on; its output is compared with an uninterrupted run.
# 2. Migration: a 3-node cluster comes up on this machine (`om lab`), the same program is started in node 1 with
#    `om run` and moved to node 2, to node 3 and home again while it runs; its output keeps coming to this
#    terminal, its PID never changes, and `wait` gets its exit status. Needs root (namespaces, cgroups, ptrace).
# 3. Load balancing: 8 CPU-bound python3 jobs are started on node 1 of 4 nodes of half a CPU each, once with the
#    nodes balancing and once without; the cluster spreads them by itself, and the speed-up is measured.
# 4. Fork-and-forget: one shell started with om run on node 1 forks the same eight jobs with `&`; its children are
#    managed from birth and placed at their exec, as openMosix users knew it; the speed-up is measured.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/close-inherited-fds.sh
bash scripts/build.sh
om="$PWD/artifacts/bin/om"
work=$(mktemp -d /tmp/om-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

cat > "$work/primes.py" <<'PY'
import sys, time
# Counts primes below growing limits, printing as it goes; about 4 seconds in all.
def primes_below(n):
    sieve = bytearray([1]) * n
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(range(i * i, n, i)))
    return sum(sieve)
for step in range(1, 41):
    limit = step * 50_000
    print(f"step {step:2d}: {primes_below(limit):6d} primes below {limit}", flush=True)
    time.sleep(0.08)
print("done", flush=True)
PY

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say "reference: an uninterrupted run"
python3 "$work/primes.py" > "$work/reference.txt"
echo "$(wc -l < "$work/reference.txt") lines"

say "start the same program; its output goes to a file, shown here as it grows"
python3 "$work/primes.py" > "$work/run.txt" &
pid=$!
tail -n +1 -f "$work/run.txt" &
tailer=$!
until [ "$(wc -l < "$work/run.txt")" -ge 12 ]; do sleep 0.05; done

say "checkpoint PID $pid mid-run, then kill it"
"$om" checkpoint "$pid" -o "$work/primes.omimg" --kill
wait "$pid" 2>/dev/null || true
"$om" image info "$work/primes.omimg" | head -n 12

say "restore the image into a new process: the output file continues where it stopped"
"$om" restore "$work/primes.omimg"
kill "$tailer" 2>/dev/null || true

say "compare with the uninterrupted run"
if cmp -s "$work/reference.txt" "$work/run.txt"; then
  echo "identical: $(wc -l < "$work/run.txt") lines, sha256 $(sha256sum < "$work/run.txt" | cut -c1-16)"
else
  diff "$work/reference.txt" "$work/run.txt" | head -n 20
  echo "DIFFERENT"; exit 1
fi

say "part 2: a 3-node cluster on this machine"
lab=omdemo
"$om" lab down --name "$lab" > /dev/null 2>&1 || true
trap '"$om" lab down --name "$lab" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
# Moves here are made by hand, so the nodes do not balance on their own (om lab up balances by default).
"$om" lab up --name "$lab" --nodes 3 --cpus 0.5,0.5,0.5 --no-balance
"$om" lab exec --name "$lab" 1 -- "$om" status

say "start the program in node 1 with om run; its output comes to this terminal"
"$om" lab exec --name "$lab" 1 -- "$om" run /usr/bin/python3 "$work/primes.py" &
pid=$!
sleep 0.8
for target in 2 3 home; do
  sleep 0.6
  say "move PID $pid to node $target while it runs"
  "$om" lab exec --name "$lab" 1 -- "$om" migrate "$pid" "$target"
  "$om" lab exec --name "$lab" 1 -- "$om" ps
done
set +e
wait "$pid"
status=$?
set -e
say "the program finished at home: exit status $status, PID $pid all along"

say "part 3: load balancing - 8 CPU-bound jobs started on node 1 of 4 nodes of half a CPU each"
cat > "$work/burn.py" <<'PY'
import sys, time
# Does a fixed number of rounds: the same work wherever it runs. (Its CPU clock would not do: it starts from zero
# again on the node a process moves to.) With --rate it prints how many rounds one CPU does in a second.
def round_():
    sum(i * i for i in range(10_000))
if sys.argv[1] == "--rate":
    start, n = time.monotonic(), 0
    while time.monotonic() - start < 1:
        round_(); n += 1
    print(n)
else:
    for _ in range(int(sys.argv[1])):
        round_()
PY
rounds=$(( $(python3 "$work/burn.py" --rate) * 5 / 2 ))   # 2.5 s of CPU each
# run_jobs BALANCE(1|0): starts the jobs on node 1, shows where they run once, prints the seconds until all are done.
run_jobs() {
  local flags=(); [ "$1" = 1 ] || flags=(--no-balance)
  "$om" lab down --name "$lab" > /dev/null 2>&1 || true
  "$om" lab up --name "$lab" --nodes 4 --cpus 0.5,0.5,0.5,0.5 "${flags[@]}" > /dev/null
  local start pids=()
  start=$(date +%s.%N)
  for _ in 1 2 3 4 5 6 7 8; do
    "$om" lab exec --name "$lab" 1 -- "$om" run /usr/bin/python3 "$work/burn.py" "$rounds" &
    pids+=($!)
  done
  sleep 3
  "$om" lab exec --name "$lab" 1 -- "$om" ps >&2
  wait "${pids[@]}"
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
say "without balancing: all eight share node 1's half CPU"
without=$(run_jobs 0)
echo "all done in $without s"
say "with balancing: omd starts them where there is CPU free, and keeps the load even"
with=$(run_jobs 1)
echo "all done in $with s"
say "speed-up: $(awk -v a="$without" -v b="$with" 'BEGIN { printf "%.2fx", a / b }') (ideal: 4x; 8 x 2.5 s of CPU over 2 CPUs is 10 s)"

say "part 4: fork-and-forget - one shell on node 1 starts the same eight jobs in the background"
"$om" lab down --name "$lab" > /dev/null 2>&1 || true
"$om" lab up --name "$lab" --nodes 4 --cpus 0.5,0.5,0.5,0.5 > /dev/null
start=$(date +%s.%N)
"$om" lab exec --name "$lab" 1 -- "$om" run bash -c \
  "for i in 1 2 3 4 5 6 7 8; do /usr/bin/python3 $work/burn.py $rounds & done; sleep 3; $om ps --tree >&2; wait"
forked=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "all done in $forked s: every job the shell forked was managed from birth and placed at its exec"
say "speed-up over one node: $(awk -v a="$without" -v b="$forked" 'BEGIN { printf "%.2fx", a / b }') (ideal: 4x)"
