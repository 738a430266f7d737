# dhcpbridge in a container: one image, three targets (entry points), checked statically by
# tests/packaging/test_contrib.py (hadolint; each target's command exists in the CLI).
#   docker build --target server    -t dhcpbridge .            # dhcpbridge serve
#   docker build --target answer    -t dhcpbridge-answer .     # dhcpbridge answer (the bridge's HTTP source)
#   docker build --target harvester -t dhcpbridge-harvest .    # dhcpbridge harvest (BIND fragment + rndc)
# The server needs the host's network (--network host) to see DHCP broadcasts, and
# CAP_NET_BIND_SERVICE + CAP_NET_RAW; it drops to the image's user "dhcpbridge" (uid 967) when the config
# says [server] user = "dhcpbridge". Config in /etc/dhcpbridge, state in /var/lib/dhcpbridge.
# BASE is any Debian bookworm image with Python 3.11 (python3, venv and headers): the official
# python image by default, or one made from Debian packages where no registry is reachable
# (contrib/container/debian-base.sh; `make image` picks it then).
ARG BASE=python:3.11-slim-bookworm

# --- build: the wheel with the mypyc-compiled hot path (hatch_build.py), and its dependencies
FROM ${BASE} AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md hatch_build.py ./
COPY scripts/build_native.py scripts/
COPY src/ src/
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip wheel --no-cache-dir --wheel-dir /wheels ".[speed]"

# --- runtime: no compiler; rndc and ping for the harvester
FROM ${BASE} AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends bind9-utils \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 967 --home-dir /var/lib/dhcpbridge --create-home --shell /usr/sbin/nologin dhcpbridge \
    && install -d -o dhcpbridge -g dhcpbridge /etc/dhcpbridge /var/log/dhcpbridge
COPY --from=build /wheels /wheels
# a venv, not the system site: Debian's own python3 refuses pip installs there (PEP 668)
# hadolint ignore=DL3013
RUN python3 -m venv /opt/dhcpbridge \
    && /opt/dhcpbridge/bin/pip install --no-cache-dir --no-index --find-links /wheels dhcpbridge uvloop \
    && rm -rf /wheels \
    && /opt/dhcpbridge/bin/python -c "from dhcpbridge import _native; assert _native.compiled(), 'no compiled modules'"
ENV PATH=/opt/dhcpbridge/bin:$PATH
WORKDIR /var/lib/dhcpbridge
ENTRYPOINT ["dhcpbridge"]

FROM runtime AS answer
USER 967
EXPOSE 8067
CMD ["answer", "--listen", "0.0.0.0:8067", "--dir", "/etc/dhcpbridge/answers"]

FROM runtime AS harvester
USER 967
EXPOSE 8053
CMD ["harvest", "--config", "/etc/dhcpbridge/dhcpbridge.toml", "--dest", "/var/lib/dhcpbridge/leases.zone", "--every", "5m"]

# last, so that a plain `docker build .` makes the server
FROM runtime AS server
EXPOSE 67/udp 547/udp 8267
CMD ["serve", "--config", "/etc/dhcpbridge/dhcpbridge.toml"]
