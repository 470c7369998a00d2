#!/usr/bin/env bash
# Installs om (built by scripts/build.sh into artifacts/bin) with every classic name as a link, the man pages, the
# shell completions, the systemd units, /etc/init.d/openmosix, the example configuration and the docs. Run as root
# from the repository root.
#   PREFIX  (default /usr/local) binaries, man pages, completions, docs, and the systemd units in PREFIX/lib/systemd/system
#           (a directory systemd reads for /usr and /usr/local alike; the units name the binaries under PREFIX)
#   ETC     (default /etc) omd.toml and the init script
#   DESTDIR (default empty) stages everything under DESTDIR, for packages; the installed files still name PREFIX and ETC
#   OM_BIN  (default artifacts/bin/om) the om binary to install
# --manage-logins (off by default): every process of every login session becomes an openMosix candidate, as in
# openMosix, by the [manage] rule cgroups = ["user.slice"] in omd.toml (systemd puts login sessions there).
# --uninstall: removes what an earlier run with the same PREFIX and DESTDIR installed, as recorded in
# PREFIX/share/openmosix/installed-files; omd.toml and the cluster key stay.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}
etc=${ETC:-/etc}
dest=${DESTDIR:-}
manifest=$prefix/share/openmosix/installed-files
manage_logins=0
uninstall=0
for argument in "$@"; do
  case "$argument" in
    --manage-logins) manage_logins=1 ;;
    --uninstall) uninstall=1 ;;
    *) echo "install.sh: unknown argument $argument (only --manage-logins, --uninstall)" >&2; exit 2 ;;
  esac
done

if [ "$uninstall" = 1 ]; then
  [ -f "$dest$manifest" ] || { echo "install.sh: nothing to uninstall: no $dest$manifest" >&2; exit 1; }
  mapfile -t recorded < "$dest$manifest"
  # Files and links first (the record itself among them), then the directories the install created, deepest first,
  # each only once empty.
  for path in "${recorded[@]}"; do [[ $path == */ ]] || rm -f -- "$dest$path"; done
  for path in "${recorded[@]}"; do if [[ $path == */ ]]; then echo "${#path} $path"; fi; done | sort -rn | cut -d' ' -f2- |
    while IFS= read -r dir; do rmdir -- "$dest$dir" 2>/dev/null || true; done
  echo "removed openMosix from $dest$prefix; $dest$etc/openmosix (omd.toml, cluster key) is left in place"
  exit 0
fi

om=${OM_BIN:-$root/artifacts/bin/om}
[ -x "$om" ] || { echo "install.sh: build first: scripts/build.sh" >&2; exit 1; }
installed=()
[ -f "$dest$manifest" ] && mapfile -t installed < "$dest$manifest"

# Creates DIR and every missing parent, remembering each one it made (so --uninstall can remove exactly those).
make_dir() {
  local dir=$1 missing=()
  while [ ! -d "$dest$dir" ]; do missing=("$dir" "${missing[@]}"); dir=$(dirname "$dir"); done
  for dir in "${missing[@]}"; do mkdir -m 0755 "$dest$dir"; installed+=("$dir/"); done
}
# put MODE SOURCE TARGET
put() {
  make_dir "$(dirname "$3")"
  install -m "$1" "$2" "$dest$3"
  installed+=("$3")
}
# put_text MODE TARGET: standard input, with the build's paths replaced by PREFIX and ETC.
put_text() {
  local text
  text=$(sed -e "s|/usr/local|$prefix|g" -e "s|@ETC@|$etc|g")
  make_dir "$(dirname "$2")"
  printf '%s\n' "$text" > "$dest$2"
  chmod "$1" "$dest$2"
  installed+=("$2")
}
# link TARGET NAME: a relative symbolic link NAME -> TARGET.
link() {
  make_dir "$(dirname "$2")"
  ln -sfn "$1" "$dest$2"
  installed+=("$2")
}

# om itself tells which classic names it answers to, so this list cannot fall behind CommandCatalog.
classic=$("$om" classic-names)
put 0755 "$om" "$prefix/bin/om"
# The libsodium om was built with (AEGIS records on node links); om finds it in ../lib/openmosix. Without it om still
# runs, and its links fall back to AES-128-GCM (omd's log says so).
if [ -f "$(dirname "$om")/libsodium.so" ]; then
  put 0644 "$(dirname "$om")/libsodium.so" "$prefix/lib/openmosix/libsodium.so"
else
  echo "install.sh: no libsodium.so beside $om: node links of this node will use AES-128-GCM, not AEGIS" >&2
fi
while read -r name _; do link om "$prefix/bin/$name"; done <<< "$classic"

# Man pages: docs/man/NAME.SECTION. A classic name without a page of its own (runhome, cpujob, ...) gets a .so link to
# the page of the command it stands for (runhome is `om run --home`: mosrun(1)).
for page in "$root"/docs/man/*.[1-8]; do
  put_text 0644 "$prefix/share/man/man${page##*.}/$(basename "$page")" < "$page"
done
while read -r name command _; do
  ls "$root"/docs/man/"$name".[1-8] > /dev/null 2>&1 && continue
  owner=$(awk -v c="$command" 'NF == 2 && $2 == c { print $1 }' <<< "$classic")
  page=$(ls "$root"/docs/man/"${owner:-om}".[1-8] | head -n 1)
  section=${page##*.}
  put_text 0644 "$prefix/share/man/man$section/$name.$section" < <(echo ".so man$section/$(basename "$page")")
done <<< "$classic"

# Shell completion: bash and fish load a command's completion by its name, so every classic name gets a link.
# (Functions are fed by redirection, never by a pipe: a pipe would run them in a subshell that forgets what they record.)
put_text 0644 "$prefix/share/bash-completion/completions/om" < <("$om" completion bash)
put_text 0644 "$prefix/share/zsh/site-functions/_om" < <("$om" completion zsh)
put_text 0644 "$prefix/share/fish/vendor_completions.d/om.fish" < <("$om" completion fish)
while read -r name _; do
  link om "$prefix/share/bash-completion/completions/$name"
  link om.fish "$prefix/share/fish/vendor_completions.d/$name.fish"
done <<< "$classic"

for unit in omd.service omdiscd.service; do
  put_text 0644 "$prefix/lib/systemd/system/$unit" < "$root/packaging/systemd/$unit"
done
put_text 0755 "$etc/init.d/openmosix" < "$root/packaging/init.d/openmosix"
for doc in "$root"/docs/*.md "$root/packaging/openmosix.map.example" "$root/packaging/omd.toml.example"; do
  put 0644 "$doc" "$prefix/share/doc/openmosix/$(basename "$doc")"
done

# The configuration is the administrator's: installed once, never recorded, so --uninstall leaves it.
config=$dest$etc/openmosix/omd.toml
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

make_dir "$(dirname "$manifest")"
installed+=("$manifest")
printf '%s\n' "${installed[@]}" | awk '!seen[$0]++' > "$dest$manifest"

[ -e "$dest$etc/openmosix/cluster.key" ] || echo "install.sh: no cluster key yet: run \`om keygen\` on one node and copy $etc/openmosix/cluster.key to all"
echo "installed om and its classic names in $dest$prefix/bin; start with: systemctl daemon-reload && systemctl enable --now omd" \
  "(or /etc/init.d/openmosix start without systemd)"
