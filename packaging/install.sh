#!/usr/bin/env bash
# Installs om (built by scripts/build.sh into artifacts/bin) as /usr/local/bin/om with its classic names as links,
# the systemd units, the example configuration and the docs. Run as root from the repository root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${PREFIX:-/usr/local}/bin
[ -x "$root/artifacts/bin/om" ] || { echo "install.sh: build first: scripts/build.sh" >&2; exit 1; }
install -D -m 0755 "$root/artifacts/bin/om" "$bin/om"
for name in omd omdiscd mosctl setpe showmap mosrun runhome runon nomig cpujob iojob nodecay slowdecay fastdecay migrate mps; do ln -sf om "$bin/$name"; done
install -D -m 0644 "$root/packaging/systemd/omd.service" /etc/systemd/system/omd.service
install -D -m 0644 "$root/packaging/systemd/omdiscd.service" /etc/systemd/system/omdiscd.service
[ -e /etc/openmosix/omd.toml ] || install -D -m 0644 "$root/packaging/omd.toml.example" /etc/openmosix/omd.toml
install -D -m 0644 -t "${PREFIX:-/usr/local}/share/doc/openmosix" "$root"/docs/*.md "$root/packaging/openmosix.map.example"
[ -e /etc/openmosix/cluster.key ] || echo "install.sh: no cluster key yet: run \`om keygen\` on one node and copy /etc/openmosix/cluster.key to all"
echo "installed om and its classic names in $bin; start with: systemctl daemon-reload && systemctl enable --now omd"
