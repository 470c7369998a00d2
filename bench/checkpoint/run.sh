#!/usr/bin/env bash
# bench/checkpoint: dump and restore times for processes with 64 MB, 512 MB and 2 GB of touched memory, next to the
# floor (a raw process_vm_readv and a raw write of the same bytes).
# Usage: bench/checkpoint/run.sh [--sizes 64,512,2048] [--runs N] [--markdown] [--cold-memory] [--threads 16 [--busy]]
#        [--dump-only]
# --runs N: at least N repetitions per size (default 9 at 64 MiB, 5 above); each is printed as it ends, with the load.
# --threads N: instead, a process of N threads (idle in pause(), or spinning with --busy) against one of a single
# thread with the same memory: freeze, dump and restore side by side.
# --dump-only: only the raw read and dump→null of each repetition (restore columns 0); bench/checkpoint/ab.sh uses it.
# --cold-memory: raw write and restore both start from memory left free long enough for the hypervisor to reclaim it
# (free page reporting); by default both reuse memory freed just before (see MemoryTemperature.cs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
out="$here/../../artifacts/bench"
mkdir -p "$out"
# Images and floor files go to tmpfs: on a disk, dirty-page writeback throttling lands on whichever writer crosses
# the limit first and swamps both sides of a ratio. What is measured is the engine and format, not the disk.
scratch=$(mktemp -d /dev/shm/om-bench.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
gcc -O2 -Wall -Wextra -Werror -pthread -o "$out/touchmem" "$here/touchmem.c"
dotnet run -c Release --project "$here/OpenMosix.Bench.Checkpoint.csproj" -- --target "$out/touchmem" --scratch "$scratch" "$@"
