#!/usr/bin/env bash
# Builds and runs the whole test suite; the last line is "N passed, N failed". Exit status is non-zero on any failure.
# A run that hangs is stopped after 20 minutes (and fails) rather than eating all of CI's time.
set -uo pipefail
cd "$(dirname "$0")"
source scripts/close-inherited-fds.sh
bash scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

export OM_BIN="$PWD/artifacts/bin/om"
export OM_TEST_PROGRAMS="$PWD/tests/Programs/build"
log=$(mktemp)
dotnet test --solution OpenMosix.slnx -c Release --no-build --timeout 20m --report-trx --results-directory "$PWD/artifacts/test-results" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The closing summary of Microsoft.Testing.Platform: "failed: N" and "succeeded: N" for the whole run.
failed=$(grep -E '^\s*failed: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
passed=$(grep -E '^\s*succeeded: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
rm -f "$log"
if [[ -z "$failed" || -z "$passed" ]]; then
  echo "test run produced no summary (exit $status)"
  echo "0 passed, 1 failed"
  exit 1
fi
if ((status != 0 && failed == 0)); then failed=1; fi
echo "$passed passed, $failed failed"
((failed == 0 && status == 0))
