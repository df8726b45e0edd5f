#!/usr/bin/env bash
# Build the action's image with podman (daemonless, from Debian), the way .ci/run checks it:
#   installs podman, runc and debootstrap from apt if missing; writes a podman configuration
#   for this kind of machine (runc rather than crun, which fails on mixed cgroups; container
#   ulimits no higher than root may set here) into .cache/containers.conf; makes the Debian
#   base if it cannot be pulled (scripts/debian-base.sh); builds the Dockerfile with the host's
#   CA bundle as a build secret (never stored in the image); prints build time and image size.
# Usage: scripts/build-image.sh [TAG]   (default localhost/supadeploy:ci)
# Then:  export CONTAINERS_CONF=$PWD/.cache/containers.conf  (tests/test_image.py runs the image)
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-localhost/supadeploy:ci}

missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-image: installing ${missing[*]} from apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman runc debootstrap \
    fuse-overlayfs uidmap >/dev/null
fi

mkdir -p .cache
pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 32768)
nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ] && nproc=$pid_max
nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=65536
cat > .cache/containers.conf <<CONF
# Written by scripts/build-image.sh for this machine.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$PWD/.cache/containers.conf"

if ! podman image exists docker.io/library/debian:bookworm-slim; then
  podman pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1 || bash scripts/debian-base.sh
fi

ca=()
for bundle in "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
  if [ -n "$bundle" ] && [ -s "$bundle" ]; then ca=(--secret "id=ca,src=$bundle"); break; fi
done
start=$(date +%s)
podman build -q "${ca[@]}" --pull=never -t "$tag" . >/dev/null
end=$(date +%s)
size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "build-image: $tag built in $((end - start)) s, $((size / 1024 / 1024)) MiB"
