"""ISC dhcpd and dnsmasq as peer DHCP servers in a test namespace (for lease files they write),
and a dhclient -6 that gives its name (so the peers' v6 lease files carry host names).

One job: write a private configuration for the lab address plan (10.67.0.100-199 direct on
srv0, 10.68.1.0-10.68.255.254 relayed via 10.68.0.2 on srv1; dnsmasq also fd67::/64 and fd68::/64),
start the daemon in the server namespace with its lease file in the work directory, stop it by
PID. Never the packaged services; nothing outside the namespace is touched.
"""

from __future__ import annotations

from pathlib import Path

from dhcpbridge.testing.clients import Dhclient
from dhcpbridge.testing.netns import Namespace, NetnsError
from dhcpbridge.testing.server import SERVER_CPU, ManagedServer, ServerError


class Dhcpd(ManagedServer):
    """``dhcpd -4 -f`` (ping-check off, 2 h leases); leases in ``workdir/dhcpd.leases``."""

    name = "dhcpd"
    family = 4
    ports: tuple[int, ...] = (67,)
    # the configuration after the common head (authoritative, no DDNS, the lease times)
    subnets = (
        "ping-check false;\n"
        'option domain-name "lab.test";\n'
        "subnet 10.67.0.0 netmask 255.255.255.0 {\n"
        "  range 10.67.0.100 10.67.0.199;\n  option routers 10.67.0.1;\n}\n"
        "subnet 10.68.0.0 netmask 255.255.0.0 {\n"
        "  range 10.68.1.0 10.68.255.254;\n  option routers 10.68.0.1;\n}\n"
    )

    def __init__(
        self, ns: Namespace, workdir: Path, *, lease_time: int = 7200, cpu: int | None = SERVER_CPU
    ) -> None:
        super().__init__(ns, workdir, cpu=cpu)
        self.lease_time = lease_time

    @property
    def lease_file(self) -> Path:
        return self.workdir / f"{self.name}.leases"

    def write_config(self) -> Path:
        """``{name}.conf``; an empty lease file is made when there is none (dhcpd refuses to start)."""
        conf = self.workdir / f"{self.name}.conf"
        conf.write_text(
            "authoritative;\nddns-update-style none;\n"
            f"default-lease-time {self.lease_time};\nmax-lease-time {self.lease_time};\n" + self.subnets
        )
        if not self.lease_file.exists():
            self.lease_file.write_text("")
        return conf

    def check_config(self, config: Path) -> None:
        try:
            self.ns.run(["dhcpd", "-t", f"-{self.family}", "-cf", str(config)], timeout=30)
        except NetnsError as exc:
            raise ServerError(f"dhcpd -{self.family} rejected {config}: {exc}") from exc

    def command(self, config: Path) -> list[str]:
        return [
            "dhcpd",
            f"-{self.family}",
            "-f",
            "-cf",
            str(config),
            "-lf",
            str(self.lease_file),
            "-pf",
            str(self.workdir / f"{self.name}.pid"),
            "srv0",
            "srv1",
        ]


class Dhcpd6(Dhcpd):
    """``dhcpd -6 -f``: IA_NA fd67::100:0-fd67::1ff:ffff on srv0 and fd68::100:0-fd68::1ff:ffff on
    srv1, IA_PD /56 from fd67:1000::/40 and fd68:1000::/40; leases in ``workdir/dhcpd6.leases``."""

    name = "dhcpd6"
    family = 6
    ports = (547,)
    subnets = (
        "subnet6 fd67::/64 {\n  range6 fd67::100:0 fd67::1ff:ffff;\n"
        "  prefix6 fd67:1000:: fd67:10ff:: /56;\n}\n"
        "subnet6 fd68::/64 {\n  range6 fd68::100:0 fd68::1ff:ffff;\n"
        "  prefix6 fd68:1000:: fd68:10ff:: /56;\n}\n"
    )


class Dnsmasq(ManagedServer):
    """dnsmasq as a DHCP-only server (DNS port 0), v4 and (``v6``) IA_NA; leases in
    ``workdir/dnsmasq.leases``."""

    name = "dnsmasq"
    family = 4
    ports: tuple[int, ...] = (67,)

    def __init__(
        self, ns: Namespace, workdir: Path, *, v6: bool = True, cpu: int | None = SERVER_CPU
    ) -> None:
        super().__init__(ns, workdir, cpu=cpu)
        self.v6 = v6
        if v6:
            self.ports = (67, 547)

    @property
    def lease_file(self) -> Path:
        return self.workdir / "dnsmasq.leases"

    def write_config(self) -> Path:
        conf = self.workdir / "dnsmasq.conf"
        lines = [
            "port=0",
            "no-resolv",
            "no-hosts",
            "user=root",
            "interface=srv0",
            "interface=srv1",
            "bind-interfaces",
            "dhcp-authoritative",
            "no-ping",
            "quiet-dhcp",
            "quiet-dhcp6",
            "dhcp-range=set:direct,10.67.0.100,10.67.0.199,255.255.255.0,2h",
            "dhcp-range=set:relay,10.68.1.0,10.68.255.254,255.255.0.0,2h",
            f"dhcp-leasefile={self.lease_file}",
            f"pid-file={self.workdir / 'dnsmasq.pid'}",
            f"log-facility={self.workdir / 'dnsmasq.log'}",
        ]
        if self.v6:
            lines += [
                "dhcp-range=set:direct6,fd67::100:0,fd67::1ff:ffff,64,2h",
                "dhcp-range=set:relay6,fd68::100:0,fd68::1ff:ffff,64,2h",
            ]
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def check_config(self, config: Path) -> None:
        try:
            self.ns.run(["dnsmasq", "--test", "-C", str(config)], timeout=30)
        except NetnsError as exc:
            raise ServerError(f"dnsmasq rejected {config}: {exc}") from exc

    def command(self, config: Path) -> list[str]:
        return ["dnsmasq", "-k", "-C", str(config)]


class NamedDhclient6(Dhclient):
    """``dhclient -6`` sending the client FQDN option (39, RFC 4704) with ``fqdn``."""

    def __init__(self, ns: Namespace, interface: str = "cli0", *, fqdn: str = "dhclient6-host") -> None:
        super().__init__(ns, interface, mode="6")
        self.fqdn = fqdn

    def command(self, timeout: float) -> list[str]:
        argv = super().command(timeout)
        with open(self.conf, "a") as conf:
            conf.write(f'send fqdn.fqdn "{self.fqdn}";\nsend fqdn.server-update on;\n')
        return argv
