"""``dhcpbridge reconfigure CLIENT`` with a MAC or DUID: which bound leases of the store name that
client (v4 by chaddr or client id, RFC 4361 DUID client ids too; v6 by DUID or the MAC of a
DUID-LL/LLT), and that one RECONFIGURE goes per DUID and one FORCERENEW per v4 lease, with the
leases whose client did not accept them reported as refused."""

from __future__ import annotations

from typing import Any

import pytest

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.engine.reconfigure import MARK
from dhcpbridge.leases.base import QueriesLeases
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.server import reconfigure
from dhcpbridge.server.reconfigure import client_bound, duid_mac, is_client

NOW = 1_000_000.0
MAC = bytes.fromhex("026700000002")
DUID_LLT = bytes.fromhex("00010001") + bytes.fromhex("2b3c4d5e") + MAC
IAID = bytes.fromhex("0000000a")
V4, NA, PD = LeaseKind.V4, LeaseKind.NA, LeaseKind.PD


def lease(kind: LeaseKind, address: int, client: bytes, hwaddr: bytes = b"", marked: bool = True) -> Lease:
    return Lease(
        address,
        client,
        LeaseState.BOUND,
        NOW - 10,
        NOW + 600,
        kind,
        32 if kind == V4 else (56 if kind == PD else 128),
        hwaddr,
        info={MARK: True} if marked else None,
    )


def test_duid_mac() -> None:
    assert duid_mac(DUID_LLT) == MAC
    assert duid_mac(bytes.fromhex("00030001") + MAC) == MAC
    assert duid_mac(bytes.fromhex("0002000009bf") + b"id") == b""


def test_which_leases_a_mac_or_duid_names() -> None:
    by_chaddr = lease(V4, 0x0A430005, b"\x01" + MAC, MAC)
    by_4361 = lease(V4, 0x0A430006, b"\xff" + IAID + DUID_LLT)  # no hwaddr kept: the DUID names it
    v6 = lease(NA, 0xFD67 << 112 | 5, IAID + DUID_LLT)
    ta = lease(NA, 0xFD67 << 112 | 6, b"TA" + IAID + DUID_LLT)
    other = lease(NA, 0xFD67 << 112 | 7, IAID + bytes.fromhex("00030001026700000099"))
    assert is_client(by_chaddr, MAC) and is_client(v6, MAC) and is_client(ta, MAC)
    assert is_client(by_4361, DUID_LLT) and is_client(v6, DUID_LLT) and not is_client(by_chaddr, DUID_LLT)
    assert not is_client(other, MAC) and not is_client(other, DUID_LLT)
    assert not is_client(by_4361, MAC)


async def test_client_bound_reads_both_families_and_only_bound_leases() -> None:
    store = MemoryStore()
    v4 = lease(V4, 0x0A430005, b"\x01" + MAC, MAC)
    na = lease(NA, 0xFD67 << 112 | 5, IAID + DUID_LLT)
    pd = lease(PD, 0xFD68 << 112, IAID + DUID_LLT)
    gone = lease(V4, 0x0A430009, b"\x01" + MAC, MAC)
    gone.expires = NOW - 1
    for x in (v4, na, pd, gone):
        assert await store.commit(x, NOW - 10) is not None
    found = await client_bound(store, MAC, NOW)
    assert sorted((x.kind, x.address) for x in found) == [
        (V4, v4.address),
        (NA, na.address),
        (PD, pd.address),
    ]
    assert {x.kind for x in await client_bound(store, DUID_LLT, NOW)} == {NA, PD}
    assert await client_bound(None, MAC, NOW) == []


async def test_client_bound_pages_through_a_querying_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that can query is read in chunks of bound records: a client's lease after the
    first chunk is found, a released one is not."""
    monkeypatch.setattr(reconfigure, "SCAN_CHUNK", 2)
    store = MemoryStore()
    assert isinstance(store, QueriesLeases)
    for i in range(5):  # other clients' leases first
        other = bytes.fromhex(f"0267000000{0x10 + i:02x}")
        assert await store.commit(lease(V4, 0x0A430010 + i, b"\x01" + other, other), NOW - 10) is not None
    mine = lease(V4, 0x0A430020, b"\x01" + MAC, MAC)
    released = lease(V4, 0x0A430021, b"\x01" + MAC, MAC)
    for x in (mine, released):
        assert await store.commit(x, NOW - 10) is not None
    assert await store.release(V4, released.address, released.client, NOW - 5) is not None
    assert [x.address for x in await client_bound(store, MAC, NOW)] == [mine.address]


class FakeServer:
    """The store, and what ``_send`` would have sent recorded instead of sent."""

    def __init__(self, store: MemoryStore) -> None:
        self.store: LeaseStore | None = store
        self.endpoints: dict[str, Any] = {}
        self.engine4 = None
        self.engine6 = None


async def test_one_reconfigure_per_duid_one_forcerenew_per_v4_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    leases = [
        lease(V4, 0x0A430005, b"\x01" + MAC, MAC),
        lease(V4, 0x0A440005, b"\x01" + MAC, MAC, marked=False),  # on another link, no option 145
        lease(NA, 0xFD67 << 112 | 5, IAID + DUID_LLT),
        lease(NA, 0xFD67 << 112 | 6, bytes.fromhex("0000000b") + DUID_LLT),
        lease(PD, 0xFD68 << 112, IAID + DUID_LLT),
    ]
    for x in leases:
        assert await store.commit(x, NOW - 10) is not None
    sent: list[Lease] = []

    async def fake_send(server: Any, x: Lease, now: float) -> dict[str, Any]:
        sent.append(x)
        return {"sent": "FORCERENEW" if x.kind == V4 else "RECONFIGURE"}

    monkeypatch.setattr(reconfigure, "_send", fake_send)
    out = await reconfigure.send_client(FakeServer(store), "02:67:00:00:00:02", NOW)
    assert [x.address for x in sent] == [0x0A430005, 0xFD67 << 112 | 5]
    assert [s["lease"] for s in out["sent"]] == ["10.67.0.5", "fd67::5"]
    (refused,) = out["refused"]
    assert refused["lease"] == "10.68.0.5" and "did not say it accepts FORCERENEW" in refused["error"]

    sent.clear()
    store2 = MemoryStore()
    assert await store2.commit(leases[1], NOW - 10) is not None
    with pytest.raises(ValueError, match=r"10\.68\.0\.5: the client did not say"):
        await reconfigure.send_client(FakeServer(store2), MAC.hex(), NOW)
    assert sent == []
    with pytest.raises(ValueError, match="no lease is bound to client"):
        await reconfigure.send_client(FakeServer(MemoryStore()), MAC.hex(), NOW)
