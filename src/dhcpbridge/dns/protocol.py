"""Carrying out one job against the zones' servers: the RFC 4703 steps (§5.3-§5.5) over
dnspython's asynchronous TCP or UDP queries, and what each answer means.

``send`` returns the RCODE of an answer the steps can act on (NOERROR and the prerequisite
failures YXDOMAIN, YXRRSET, NXDOMAIN, NXRRSET) and raises ``Failed`` for the rest, with the outcome
it is counted under and whether a retry may help.
"""

from __future__ import annotations

import binascii
import contextlib
import socket
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.inet
import dns.message
import dns.rcode
import dns.tsig
import dns.update

from dhcpbridge.dns import dhcid, messages
from dhcpbridge.dns.jobs import Job, Record
from dhcpbridge.dns.names import with_address
from dhcpbridge.dns.zones import Zone, Zones

NOERROR = dns.rcode.NOERROR
PREREQ_FAILED = frozenset({dns.rcode.YXDOMAIN, dns.rcode.YXRRSET, dns.rcode.NXDOMAIN, dns.rcode.NXRRSET})
RETRIED_RCODES = {
    dns.rcode.REFUSED: "refused",
    dns.rcode.NOTAUTH: "refused",
    dns.rcode.SERVFAIL: "server-error",
}
TSIG_ERRORS = (dns.tsig.PeerError, dns.tsig.BadSignature, dns.tsig.BadTime, dns.tsig.BadAlgorithm)


class Failed(Exception):
    """An update that did not happen: ``outcome`` (counted) and whether to try again later."""

    def __init__(self, outcome: str, retry: bool, detail: str = "") -> None:
        super().__init__(f"{outcome}: {detail}" if detail else outcome)
        self.outcome = outcome
        self.retry = retry
        self.detail = detail


Send = Callable[[dns.update.UpdateMessage, Zone], Awaitable[int]]


StreamSocket = Any  # dnspython's asyncio stream socket (untyped in dnspython)
KEEP_IDLE = 16  # open TCP connections kept per server between messages


class Transport:
    """How messages travel: ``tcp`` or ``udp``, with a per-message timeout (seconds).

    Over TCP a connection carries many messages (RFC 7766 §6.2.1): after an answer it is kept
    for the next message to the same server (up to ``KEEP_IDLE`` per server, one message at a
    time each), since a connect and close cost about as much CPU as the message itself. A kept
    connection the server has closed meanwhile (its idle timeout, a restart) fails on its first
    use; the message then goes over a new one (every update step is safe to repeat).
    ``connections`` counts the connections opened."""

    def __init__(self, kind: str = "tcp", timeout: float = 3.0) -> None:
        self.kind = kind
        self.timeout = timeout
        self.connections = 0
        self._idle: dict[tuple[str, int], list[StreamSocket]] = {}

    async def __call__(self, msg: dns.update.UpdateMessage, zone: Zone) -> int:
        try:
            if self.kind == "udp":
                response = await dns.asyncquery.udp(msg, zone.server, timeout=self.timeout, port=zone.port)
            else:
                response = await self._tcp(msg, zone)
        except dns.exception.Timeout:
            raise Failed("timeout", True, f"{zone.server}:{zone.port}") from None
        except TSIG_ERRORS as exc:
            raise Failed("tsig-error", True, f"{type(exc).__name__} from {zone.server}:{zone.port}") from None
        except (OSError, EOFError) as exc:
            raise Failed("unreachable", True, f"{zone.server}:{zone.port}: {exc}") from None
        except dns.exception.DNSException as exc:
            raise Failed("bad-response", True, f"{zone.server}:{zone.port}: {exc}") from None
        return classify(response, zone)

    async def _tcp(self, msg: dns.update.UpdateMessage, zone: Zone) -> dns.message.Message:
        idle = self._idle.setdefault((zone.server, zone.port), [])
        while idle:
            sock = idle.pop()
            try:
                response = await self._query(msg, zone, sock)
            except (OSError, EOFError):
                continue  # closed by the server while it was idle: the next one, or a new one
            idle.append(sock)
            return response
        backend = dns.asyncbackend.get_default_backend()
        family = dns.inet.af_for_address(zone.server)
        sock = await backend.make_socket(  # type: ignore[no-untyped-call]
            family, socket.SOCK_STREAM, 0, None, (zone.server, zone.port), self.timeout
        )
        self.connections += 1
        response = await self._query(msg, zone, sock)
        if len(idle) < KEEP_IDLE:
            idle.append(sock)
        else:
            await sock.close()
        return response

    async def _query(
        self, msg: dns.update.UpdateMessage, zone: Zone, sock: StreamSocket
    ) -> dns.message.Message:
        """One message over ``sock``; closes it when anything goes wrong (it may hold half an
        answer)."""
        try:
            return await dns.asyncquery.tcp(msg, zone.server, timeout=self.timeout, port=zone.port, sock=sock)
        except BaseException:
            with contextlib.suppress(Exception):
                await sock.close()
            raise

    async def close(self) -> None:
        """Close the kept connections."""
        idle, self._idle = self._idle, {}
        for socks in idle.values():
            for sock in socks:
                with contextlib.suppress(Exception):
                    await sock.close()


