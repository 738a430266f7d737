"""What a ``[server] workers`` supervisor tells each worker process it starts (one environment
variable, JSON): the worker's index, the file descriptors of the DHCP sockets the supervisor
bound (the workers share them), the supervisor's pid, the Unix socket on which the worker
serves ``/metrics``, ``/healthz`` and ``/stats`` for the supervisor (and worker 0) to aggregate,
the other workers' sockets, and the pipe on which it says that it has started (``started``)."""

from __future__ import annotations

import ctypes
import json
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field

ENV = "DHCPBRIDGE_WORKER"
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class WorkerRole:
    """One worker's place: ``index`` of ``count``; ``fds`` by family ("v4", "v6")."""

    index: int
    count: int
    parent: int
    fds: dict[str, int] = field(default_factory=dict)
    metrics: str | None = None  # a Unix socket path
    ready: int = -1  # the write end of the supervisor's readiness pipe
    peers: tuple[str, ...] = ()  # every worker's Unix socket, by index (worker 0 sums their stats)

    def to_env(self) -> str:
        return json.dumps(
            {
                "index": self.index,
                "count": self.count,
                "parent": self.parent,
                "fds": self.fds,
                "metrics": self.metrics,
                "ready": self.ready,
                "peers": list(self.peers),
            }
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> WorkerRole | None:
        """The role the supervisor gave this process; None in a server that is no worker."""
        text = environ.get(ENV)
        if not text:
            return None
        data = json.loads(text)
        return cls(
            index=int(data["index"]),
            count=int(data["count"]),
            parent=int(data["parent"]),
            fds={str(k): int(v) for k, v in data.get("fds", {}).items()},
            metrics=data.get("metrics"),
            ready=int(data.get("ready", -1)),
            peers=tuple(str(p) for p in data.get("peers", ())),
        )

    def siblings(self) -> list[tuple[int, str]]:
        """(index, Unix socket) of every other worker."""
        return [(i, path) for i, path in enumerate(self.peers) if i != self.index]

    def started(self) -> None:
        """Tell the supervisor this worker serves (one byte on the readiness pipe, then closed)."""
        if self.ready < 0:
            return
        try:
            os.write(self.ready, b"1")
            os.close(self.ready)
        except OSError:
            pass

    def die_with_parent(self) -> bool:
        """Ask the kernel to SIGTERM this worker when the supervisor dies (Linux); False when the
        supervisor is already gone."""
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass
        return os.getppid() == self.parent
