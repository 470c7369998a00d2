#!/usr/bin/env bash
# bench/all.sh: runs every benchmark one after another, each as its own script would be run by hand, and writes what
# each printed into docs/performance.md ("Latest run of every bench"), headed by the machine it ran on (CPU, cores,
# memory, kernel, transparent huge pages, the commit) and, per bench, the exact command, the date, how long it took
# and the load average before and after: so that every figure there can be reproduced, and read knowing how quiet the
# machine was. The discussion in the rest of docs/performance.md is written by hand and left alone.
#
# Benches that need root (the lab ones) are skipped with a note when not run as root. A bench that fails leaves its
# last lines of stderr in its place and the others still run; the script then exits 1.
#
# usage: bench/all.sh [--only a,b] [--skip a,b] [--quick] [--print] [--list]
#   --quick   smaller sizes and fewer rounds (a check that every bench runs; not figures to publish)
#   --print   print the section instead of writing it into docs/performance.md
#   --list    the benches and the arguments each would get, then exit
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
source "$root/scripts/close-inherited-fds.sh"
doc=$root/docs/performance.md
out=$root/artifacts/bench
only=""; skip=""; quick=0; print=0; list=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=$2; shift 2 ;;
    --skip) skip=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --print) print=1; shift ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/all.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# name|needs root|full arguments|quick arguments. Order: the engine first, then what builds on it; the long lab
# benches last. Every bench that can print markdown is asked to.
benches=(
  "checkpoint|no|--sizes 64,512,2048 --runs 5 --markdown|--sizes 64 --runs 3 --markdown"
  "checkpoint-threads|no|--sizes 64,512 --threads 16 --markdown|--sizes 64 --threads 16 --markdown"
  "link|no|--markdown|--mib 128 --rounds 1 --markdown"
  "link-machines|yes|--machines --rate 10gbit --markdown|--machines --mib 128 --rounds 1 --markdown"
  "gossipcrypto|no||--rounds 100"
  "idle|yes||--settle 5"
  "migration|yes|--sizes 64,512 --rounds 5 --markdown|--sizes 64 --rounds 1 --markdown"
  "deputy|yes|--markdown|--writes 200 --rounds 1 --markdown"
  "ckptcost|yes||--rounds 1 --mb 16 --ticks 2000"
  "adoption|yes||--loop 1000 --repeat 1"
  "trees|yes||--seconds 2 --units 4 --functions 20 --make-jobs 4 --loop 1000 --repeat 1"
  "cluster|yes|--lab --markdown|--sizes 4 --seeds 1 --markdown"
  "balance|yes|--markdown|--jobs 4 --seconds 2 --repeat 1 --hogs 2 --hog-mib 100 --markdown"
  "chaos|yes|--markdown|--rounds 1 --faults cut5 --markdown"
)

# script NAME -> the bench's run.sh (variants such as checkpoint-threads run their bench's script)
script() { echo "$here/${1%%-*}/run.sh"; }
listed() { [[ ",$2," == *",$1,"* ]]; }
wanted() { { [ -z "$only" ] || listed "$1" "$only"; } && ! listed "$1" "$skip"; }

if [ "$list" = 1 ]; then
  for entry in "${benches[@]}"; do
    IFS='|' read -r name root_only full small <<< "$entry"
    wanted "$name" || continue
    args=$full; [ "$quick" = 1 ] && args=$small
    printf '%-20s %s %s%s\n' "$name" "bench/${name%%-*}/run.sh" "$args" "$([ "$root_only" = yes ] && echo '   (root)')"
  done
  exit 0
fi
for name in ${only//,/ } ${skip//,/ }; do
  printf '%s\n' "${benches[@]}" | cut -d'|' -f1 | grep -qx "$name" || { echo "bench/all.sh: no bench named '$name' (see --list)" >&2; exit 2; }
done

load() { cut -d' ' -f1 /proc/loadavg; }
machine() {
  local cpu mem thp
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
  thp=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown)
  echo "Machine: ${cpu:-unknown CPU}, $(nproc) cores, $mem, Linux $(uname -r), transparent huge pages \`$thp\`;" \
    "commit \`$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)\`$([ "$quick" = 1 ] && echo '; **--quick**: a check that the bench runs, not figures to compare')."
}

mkdir -p "$out"
failed=0
# put NAME FILE: the bench's block in the doc replaced by FILE, or added at the end of the section (the section added
# at the end of the doc first when it is not there yet).
put() {
  grep -q '^<!-- bench/all.sh: section end -->' "$doc" || printf '\n%s\n\n%s\n\n%s\n' \
    "## Latest run of every bench (bench/all.sh)" \
    "Written by \`bench/all.sh\` (root), one block per bench, each replaced when the bench runs again; the sections above discuss the figures." \
    "<!-- bench/all.sh: section end -->" >> "$doc"
  awk -v name="$1" -v file="$2" '
    function emit() { while ((getline line < file) > 0) print line; close(file) }
    $0 == "<!-- bench/all.sh: " name " begin -->" { emit(); skipping = 1; done = 1; next }
    skipping { if ($0 == "<!-- bench/all.sh: " name " end -->") skipping = 0; next }
    !done && $0 == "<!-- bench/all.sh: section end -->" { emit(); print ""; done = 1 }
    { print }
  ' "$doc" > "$doc.new" && mv "$doc.new" "$doc"
}

for entry in "${benches[@]}"; do
  IFS='|' read -r name root_only full small <<< "$entry"
  wanted "$name" || continue
  args=$full; [ "$quick" = 1 ] && args=$small
  command="bench/${name%%-*}/run.sh${args:+ $args}"
  block=$out/$name.md
  { echo "<!-- bench/all.sh: $name begin -->"; printf '### %s\n\n`%s`' "$name" "$command"; } > "$block"
  if [ "$root_only" = yes ] && [ "$(id -u)" != 0 ]; then
    echo "bench/all.sh: $name skipped (needs root)" >&2
    continue
  fi
  echo "bench/all.sh: $name: $command" >&2
  before=$(load); start=$(date +%s)
  # shellcheck disable=SC2086 # the arguments are words by design
  if (cd "$root" && "$(script "$name")" $args) > "$out/$name.out" 2> "$out/$name.err"; then status=ok; else status=failed; failed=1; fi
  {
    printf ', %s, %d s, load average %s before and %s after.\n\n%s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
      "$(( $(date +%s) - start ))" "$before" "$(load)" "$(machine)"
    if [ $status = failed ]; then
      echo "**Failed**; the end of its stderr:"; echo; echo '```'; tail -n 5 "$out/$name.err"; echo '```'
    elif [[ "$args" == *--markdown* ]]; then
      cat "$out/$name.out"
    else
      echo '```'; cat "$out/$name.out"; echo '```'
    fi
    echo "<!-- bench/all.sh: $name end -->"
  } >> "$block"
  [ $status = failed ] && echo "bench/all.sh: $name failed; its output is in $out/$name.out and .err" >&2
  if [ "$print" = 1 ]; then cat "$block"; else put "$name" "$block"; fi
done
[ "$print" = 1 ] || echo "bench/all.sh: wrote into $doc" >&2
exit $failed
