# Sourced by the bench/deputy scripts.
#
# wait_for FILE WORD PID [SECONDS]: until the program prints WORD; fails if it
# dies first or takes more than SECONDS (60).
wait_for() {
  local tries=0 limit=$(( ${4:-60} * 20 ))
  until grep -q "$2" "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || { echo "the benchmark program ended early: $(cat "$1")" >&2; exit 1; }
    tries=$((tries + 1)); [ "$tries" -lt "$limit" ] || { echo "no '$2' after ${4:-60} s" >&2; exit 1; }
    sleep 0.05
  done
}

# deputy_lab NAME: the 2-node lab (one CPU each, no balancing) the bulk and connect benches run in, named NAME unless
# OM_BENCH_LAB says otherwise; $work is a scratch directory; the PIDs in $servers, the lab and $work go at exit.
deputy_lab() {
  [ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
  lab=${OM_BENCH_LAB:-$1}
  source "$here/../common.sh"
  work=$(mktemp -d)
  servers=()
  trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done; "$om" lab down --name "$lab" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
  lab_up --nodes 2 --cpus 1,1 --no-balance
}
