"""Per-record cost of the SQLite store's journal encoding: the data-only frame format
(``leases/embedded/journal.py``: JSON, hex bytes, CRC-32) against the pickle frames it replaced,
and the cost of reading it back. No sockets, no files; bounded (a few seconds)."""

from __future__ import annotations

import pickle
import struct
import time

from dhcpbridge.engine.model import Lease, LeaseState
from dhcpbridge.leases.embedded import journal
from dhcpbridge.leases.embedded.sqlite import _row

BATCH = 64
ROUNDS = 2000


def rows() -> list[tuple[object, ...]]:
    return [
        _row(
            Lease(
                0x0A430000 + i,
                b"\x01\x02\x67\x00\x00" + i.to_bytes(2, "big"),
                LeaseState.BOUND,
                1.7e9,
                1.7e9 + 3600,
                hwaddr=b"\x02\x67\x00\x00" + i.to_bytes(2, "big"),
                hostname=f"host{i}",
                subnet="10.67.0.0/16",
                source="pools",
                relay="10.68.0.2",
                circuit_id=b"port-7",
            )
        )
        for i in range(BATCH)
    ]


def per_record(fn: object, batch: list[tuple[object, ...]]) -> float:
    start = time.perf_counter()
    for _ in range(ROUNDS):
        fn(batch)  # type: ignore[operator]
    return (time.perf_counter() - start) / (ROUNDS * len(batch)) * 1e6


def old_frame(records: list[tuple[object, ...]]) -> bytes:
    body = pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("!I", len(body)) + body


def main() -> None:
    batch = rows()
    data = journal.HEADER_BYTES + journal.frame(batch)
    print(f"batch of {BATCH} records, {ROUNDS} rounds")
    print(f"  pickle frame (old)      {per_record(old_frame, batch):6.2f} µs/record")
    print(f"  data-only frame (new)   {per_record(journal.frame, batch):6.2f} µs/record")
    print(
        f"  scan (read back, new)   {per_record(lambda _: journal.scan(data, 'bench'), batch):6.2f} µs/record"
    )
    print(
        f"  bytes/record: old {len(old_frame(batch)) / BATCH:.0f}, new {len(journal.frame(batch)) / BATCH:.0f}"
    )


if __name__ == "__main__":
    main()
