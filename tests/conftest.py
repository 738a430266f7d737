"""Suite-wide guard: never test stale compiled modules (a mypyc extension older than its source
would shadow the edit)."""

from __future__ import annotations

import pytest

from dhcpbridge import _native


def pytest_sessionstart(session: pytest.Session) -> None:
    stale = _native.stale()
    if stale:
        pytest.exit(
            f"compiled modules are older than their sources: {', '.join(stale)}; run `make native` "
            "(or `make pure` to test pure Python)",
            returncode=3,
        )
