"""``[leases] store = "none"`` (bridge-only mode): the store keeps nothing, yet every call answers
as the ``LeaseStore`` protocol says for a store in which nothing is held."""

from __future__ import annotations

import pytest

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import open_store
from dhcpbridge.leases.base import is_inline
from dhcpbridge.leases.registry import check_url

NOW = 1_800_000_000.0


def test_none_keeps_nothing_but_grants_what_is_asked() -> None:
    store = open_store("none", retention=60)
    assert is_inline(store)
    lease = Lease(0x0A430032, b"\x01\x02", LeaseState.OFFERED, NOW, NOW + 30)
    assert run_inline(store.offer(lease, NOW)) is lease
    bound = Lease(0x0A430032, b"\x01\x02", LeaseState.BOUND, NOW, NOW + 900)
    assert run_inline(store.commit(bound, NOW)) is bound
    run_inline(store.flush())
    assert run_inline(store.get(LeaseKind.V4, 0x0A430032)) is None
    assert run_inline(store.find_client(LeaseKind.V4, b"\x01\x02")) == []
    assert run_inline(store.leases()) == []
    assert run_inline(store.allocate(Hold(lease, [], NOW, 0))) is None  # no pools to allocate from
    assert run_inline(store.release(LeaseKind.V4, 0x0A430032, b"\x01\x02", NOW)) is None
    assert run_inline(store.decline(LeaseKind.V4, 0x0A430032, b"\x01\x02", NOW, NOW + 60)) is None
    assert run_inline(store.reap(NOW + 10_000)) == []
    run_inline(store.close())


@pytest.mark.parametrize("url", ["none", "none://"])
def test_none_urls_are_accepted(url: str) -> None:
    check_url(url)


def test_none_with_a_path_is_refused() -> None:
    with pytest.raises(ValueError, match="keeps nothing"):
        check_url("none:///var/lib/x")
