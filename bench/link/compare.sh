#!/usr/bin/env bash
# bench/link/compare.sh: a change to the link against its base, side by side in one run. Each build is a copy of
# bench/link's output (dotnet build bench/link -c Release, then cp -r bench/link/bin/Release/net10.0/linux-x64 DIR);
# they run by turns in ABBA order, each run itself an ABBA of TLS and plain TCP, so that drift (a neighbour's build)
# falls on both alike. Prints each run's TLS/plain ratio and TLS seconds, then the medians per build and the load.
# Usage: bench/link/compare.sh BASE_DIR CHANGE_DIR [ROUNDS] -- [bench/link arguments, e.g. --mib 256 --rounds 1]
set -euo pipefail
base=$1 change=$2 rounds=${3:-3}
shift 3 || shift $#
[[ ${1:-} == -- ]] && shift
declare -A ratios tls
for ((round = 0; round < rounds; round++)); do
  for which in base change change base; do
    dir=$base; [[ $which == change ]] && dir=$change
    out=$("$dir/OpenMosix.Bench.Link" "$@")
    ratio=$(sed -n 's/^TLS\/plain time ratio: \([0-9.]*\).*/\1/p' <<<"$out")
    seconds=$(awk '/^TLS 1.3/ {print $3}' <<<"$out")
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "$which ratio $ratio TLS ${seconds}s load $load"
    ratios[$which]+="$ratio "
    tls[$which]+="$seconds "
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
for which in base change; do
  echo "$which: median TLS/plain $(median <<<"${ratios[$which]}") (runs ${ratios[$which]}), median TLS $(median <<<"${tls[$which]}") s"
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
