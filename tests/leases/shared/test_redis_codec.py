"""The Redis store's record codec: the hand-built JSON of ``record_json`` is exactly the record
``expected_record`` spells out field by field (the layout of ``docs/stores/redis.md``), for every
kind and for free text that needs quoting."""

from __future__ import annotations

import json

import pytest

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.addresses import addr_text
from dhcpbridge.leases.shared.redis_codec import KIND_NAMES, STATE_NAMES, addr_hex, decode, record_json

V4 = Lease(
    address=0x0A449AC5,
    client=bytes.fromhex("01000000000001"),
    state=LeaseState.BOUND,
    starts=1796667272.844403,
    expires=1796674472.0,
    kind=LeaseKind.V4,
    hwaddr=bytes.fromhex("00aabbccddee"),
    hostname='pc "one"\\é\n',
    subnet="10.68.0.0/16",
    source="bridge",
    relay="10.68.0.2",
    circuit_id=b"\x01\x02",
    remote_id=b"\xff",
    info={"vlan": 7, "note": "ü"},
)
NA = Lease(
    address=0x20010DB8000000000000000000000010,
    client=bytes.fromhex("0000000100030001020304050607"),
    state=LeaseState.OFFERED,
    starts=1.5,
    expires=2.25,
    kind=LeaseKind.NA,
    prefix_len=128,
)
PD = Lease(
    address=0x20010DB8010000000000000000000000,
    client=bytes.fromhex("00000002"),  # an IAID alone: no DUID fields
    state=LeaseState.DECLINED,
    starts=0.0,
    expires=1e10,
    kind=LeaseKind.PD,
    prefix_len=56,
)


def expected_record(lease: Lease, with_address: bool = True) -> dict[str, str]:
    """The record of ``lease``, as the Lua script and a Redis user read it."""
    kind = lease.kind
    rec = {
        "kind": KIND_NAMES[kind],
        "address": addr_text(kind, lease.address) if with_address else "",
        "_hex": addr_hex(kind, lease.address) if with_address else "",
        "client": lease.client.hex(),
        "mac": lease.hwaddr.hex(":"),
        "hostname": lease.hostname,
        "state": STATE_NAMES[lease.state],
        "starts": repr(float(lease.starts)),
        "expires": repr(float(lease.expires)),
        "subnet": lease.subnet,
        "source": lease.source,
        "relay": lease.relay,
        "circuit-id": lease.circuit_id.hex(":"),
        "remote-id": lease.remote_id.hex(":"),
        "info": json.dumps(lease.info, separators=(",", ":")) if lease.info else "",
    }
    if kind != LeaseKind.V4:
        rec["prefix-len"] = str(lease.prefix_len)
        if len(lease.client) > 4:  # IAID (4 bytes) + DUID
            rec["iaid"] = str(int.from_bytes(lease.client[:4], "big"))
            rec["duid"] = lease.client[4:].hex(":")
    return rec


@pytest.mark.parametrize("lease", [V4, NA, PD], ids=["v4", "na", "pd"])
@pytest.mark.parametrize("with_address", [True, False])
def test_record_json_is_the_record(lease: Lease, with_address: bool) -> None:
    assert json.loads(record_json(lease, with_address)) == expected_record(lease, with_address)


def test_a_cap_is_passed_along() -> None:
    assert json.loads(record_json(NA, cap=3)) == {**expected_record(NA), "_cap": "3"}


@pytest.mark.parametrize("lease", [V4, NA, PD], ids=["v4", "na", "pd"])
def test_a_record_decodes_to_its_lease(lease: Lease) -> None:
    assert decode(record_json(lease).encode()) == lease
    assert decode(None) is None and decode(False) is None
