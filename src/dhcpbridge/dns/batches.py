"""Several jobs in few UPDATE messages: the jobs of one batch share an operation, a forward zone
and a reverse zone (``group_key``) and have distinct names and addresses (the updater's order
rule), so their RRs go into one message per zone and step (RFC 2136 §3: any number of RRs for one
zone), signed once and sent in one round trip.

Prerequisites are all or nothing: when one name of a batched message fails its prerequisite (a
name another client holds, RFC 4703 §5.3; a name that no longer carries our DHCID, §5.5), BIND
applies none of the message, and the batch falls back to one job at a time
(``protocol.Steps.run``), so the other names still land and the conflicting one is handled as
alone. Every step is safe to repeat, so a fall-back or a retry after a half-sent batch ends in the
same state as sending each job once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from dhcpbridge.dns import messages
from dhcpbridge.dns.jobs import Job, Record
from dhcpbridge.dns.protocol import NOERROR, Failed, Steps, digest
from dhcpbridge.dns.zones import Zone

GroupKey = tuple[str, str | None, str | None]  # op, forward zone, reverse zone (names)
Result = tuple[str, Record] | Failed


def group_key(steps: Steps, job: Job) -> GroupKey | None:
    """Which batch ``job`` may join; None: it goes alone (a zone is missing: ``run`` reports it)."""
    record = job.record
    forward = reverse = None
    if record.forward:
        zone = steps.zones.zone_of(record.fqdn)
        if zone is None:
            return None
        forward = zone.name
    if record.reverse:
        zone = steps.zones.zone_of(messages.reverse_name(record.address))
        reverse = zone.name if zone is not None else None
    return (job.op, forward, reverse)


async def _one(steps: Steps, job: Job) -> Result:
    try:
        return await steps.run(job)
    except Failed as exc:
        return exc


async def one_by_one(steps: Steps, jobs: Sequence[Job]) -> list[Result]:
    """The fall-back: each job on its own (in parallel: their names and addresses differ)."""
    return list(await asyncio.gather(*(_one(steps, job) for job in jobs)))


async def run_batch(steps: Steps, jobs: Sequence[Job]) -> list[Result]:
    """Carry ``jobs`` (one ``group_key``) out; one result per job, in order. A ``Failed`` of a
    message shared by the whole batch (server down, refused, TSIG) is raised for all of them."""
    if len(jobs) == 1:
        return [await _one(steps, jobs[0])]
    if jobs[0].op == "add":
        return await _add(steps, jobs)
    return await _remove(steps, jobs)


def _zones(steps: Steps, jobs: Sequence[Job]) -> tuple[Zone | None, Zone | None]:
    record = jobs[0].record
    forward = steps.zones.zone_of(record.fqdn) if record.forward else None
    reverse = steps.zones.zone_of(messages.reverse_name(record.address)) if record.reverse else None
    return forward, reverse


def _batched(
    jobs: Sequence[Job], part: Callable[[Record, messages.Update | None], messages.Update]
) -> messages.Update:
    """One UPDATE with ``part`` of every job's record (``part`` adds its RRs to the message so far)."""
    msg = None
    for job in jobs:
        msg = part(job.record, msg)
    assert msg is not None
    return msg


def _ours(steps: Steps, record: Record) -> bytes | None:
    """The DHCID a removal checks the name still carries (None: ``no-check-with-dhcid``)."""
    return digest(record, record.fqdn) if steps.check else None


async def _add(steps: Steps, jobs: Sequence[Job]) -> list[Result]:
    forward, reverse = _zones(steps, jobs)
    if forward is not None:
        build = messages.add_if_unused if steps.check else messages.replace_unchecked
        msg = _batched(jobs, lambda r, m: build(forward, r.fqdn, r.address, digest(r, r.fqdn), m))
        if await steps.send(msg, forward) != NOERROR:
            return await one_by_one(steps, jobs)  # a name is taken (or ours already): one by one
    if reverse is not None:
        msg = _batched(jobs, lambda r, m: messages.set_ptr(reverse, r.address, r.fqdn, m))
        await steps.expect_noerror(msg, reverse)
    return [("success", job.record) for job in jobs]


async def _remove(steps: Steps, jobs: Sequence[Job]) -> list[Result]:
    live = [job for job in jobs if not job.record.conflict]  # a conflict published nothing
    if not live:
        return [("success", job.record) for job in jobs]
    forward, reverse = _zones(steps, live)
    if forward is not None:
        msg = _batched(
            live, lambda r, m: messages.remove_address(forward, r.fqdn, r.address, _ours(steps, r), m)
        )
        if await steps.send(msg, forward) != NOERROR:
            return await one_by_one(steps, jobs)  # a name is no longer ours: one by one
        msg = _batched(live, lambda r, m: messages.remove_dhcid_if_bare(forward, r.fqdn, _ours(steps, r), m))
        if await steps.send(msg, forward) != NOERROR:  # a name keeps an address of the other family
            await asyncio.gather(*(_bare(steps, forward, job.record) for job in live))
    if reverse is not None:
        msg = _batched(live, lambda r, m: messages.remove_ptr(reverse, r.address, r.fqdn, m))
        await steps.expect_noerror(msg, reverse)
    return [("success", job.record) for job in jobs]


async def _bare(steps: Steps, zone: Zone, record: Record) -> None:
    await steps.send(messages.remove_dhcid_if_bare(zone, record.fqdn, _ours(steps, record)), zone)
