#!/usr/bin/env bash
# bench/link: node link throughput over loopback, secured as omd runs it (mutual TLS 1.3, then records of its own,
# under AEGIS-128L where libsodium loads, else AES-128-GCM; --cipher aes-128-gcm|aegis-128l|aegis-256 forces one)
# against the same framing over plain TCP, side by side in ABBA order; prints both and the ratio (goal: the secured
# link at most 1.10 times the plain time).
# --machines: each end a process in a network namespace of its own, pinned to a core of its own, over a veth pair
# (two one-core machines on a wire; needs root); --rate RATE shapes that wire with tbf (e.g. 1gbit, 10gbit).
# --only tls|plain runs one kind alone (for a profiler; no ratio then).
# On a machine other sessions load, run it under SCHED_FIFO (as root: chrt -f 1 bench/link/run.sh ...): its threads
# then take the cores whenever they can run, as on a quiet machine (at load 50-90 the ratios of plain runs spread
# 0.5-1.6 otherwise, and within a few hundredths under chrt). bench/link/compare.sh sets a change against its base.
# Usage: bench/link/run.sh [--mib 512] [--frame-kib 1024] [--rounds 2] [--machines] [--rate RATE] [--only tls|plain]
#                          [--cipher NAME] [--markdown]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dotnet run -c Release --project "$here/OpenMosix.Bench.Link.csproj" -- "$@"
