#!/usr/bin/env bash
# bench/gossipcrypto: CPU one node spends on gossip per round, measured side by side on the real GossipNode and codec:
# the HMAC-SHA256 packets of before (reproduced: same entries, same MAC), AES-GCM packets, and AES-GCM packets with
# origin signatures (ECDSA P-256). Prints microseconds per node-round and the ratios.
# Usage: bench/gossipcrypto/run.sh [--nodes 16] [--rounds 400]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/close-inherited-fds.sh"
exec dotnet run -c Release --project "$here/OpenMosix.Bench.GossipCrypto.csproj" -- "$@"
