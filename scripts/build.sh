#!/usr/bin/env bash
# Builds everything: the C test programs, the solution, and the NativeAOT `om` binary (artifacts/bin/om).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
make -s -C tests/Programs
dotnet build OpenMosix.slnx -c Release -v quiet -nologo -clp:ErrorsOnly
dotnet publish src/OpenMosix.Cli/OpenMosix.Cli.csproj -c Release -o artifacts/bin -v quiet -nologo -clp:ErrorsOnly
