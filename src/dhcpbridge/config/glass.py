"""``[looking-glass]``: the in-memory ring buffers of the last requests and replies per client
(see ``dhcpbridge.glass``): on by default, ``clients`` rings of ``per-client`` exchanges in
preallocated columns, so a flood of random clients costs a fixed amount of memory; optionally kept
in a SQLite file (``persist``) with a retention limit (``persist-keep`` exchanges)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from dhcpbridge.config.values import Strict


class LookingGlassConfig(Strict):
    """``[looking-glass]``; ``enabled = false`` takes it off the packet path entirely."""

    enabled: bool = True
    clients: Annotated[int, Field(ge=1, le=1_000_000)] = 4096  # clients with a ring of their own
    per_client: Annotated[int, Field(ge=1, le=1000)] = 16  # exchanges each client's ring keeps
    persist: Path | None = None  # SQLite file (relative to the config file); None: memory only
    persist_keep: Annotated[int, Field(ge=1, le=100_000_000)] = 100_000  # exchanges the file keeps
    persist_interval: Annotated[float, Field(gt=0, le=3600)] = 1.0  # seconds between batches
