#!/usr/bin/env bash
# bench/migration/links.sh: what securing node links costs whole migrations (issue #16). Two 2-node labs (1 CPU per
# node) up side by side: one runs om as built (mutual TLS 1.3, then AES-GCM records), the other a build of om made by
# this script alone (OmBenchPlainRecords, in a directory of its own, never a product build) whose links carry their
# frames in clear after the same handshake. memticker is moved from node 1 to node 2 with pre-copy and without, in
# both labs alternately (ABBA, so drift falls on both), and a plain TCP copy of the same bytes runs in each lab as the
# floor. Prints medians with their ranges, the secured ÷ plain ratios (goal <= 1.10) and the load. Needs root.
# The plain build is published on every run (incremental, but NativeAOT: minutes on a loaded machine).
# usage: bench/migration/links.sh [--sizes 64,512] [--rounds 3] [--name blinks] (at most 9 characters: each lab adds one) [--markdown]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
root=$(cd "$here/../.." && pwd)
om=${OM_BIN:-$root/artifacts/bin/om}
programs=${OM_TEST_PROGRAMS:-$root/tests/Programs/build}
sizes=64,512; rounds=3; markdown=0; name=blinks
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    *) echo "unknown argument $1 (--sizes 64,512 --rounds N --name LAB --markdown)" >&2; exit 2 ;;
  esac
done
[ -x "$om" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
make -s -C "$root/tests/Programs"
load() { cut -d' ' -f1 /proc/loadavg; }
load_before=$(load)

# The plain build: obj and bin of its own (--artifacts-path), so that nothing the tests or omd use is overwritten.
plain_build=$root/artifacts/bench-plain-records
dotnet publish "$root/src/OpenMosix.Cli/OpenMosix.Cli.csproj" -c Release -p:OmBenchPlainRecords=true \
  --artifacts-path "$plain_build/build" -o "$plain_build/bin" -v quiet -nologo -clp:ErrorsOnly > /dev/null
plain_om=$plain_build/bin/om

secured=${name}s; plain=${name}p
declare -A bin=([$secured]=$om [$plain]=$plain_om) target=()
down() { "$om" lab down --name "$secured" > /dev/null 2>&1 || true; "$plain_om" lab down --name "$plain" > /dev/null 2>&1 || true; }
down
trap down EXIT
for lab in "$secured" "$plain"; do
  "${bin[$lab]}" lab up --name "$lab" --nodes 2 --cpus 1,1 > /dev/null
  target[$lab]=$("${bin[$lab]}" lab status --name "$lab" --json | python3 -c 'import json,sys; print([n["address"] for n in json.load(sys.stdin)["nodes"] if n["id"]==2][0])')
  "${bin[$lab]}" lab exec --name "$lab" 2 -- python3 "$here/tcpcopy.py" recv 7777 > /dev/null &
done
sleep 0.5

# wait_ready FILE PID: until the program started in the background prints "ready" (at most two minutes).
wait_ready() {
  local tries=0
  until grep -q ready "$1" 2>/dev/null; do
    kill -0 "$2" 2>/dev/null || { echo "benchmark target exited before it was ready" >&2; exit 1; }
    tries=$((tries + 1)); [ "$tries" -lt 2400 ] || { echo "benchmark target not ready after 2 minutes" >&2; exit 1; }
    sleep 0.05
  done
}
# move LAB MIB [--no-precopy] -> "frozen_s whole_s": memticker MIB under om run on node 1 of LAB, moved to node 2, killed.
move() {
  local lab=$1 mib=$2 option=${3:-} out runner moved
  out=$(mktemp)
  "${bin[$lab]}" lab exec --name "$lab" 1 -- "${bin[$lab]}" run "$programs/memticker" "$mib" 100000 100 > "$out" &
  runner=$!
  wait_ready "$out" "$runner"
  moved=$("${bin[$lab]}" lab exec --name "$lab" 1 -- "${bin[$lab]}" migrate "$runner" 2 $option 2>&1)
  kill -9 "$runner" 2>/dev/null || true; wait "$runner" 2>/dev/null || true; rm -f "$out"
  python3 - "$moved" <<'PY'
import re, sys
m = re.search(r"\(([0-9.]+) MiB, frozen ([0-9]+) ms(?:, after \d+ pre-copy rounds? of [0-9.]+ MiB while it ran, ([0-9]+) ms in all)?\)", sys.argv[1])
if not m: sys.exit("migration failed: " + sys.argv[1])
frozen = int(m.group(2)) / 1000
print(frozen, int(m.group(3)) / 1000 if m.group(3) else frozen)
PY
}
copy() { "${bin[$1]}" lab exec --name "$1" 1 -- python3 "$here/tcpcopy.py" send "${target[$1]}" 7777 "$2"; }

# The plain lab must really be plain, and the secured one not: each omd's log says which it ran.
check_builds() {
  grep -q "carry their frames in clear" "/run/omlab/$plain/n1/omd.log" || { echo "the plain lab's omd did not run the plain build" >&2; exit 1; }
  ! grep -q "carry their frames in clear" "/run/omlab/$secured/n1/omd.log" || { echo "the secured lab ran the plain build" >&2; exit 1; }
}

declare -A values=()
add() { values[$1]="${values[$1]:-} $2"; }
for mib in ${sizes//,/ }; do
  for round in $(seq "$rounds"); do
    order=("$secured" "$plain"); [ $((round % 2)) = 0 ] && order=("$plain" "$secured")
    for lab in "${order[0]}" "${order[1]}" "${order[1]}" "${order[0]}"; do
      read -r f t <<< "$(move "$lab" "$mib")"; add "$lab $mib pre" "$f"; add "$lab $mib whole" "$t"
      read -r f _ <<< "$(move "$lab" "$mib" --no-precopy)"; add "$lab $mib nopre" "$f"
      add "$lab $mib copy" "$(copy "$lab" "$mib")"
    done
  done
done
check_builds

# stat LAB MIB KIND -> "median (min-max)"; med LAB MIB KIND -> median
stat() { python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.3f} ({min(v):.3f}-{max(v):.3f})")' ${values["$1 $2 $3"]}; }
med() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' ${values["$1 $2 $3"]}; }
ratio() { awk -v a="$(med "$secured" "$1" "$2")" -v b="$(med "$plain" "$1" "$2")" 'BEGIN{printf "%.2f", a/b}'; }
kinds=(copy pre whole nopre)
titles=("TCP copy (s)" "pre-copy: frozen (s)" "pre-copy: whole move (s)" "no pre-copy: frozen (s)")
echo "bench/migration/links.sh: memticker moved node 1 → node 2, $rounds rounds of ABBA (each lab twice a round), medians (range); load $load_before before, $(load) after"
if [ "$markdown" = 1 ]; then
  echo "| memory | measure | secured links | plain frames | secured ÷ plain |"
  echo "|---|---|---|---|---:|"
fi
for mib in ${sizes//,/ }; do
  for i in "${!kinds[@]}"; do
    k=${kinds[$i]}
    if [ "$markdown" = 1 ]; then
      echo "| $mib MiB | ${titles[$i]} | $(stat "$secured" "$mib" "$k") | $(stat "$plain" "$mib" "$k") | $(ratio "$mib" "$k") |"
    else
      printf '%-8s %-26s secured %-22s plain %-22s ratio %s\n' "$mib MiB" "${titles[$i]}" "$(stat "$secured" "$mib" "$k")" "$(stat "$plain" "$mib" "$k")" "$(ratio "$mib" "$k")"
    fi
  done
done
