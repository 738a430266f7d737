"""What a dashboard does to the API during the bench's API row: ``RATE`` requests per second in
turn ``GET /v1/leases?limit=50`` (the leases page) and ``GET /v1/stats`` over one keep-alive
connection, until ``SECONDS`` pass or SIGTERM; then it writes how many it made, how many failed
and their latencies to ``OUT`` (JSON). Bounded in count (RATE x SECONDS) and time.

Run (in the server's namespace): python bench/api_poller.py http://127.0.0.1:PORT 20 600 out.json
"""

from __future__ import annotations

import http.client
import json
import signal
import sys
import time
from urllib.parse import urlsplit

PATHS = ("/v1/leases?limit=50", "/v1/stats")


def main() -> None:
    url, rate, seconds, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    parts = urlsplit(url)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=5)
    done = failed = 0
    latencies: list[float] = []
    start = time.monotonic()
    limit = int(rate * seconds)
    while not stop["now"] and done + failed < limit and time.monotonic() - start < seconds:
        due = start + (done + failed) / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        t0 = time.monotonic()
        try:
            conn.request("GET", PATHS[(done + failed) % len(PATHS)])
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            ok = False
        latencies.append(time.monotonic() - t0)
        done, failed = (done + 1, failed) if ok else (done, failed + 1)
    latencies.sort()
    result = {
        "requests": done,
        "failed": failed,
        "seconds": round(time.monotonic() - start, 3),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 2) if latencies else None,
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 2) if latencies else None,
    }
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