def classify(response: dns.message.Message, zone: Zone) -> int:
    rcode = response.rcode()
    if rcode == NOERROR or rcode in PREREQ_FAILED:
        return rcode
    if rcode == dns.rcode.NOTAUTH and zone.key is not None and response.tsig_error != NOERROR:
        raise Failed(
            "tsig-error",
            True,
            f"{dns.rcode.to_text(dns.rcode.Rcode.make(response.tsig_error or 0))} for zone {zone.name}",
        )
    text = f"{dns.rcode.to_text(rcode)} for zone {zone.name}"
    if rcode in RETRIED_RCODES:
        raise Failed(RETRIED_RCODES[rcode], True, text)
    raise Failed("rejected", False, text)


def digest(record: Record, fqdn: str) -> bytes:
    return dhcid.rdata(record.id_type, binascii.unhexlify(record.identifier), fqdn)


class Steps:
    """Runs jobs: ``check`` applies the DHCID rules; ``suffix`` retries a clash once as name-address."""

    def __init__(self, zones: Zones, send: Send, *, check: bool = True, suffix: bool = False) -> None:
        self.zones = zones
        self.send = send
        self.check = check
        self.suffix = suffix

    def _zone(self, name: str) -> Zone:
        zone = self.zones.zone_of(name)
        if zone is None:
            raise Failed("no-zone", False, f"no [[dns.zone]] holds {name}")
        return zone

    async def run(self, job: Job) -> tuple[str, Record]:
        """Carry ``job`` out; returns ("success" | "conflict", the record as it now stands)."""
        if job.op == "add":
            return await self.add(job.record)
        await self.remove(job.record)
        return "success", job.record

    async def add(self, record: Record) -> tuple[str, Record]:
        if record.forward:
            taken = await self._add_forward(record, record.fqdn)
            if taken and self.suffix:
                record = record.renamed(with_address(record.fqdn, record.address))
                taken = await self._add_forward(record, record.fqdn)
            if taken:
                return "conflict", replace(record, conflict=True)
        if record.reverse:
            reverse = self.zones.zone_of(messages.reverse_name(record.address))
            if reverse is not None:
                await self.expect_noerror(messages.set_ptr(reverse, record.address, record.fqdn), reverse)
        return "success", record

    async def _add_forward(self, record: Record, fqdn: str) -> bool:
        """Publish the address; True when another client holds ``fqdn``."""
        zone = self._zone(fqdn)
        ours = digest(record, fqdn)
        if not self.check:
            await self.expect_noerror(messages.replace_unchecked(zone, fqdn, record.address, ours), zone)
            return False
        rcode = await self.send(messages.add_if_unused(zone, fqdn, record.address, ours), zone)
        if rcode == NOERROR:
            return False
        rcode = await self.send(messages.replace_if_ours(zone, fqdn, record.address, ours), zone)
        return rcode != NOERROR

    async def remove(self, record: Record) -> None:
        if record.conflict:
            return
        if record.forward:
            zone = self._zone(record.fqdn)
            ours = digest(record, record.fqdn) if self.check else None
            rcode = await self.send(messages.remove_address(zone, record.fqdn, record.address, ours), zone)
            if rcode == NOERROR:
                await self.send(messages.remove_dhcid_if_bare(zone, record.fqdn, ours), zone)
        if record.reverse:
            reverse = self.zones.zone_of(messages.reverse_name(record.address))
            if reverse is not None:
                await self.expect_noerror(messages.remove_ptr(reverse, record.address, record.fqdn), reverse)

    async def expect_noerror(self, msg: dns.update.UpdateMessage, zone: Zone) -> None:
        rcode = await self.send(msg, zone)
        if rcode != NOERROR:
            raise Failed(
                "rejected",
                False,
                f"{dns.rcode.to_text(dns.rcode.Rcode.make(rcode))} for an unconditional update",
            )
