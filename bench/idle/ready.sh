#!/usr/bin/env bash
# bench/idle/ready.sh: how long omd takes from its start until its admin socket answers (what `om lab up`, the init
# script and the tests wait for), and its RSS once it has settled. One node alone on a loopback address of its own,
# with ports of its own, so that it meets no other omd of this machine; started RUNS times, median and range printed.
# Pass OM_BIN=... to measure another build of om, e.g. the one before a change, in the same conditions.
# --no-web: leave out omd.toml's [web] table, for builds older than web.listen.
# usage: bench/idle/ready.sh [--runs 7] [--settle 10] [--no-web]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
runs=7; settle=10; web=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --no-web) web=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
source "$here/../common.sh"
dir=$(mktemp -d /tmp/omready.XXXXXX)
pid=
# Every step may fail (omd already gone) without keeping the directory: set -e holds inside the trap too.
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
address=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).1
base=$((20000 + RANDOM % 20000))
"$om" keygen "$dir/cluster.key" > /dev/null
"$om" ca init --dir "$dir/ca" > /dev/null
"$om" ca issue 1 --address "$address" --dir "$dir/ca" --out "$dir/tls" > /dev/null
echo "1 $address 1" > "$dir/map"
cat > "$dir/omd.toml" <<TOML
[node]
id = 1
address = "$address"
[paths]
map = "$dir/map"
key = "$dir/cluster.key"
tls_dir = "$dir/tls"
socket = "$dir/omd.sock"
state_dir = "$dir/state"
[gossip]
port = $base
[migration]
port = $((base + 2))
TOML
[ "$web" = 1 ] && printf '[web]\nlisten = "%s:%d"\n' "$address" $((base + 3)) >> "$dir/omd.toml"
export OM_SOCKET=$dir/omd.sock
times=()
for _ in $(seq "$runs"); do
  start=$(now)
  "$om" daemon --config "$dir/omd.toml" > "$dir/omd.log" 2>&1 &
  pid=$!
  until "$om" status > /dev/null 2>&1; do
    kill -0 "$pid" 2> /dev/null || { cat "$dir/omd.log" >&2; exit 1; }
    sleep 0.005
  done
  times+=("$(awk -v s="$start" -v e="$(now)" 'BEGIN{printf "%.0f", (e-s)*1000}')")
  kill "$pid"; wait "$pid" || true; pid=
done
"$om" daemon --config "$dir/omd.toml" > "$dir/omd.log" 2>&1 &
pid=$!
sleep "$settle"
rss() { awk '/VmRSS/{printf "%d", $2/1024}' /proc/"$pid"/status; }
idle=$(rss)
scraped=-
if [ "$web" = 1 ]; then
  for _ in $(seq 10); do curl -sf "http://$address:$((base + 3))/metrics" > /dev/null; done
  scraped=$(rss)
fi
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
echo "start to ready, ms: median $(median "${times[@]}") (runs: $sorted); RSS after ${settle}s: $idle MiB, after 10 scrapes of /metrics: $scraped MiB; om $(stat -c %s "$om") bytes"
