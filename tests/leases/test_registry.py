"""The lease store registry: the one place URL schemes are known, and the config's check."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dhcpbridge.leases.base import Checkpointing, CountsLeases, StoreError, is_inline
from dhcpbridge.leases.registry import check_url, open_store


def test_check_url_accepts_known_schemes() -> None:
    for url in ("memory://", "sqlite:///var/lib/x.db", "sqlite://rel.db", "sqlite:x.db?sync=full"):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "redis://localhost",
            "unsupported lease store 'redis://localhost' (known: memory://, sqlite:///PATH, none)",
        ),
        ("sqlite://", "sqlite store needs a path"),
        ("sqlite:", "sqlite store needs a path"),
    ],
)
def test_check_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_url(url)


def test_open_store_unknown_scheme() -> None:
    with pytest.raises(StoreError, match="unsupported lease store"):
        open_store("postgres://db")


def test_open_store_sets_retention_and_capabilities() -> None:
    store = open_store("memory://", retention=60.0)
    assert store.retention == 60.0  # type: ignore[attr-defined]
    assert is_inline(store) and isinstance(store, CountsLeases)
    assert not isinstance(store, Checkpointing)  # memory has no file to checkpoint
    assert not is_inline(object())


def test_registry_and_config_load_no_store_backend() -> None:
    code = (
        "import sys; import dhcpbridge.leases.registry, dhcpbridge.config.model;"
        "print([m for m in sys.modules if m.startswith('dhcpbridge.leases.embedded')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
