"""Per-record cost of the SQLite store's journal encoding: format 2 (``leases/embedded/journal.py``:
struct-packed records, CRC-32 per frame) against format 1 (JSON, hex bytes) and the pickle frames
before it, and the cost of reading each back. No sockets, no files; bounded (a few seconds)."""

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
    packed = journal.HEADER_BYTES + journal.frame(batch)
    as_json = journal.HEADER.pack(journal.MAGIC, journal.JSON_VERSION, 0) + journal.json_frame(batch)
    print(f"batch of {BATCH} records, {ROUNDS} rounds")
    print(f"  pickle frame (before format 1)  {per_record(old_frame, batch):6.2f} µs/record")
    print(f"  JSON frame (format 1)           {per_record(journal.json_frame, batch):6.2f} µs/record")
    print(f"  struct frame (format 2)         {per_record(journal.frame, batch):6.2f} µs/record")
    read_json = per_record(lambda _: journal.scan(as_json, "bench"), batch)
    read_packed = per_record(lambda _: journal.scan(packed, "bench"), batch)
    print(f"  scan (read back) format 1       {read_json:6.2f} µs/record")
    print(f"  scan (read back) format 2       {read_packed:6.2f} µs/record")
    print(
        f"  bytes/record: pickle {len(old_frame(batch)) / BATCH:.0f}, format 1 "
        f"{len(journal.json_frame(batch)) / BATCH:.0f}, format 2 {len(journal.frame(batch)) / BATCH:.0f}"
    )


if __name__ == "__main__":
    main()
