#!/usr/bin/env bash
# Builds the container image from the Dockerfile and runs it once (`dhcpbridge --version`).
# The base is the official python image when a registry answers, else one made from Debian packages
# (contrib/container/debian-base.sh). BASE=... picks one; ENGINE=podman|docker picks the engine.
#   usage: contrib/container/build-image.sh [TARGET ...]   (default: server answer harvester)
# Hosts where podman's default runtime cannot start a container (crun with hybrid cgroups, or no
# right to set rlimits, as in some CI sandboxes) need runtime = "runc" in containers.conf.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
engine=${ENGINE:-$(command -v podman || command -v docker || true)}
[ -n "$engine" ] || { echo "build-image: no podman or docker here" >&2; exit 1; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(server answer harvester)

if [ -z "${BASE:-}" ]; then
    if timeout 60 "$engine" pull -q python:3.11-slim-bookworm >/dev/null 2>&1; then
        BASE=python:3.11-slim-bookworm
    else
        BASE=localhost/dhcpbridge-base:bookworm
        echo "build-image: no registry answers; base made from Debian packages: $BASE"
        bash "$here/debian-base.sh" "$engine" "$BASE"
    fi
fi
for target in "${targets[@]}"; do
    tag="dhcpbridge-$target:latest"
    [ "$target" = server ] && tag=dhcpbridge:latest
    "$engine" build --build-arg "BASE=$BASE" --target "$target" -t "$tag" "$root"
    echo "build-image: $tag built on $BASE; it says: $("$engine" run --rm "$tag" --version)"
done
