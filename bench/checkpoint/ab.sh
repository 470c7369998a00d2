#!/usr/bin/env bash
# A/B of the checkpoint bench: the bench built from BASE (a commit, e.g. main) and from the work tree run in turns
# (ABBA by round), each round one bench process per side with --runs N per size. Every repetition's ratios (each cost
# over the floor measured beside it in the same process) are pooled per side and size; the medians, ranges and the
# load are printed. On these shared 2-core machines a change is judged by these side-by-side ratios, never by one run.
# --rt runs both sides under SCHED_FIFO (chrt -f 1; the target and every thread inherit it): the other helpers' builds
# then cannot preempt the bench, which measures engine and floor as on an idle machine (the kernel's RT throttling
# still leaves others 5 % of each second). Without it, at loads of 30-50, one run put the change 2x ahead of the
# base and the next 2x behind.
# usage: bench/checkpoint/ab.sh BASE [--rounds 4] [--sizes 64,2048] [--runs 9] [--dump-only] [--rt]   (root)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/close-inherited-fds.sh"
base=$1; shift
rounds=4; sizes=64,2048; runs=9; extra=(); prio=()
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --dump-only) extra+=(--dump-only); shift ;;
    --rt) prio=(chrt -f 1); shift ;;
    *) echo "ab.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
out=$root/artifacts/bench/ab
mkdir -p "$out"
# The base is checked out and built once per commit and kept (artifacts/ is not tracked): a rebuild under load costs
# minutes. `git worktree prune` forgets it once artifacts/bench/ab is removed.
basetree=$out/base-$(git -C "$root" rev-parse --short "$base")
if [ ! -d "$basetree" ]; then
  git -C "$root" worktree prune
  git -C "$root" worktree add --detach -q "$basetree" "$base"
fi
scratch=$(mktemp -d /dev/shm/om-ab.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
proj=bench/checkpoint/OpenMosix.Bench.Checkpoint.csproj
dll=bench/checkpoint/bin/Release/net10.0/linux-x64/OpenMosix.Bench.Checkpoint.dll
[ -f "$basetree/$dll" ] || dotnet build "$basetree/$proj" -c Release -v quiet -nologo -clp:ErrorsOnly >/dev/null
dotnet build "$root/$proj" -c Release -v quiet -nologo -clp:ErrorsOnly >/dev/null
gcc -O2 -Wall -Wextra -Werror -pthread -o "$out/touchmem" "$root/bench/checkpoint/touchmem.c"
echo "A/B: base $(git -C "$root" rev-parse --short "$base") against work tree $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo '+changes'), sizes $sizes, $rounds rounds of $runs runs${prio:+ under SCHED_FIFO}, load $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # side round
  local tree=$root; [ "$1" = base ] && tree=$basetree
  "${prio[@]}" dotnet "$tree/$dll" --target "$out/touchmem" --scratch "$scratch" --sizes "$sizes" --runs "$runs" "${extra[@]}" 2>&1 >/dev/null \
    | grep -E '^  [0-9]+ MiB #' | grep -v '^$' | sed "s/^/$1 $2 /" >> "$out/reps.txt"
}
: > "$out/reps.txt"
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then run base "$r"; run change "$r"; else run change "$r"; run base "$r"; fi
  echo "round $r done, load $(cut -d' ' -f1 /proc/loadavg)" >&2
done
python3 - "$out/reps.txt" <<'PY'
import re, sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r'(\w+) (\d+)\s+(\d+) MiB #\d+: load ([\d.]+)\s+raw read ([\d.]+) ms\s+dump→null ([\d.]+) ms \(([\d.]+)\)\s+raw write ([\d.]+) ms\s+restore ([\d.]+) ms \(([\w.]+)\)', line)
    if not m: continue
    side, rnd, mib, load, rr, dn, dr, rw, rs, rsr = m.groups()
    rows.setdefault((int(mib), side), []).append((float(load), float(rr), float(dn), float(dr), float(rw), float(rs), rsr))
def spread(v): return f"{st.median(v):.2f} ({min(v):.2f}–{max(v):.2f})" if v else "-"
print("| size | side | reps | load | raw read ms | dump→null ms | dump ratio | raw write ms | restore ms | restore ratio |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (mib, side) in sorted(rows, key=lambda k: (k[0], k[1] != 'base')):
    v = rows[(mib, side)]
    rest = [float(x[6]) for x in v if x[6] not in ('NaN', 'nan')]
    print(f"| {mib} MiB | {side} | {len(v)} | {spread([x[0] for x in v])} | {spread([x[1] for x in v])} | {spread([x[2] for x in v])} | "
          f"{spread([x[3] for x in v])} | {spread([x[4] for x in v]) if rest else '-'} | {spread([x[5] for x in v]) if rest else '-'} | {spread(rest)} |")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
