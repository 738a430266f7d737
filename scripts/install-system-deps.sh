#!/usr/bin/env bash
# Installs the Debian packages the test suite and the benchmark drive: real DHCP clients
# (isc-dhcp-client, udhcpc, dhcpcd-base; klibc-utils for the BOOTP client ipconfig), the ISC
# relay, iproute2, ethtool, perfdhcp (kea-admin) and Kea itself as the benchmark yardstick.
# Package services are never started (policy-rc.d), and any unit they ship is masked so nothing
# serves DHCP on the host's real interfaces.
# Without root this only reports what is missing: the end-to-end tests then skip (or fail in CI).
set -euo pipefail

# command:package pairs
PAIRS=(
  ip:iproute2 taskset:util-linux dhclient:isc-dhcp-client udhcpc:udhcpc dhcpcd:dhcpcd-base
  dhcrelay:isc-dhcp-relay perfdhcp:kea-admin kea-dhcp4:kea-dhcp4-server kea-dhcp6:kea-dhcp6-server
  tshark:tshark ethtool:ethtool
  named:bind9 tsig-keygen:bind9-utils dig:bind9-dnsutils
  redis-server:redis-server redis-cli:redis-tools
  chromium:chromium chromedriver:chromium-driver
  psql:postgresql-client pg_ctlcluster:postgresql
  dhcpd:isc-dhcp-server dnsmasq:dnsmasq-base ping:iputils-ping
  socat:socat /usr/lib/klibc/bin/ipconfig:klibc-utils
)
missing=()
for pair in "${PAIRS[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/sbin/$cmd" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: not root; missing Debian packages: ${missing[*]} (end-to-end tests will skip)" >&2
  exit 0
fi
echo "install-system-deps: installing ${missing[*]}" >&2
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
fi
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/dhcpbridge-apt.log 2>&1 \
  || { cat /tmp/dhcpbridge-apt.log >&2; exit 1; }
[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
for unit in kea-dhcp4-server kea-dhcp6-server kea-ctrl-agent isc-dhcp-server isc-dhcp-relay named bind9 dnsmasq; do
  systemctl mask "$unit" >/dev/null 2>&1 || true
  update-rc.d "$unit" disable >/dev/null 2>&1 || true
done
