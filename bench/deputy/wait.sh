# Sourced by the bench/deputy scripts. wait_for FILE WORD PID [SECONDS]: until the program prints WORD; fails if it
# dies first or takes more than SECONDS (60).
wait_for() {
  local tries=0 limit=$(( ${4:-60} * 20 ))
  until grep -q "$2" "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || { echo "the benchmark program ended early: $(cat "$1")" >&2; exit 1; }
    tries=$((tries + 1)); [ "$tries" -lt "$limit" ] || { echo "no '$2' after ${4:-60} s" >&2; exit 1; }
    sleep 0.05
  done
}
