"""Gate for tests that need root, network namespaces and real DHCP tools.

One job: decide whether an end-to-end test can run here, and skip it - or fail it when
``DHCPBRIDGE_REQUIRE_E2E=1`` says the environment must be complete (CI).

    from dhcpbridge.testing.e2e import require_e2e
    require_e2e("dhclient", "kea-dhcp4")   # in a test or fixture: skip/fail with the reason
"""

from __future__ import annotations

import os

from dhcpbridge.testing.netns import have_root, missing_tools

REQUIRE_ENV = "DHCPBRIDGE_REQUIRE_E2E"
BASE_TOOLS = ("ip", "taskset")


def e2e_required() -> bool:
    """True when ``DHCPBRIDGE_REQUIRE_E2E=1``: missing prerequisites are failures, not skips."""
    return os.environ.get(REQUIRE_ENV, "") == "1"


def e2e_unavailable(*tools: str) -> str | None:
    """None if we are root and every tool exists, else a human-readable reason."""
    if not have_root():
        return "needs root (network namespaces)"
    missing = missing_tools(*BASE_TOOLS, *tools)
    if missing:
        return f"missing tools: {', '.join(missing)} (make system-deps)"
    return None


def require_e2e(*tools: str) -> None:
    """In a pytest test or fixture: skip (or fail under ``DHCPBRIDGE_REQUIRE_E2E=1``) if unavailable."""
    import pytest

    reason = e2e_unavailable(*tools)
    if reason is None:
        return
    if e2e_required():
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    pytest.skip(reason)
