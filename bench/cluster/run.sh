#!/usr/bin/env bash
# bench/cluster: gossip convergence (a load change, a join, a death) in virtual time over the real gossip code, for
# growing node counts, with the O(log N) ratio. With --lab (root), first the real lab: `om lab up` time, how long a
# change takes to reach every node for 2, 4 and 8 nodes, and omd's idle CPU and RSS in a 4-node lab.
# Usage: bench/cluster/run.sh [--sizes 4,8,16] [--seeds 3] [--markdown] [--lab | --lab-only] [--lab-sizes 2,4,8] [--idle-seconds 30]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
exec dotnet run -c Release --project "$here/OpenMosix.Bench.Cluster.csproj" -- "$@"
