#!/usr/bin/env bash
# Installs om (built by scripts/build.sh into artifacts/bin) as /usr/local/bin/om with its classic names as links,
# the systemd units, the example configuration and the docs. Run as root from the repository root.
# --manage-logins (off by default): every process of every login session becomes an openMosix candidate, as in
# openMosix, by the [manage] rule cgroups = ["user.slice"] in omd.toml (systemd puts login sessions there).
# PREFIX (default /usr/local) and ETC (default /etc) choose where things go.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${PREFIX:-/usr/local}/bin
etc=${ETC:-/etc}
manage_logins=0
for argument in "$@"; do
  case "$argument" in
    --manage-logins) manage_logins=1 ;;
    *) echo "install.sh: unknown argument $argument (only --manage-logins)" >&2; exit 2 ;;
  esac
done
[ -x "$root/artifacts/bin/om" ] || { echo "install.sh: build first: scripts/build.sh" >&2; exit 1; }
install -D -m 0755 "$root/artifacts/bin/om" "$bin/om"
for name in omd omdiscd mosctl setpe showmap mosrun runhome runon nomig cpujob iojob nodecay slowdecay fastdecay migrate mps mosmon; do ln -sf om "$bin/$name"; done
install -D -m 0644 "$root/packaging/systemd/omd.service" "$etc/systemd/system/omd.service"
install -D -m 0644 "$root/packaging/systemd/omdiscd.service" "$etc/systemd/system/omdiscd.service"
config=$etc/openmosix/omd.toml
[ -e "$config" ] || install -D -m 0644 "$root/packaging/omd.toml.example" "$config"
if [ "$manage_logins" = 1 ]; then
  if grep -Eq '^[[:space:]]*cgroups[[:space:]]*=' "$config"; then
    echo "install.sh: $config already sets [manage] cgroups; add \"user.slice\" there yourself" >&2
  elif grep -Eq '^\[manage\]' "$config"; then
    sed -i '/^\[manage\]/a cgroups = ["user.slice"]                # install.sh --manage-logins: every login session' "$config"
  else
    printf '[manage]\ncgroups = ["user.slice"]                # install.sh --manage-logins: every login session\n' >> "$config"
  fi
fi
install -D -m 0644 -t "${PREFIX:-/usr/local}/share/doc/openmosix" "$root"/docs/*.md "$root/packaging/openmosix.map.example"
[ -e "$etc/openmosix/cluster.key" ] || echo "install.sh: no cluster key yet: run \`om keygen\` on one node and copy $etc/openmosix/cluster.key to all"
echo "installed om and its classic names in $bin; start with: systemctl daemon-reload && systemctl enable --now omd"
