"""``[looking-glass]``: the in-memory ring buffers of the last requests and replies per client
(see ``dhcpbridge.glass``): on by default, one preallocated ring of ``clients x per-client``
exchanges, so a flood of random clients costs a fixed amount of memory."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from dhcpbridge.config.values import Strict


class LookingGlassConfig(Strict):
    """``[looking-glass]``; ``enabled = false`` takes it off the packet path entirely."""

    enabled: bool = True
    clients: Annotated[int, Field(ge=1, le=1_000_000)] = 4096  # ring size = clients x per-client
    per_client: Annotated[int, Field(ge=1, le=1000)] = 16  # exchanges a look shows per client
