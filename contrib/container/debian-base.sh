#!/usr/bin/env bash
# A container base image made from Debian packages only (debootstrap + podman/docker import), for
# hosts that reach Debian's mirror but no container registry: Debian bookworm's Python 3.11 with
# venv, headers and gcc, which is all the Dockerfile's stages need (`--build-arg BASE=...`).
# Certificates a host adds to /usr/local/share/ca-certificates (a TLS-inspecting proxy's CA, say)
# go into the base too, so pip and apt inside the build trust what the host trusts.
#   usage: contrib/container/debian-base.sh [ENGINE] [TAG]   (default: podman, localhost/dhcpbridge-base:bookworm)
set -euo pipefail
engine=${1:-podman}
tag=${2:-localhost/dhcpbridge-base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if "$engine" image exists "$tag" 2>/dev/null || "$engine" image inspect "$tag" >/dev/null 2>&1; then
    echo "debian-base: $tag is there already"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "debian-base: debootstrap is missing (apt-get install -y debootstrap)" >&2; exit 1; }
root=$(mktemp -d /var/tmp/dhcpbridge-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-dev,gcc,libc6-dev,ca-certificates \
    bookworm "$root" "$mirror"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null
fi
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
tar -C "$root" -c . | "$engine" import --change 'CMD ["/bin/bash"]' - "$tag"
echo "debian-base: made $tag"
