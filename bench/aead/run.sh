#!/usr/bin/env bash
# bench/aead: the record ciphers a node link can use (AES-GCM and ChaCha20-Poly1305 of the system OpenSSL through
# .NET, AEGIS-128L and AEGIS-256 of libsodium through NSec), one thread, GB per CPU second at 1 MiB, 64 KiB and 4 KiB.
# Usage: bench/aead/run.sh [MiB per pass, default 512]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec dotnet run -c Release --project "$here/OpenMosix.Bench.Aead.csproj" -- "$@"
