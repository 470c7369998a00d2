#!/usr/bin/env bash
# Installs what building and testing openMosix.NET needs on a fresh Debian 12 x86_64 machine, skipping what is there.
# Needs root (apt-get); the .NET 10 SDK must already be on PATH.
set -euo pipefail

need_cmds=(gcc make python3 bc xz gzip sha256sum tmux ip ping nsenter groff curl)
declare -A pkg_of=([gcc]=gcc [make]=make [python3]=python3 [bc]=bc [xz]=xz-utils [gzip]=gzip
                   [sha256sum]=coreutils [tmux]=tmux [ip]=iproute2
                   [ping]=iputils-ping [nsenter]=util-linux [groff]=groff-base [curl]=curl)
missing=()
for c in "${need_cmds[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("${pkg_of[$c]}"); done
# clang and lld back the NativeAOT linker step of `om`.
command -v clang >/dev/null 2>&1 || missing+=(clang)
dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
# The dashboard's browser tests drive Debian's chromium (tests/OpenMosix.Web.Tests); Playwright never fetches its own.
[[ -x /usr/bin/chromium ]] || missing+=(chromium)

if ((${#missing[@]})); then
  echo "prereqs: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "prereqs: the .NET 10 SDK is required (dotnet on PATH)" >&2
  exit 1
fi
