#!/usr/bin/env bash
# The image's base, docker.io/library/debian:bookworm-slim, for an engine that cannot pull it
# (no Docker Hub here). If podman already has the image, nothing happens. Otherwise it is built
# from Debian's own archive with debootstrap (minbase: essential and required packages, apt)
# and made slim the way the official image is: no apt lists or package cache, and dpkg told
# to leave out documentation, manual pages and translations. How it differs from the official
# image is in docs/container.md. Needs root, debootstrap and podman.
set -euo pipefail
image=docker.io/library/debian:bookworm-slim
if podman image exists "$image"; then
  echo "debian-base: $image is present"
  exit 0
fi
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
echo "debian-base: debootstrap --variant=minbase bookworm from $mirror"
mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
# As in the slim images: no documentation, manual pages or translations (copyright files stay).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
CFG
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}
cat >"$root/etc/apt/sources.list" <<SOURCES
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
APT
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/*/[!c]* \
       "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/var/log/*.log \
       "$root"/var/cache/debconf/*-old "$root"/dev/* "$root"/proc/* "$root"/sys/*
tar -C "$root" --numeric-owner -c . | podman import --quiet --change 'CMD ["bash"]' - "$image" >/dev/null
echo "debian-base: $image built ($(podman image inspect --format '{{.Size}}' "$image") bytes)"
