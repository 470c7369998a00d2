#!/usr/bin/env bash
# Builds artifacts/openmosix_VERSION_amd64.deb (DEB_DIR chooses another directory) from artifacts/bin/om (OM_BIN
# chooses another; scripts/build.sh builds it) and prints its path: install.sh stages
# everything under a temporary DESTDIR with PREFIX=/usr, and dpkg-deb packs it. dpkg then owns the files, so the
# install record of install.sh is left out; /etc/openmosix/omd.toml and /etc/init.d/openmosix are conffiles.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v dpkg-deb > /dev/null || { echo "build-deb.sh: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }
om=${OM_BIN:-$root/artifacts/bin/om}
[ -x "$om" ] || { echo "build-deb.sh: build first: scripts/build.sh" >&2; exit 1; }
version=$("$om" --version)
version=${version%%+*}
stage=$(mktemp -d)
chmod 0755 "$stage" # the package's "./": mktemp's 0700 would be /'s mode
trap 'rm -rf "$stage"' EXIT
OM_BIN=$om DESTDIR=$stage PREFIX=/usr ETC=/etc "$root/packaging/install.sh" > /dev/null
rm -r "$stage/usr/share/openmosix"
mkdir -m 0755 "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: openmosix
Version: $version
Architecture: amd64
Maintainer: openMosix.NET <openmosix@localhost>
Depends: libc6 (>= 2.34)
Section: admin
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Homepage: https://en.wikipedia.org/wiki/OpenMosix
Description: single-system-image cluster: processes move between Linux nodes while they run
 openMosix.NET is a user-space successor to openMosix: the node daemon omd checkpoints
 running processes from outside (ptrace) and restores them on other nodes, leaving a
 deputy at home, and balances load and memory over the cluster. Includes om and the
 classic names (mosrun, migrate, mps, mosctl, setpe, showmap, omdiscd), man pages,
 shell completion, systemd units and /etc/init.d/openmosix.
CONTROL
printf '/etc/openmosix/omd.toml\n/etc/init.d/openmosix\n' > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
if [ ! -e /etc/openmosix/cluster.key ]; then
    echo "openmosix: no cluster key yet: run 'om keygen' on one node and copy /etc/openmosix/cluster.key to all"
fi
POSTINST
chmod 0755 "$stage/DEBIAN/postinst"
out=${DEB_DIR:-$root/artifacts}
mkdir -p "$out"
deb=$out/openmosix_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" > /dev/null
echo "$deb"
