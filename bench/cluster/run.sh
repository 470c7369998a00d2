#!/usr/bin/env bash
# bench/cluster: gossip convergence (a load change, a join, a death) in virtual time over the real gossip code, for
# growing node counts, with the O(log N) ratio. Usage: bench/cluster/run.sh [--sizes 4,8,16] [--seeds 3] [--markdown]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec dotnet run -c Release --project "$here/OpenMosix.Bench.Cluster.csproj" -- "$@"
