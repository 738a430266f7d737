"""Where Redis spends its time for the Redis store: the commands the server sends for ``--clients``
v4 DORAs (recorded from ``micro_server``'s loop on a private redis-server), replayed into a fresh
private redis-server (unix socket, AOF ``everysec``) in pipelines of ``--batch``, ``--repeat``
times; prints per DORA the CPU of ``FCALL`` (Lua, ``cjson`` and the commands it runs), of the
commands alone (``INFO commandstats``), and redis-server's CPU (``INFO cpu``).

The replay takes no CPU of the server's and no network, so it is steadier than the bench rows:
to weigh a change of ``leases/shared/redis_lua.py``, run this before and after it.

Run: .venv/bin/python bench/redis_replay.py [--clients N] [--batch B] [--repeat R]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import micro_server  # bench/ is the script's folder, first on sys.path
import redis

from dhcpbridge.leases.shared import redis_pipe
from dhcpbridge.leases.shared.redis_lua import LIBRARY


def record(clients: int) -> list[Sequence[Any]]:
    """The function calls the store sends for ``clients`` DORAs of ``micro_server``'s loop."""
    sent: list[Sequence[Any]] = []
    execute = redis_pipe.RedisPipe.execute

    async def recording(
        self: redis_pipe.RedisPipe,
        commands: Sequence[Sequence[Any]],
        on_reply: redis_pipe.OnReply = redis_pipe._ignore,
    ) -> list[Any]:
        sent.extend(commands)
        return await execute(self, commands, on_reply)

    redis_pipe.RedisPipe.execute = recording  # type: ignore[method-assign]
    try:
        with micro_server.private_redis() as server:
            micro_server.run("v4", clients, 32, store_url=server.url())
    finally:
        redis_pipe.RedisPipe.execute = execute  # type: ignore[method-assign]
    return [c for c in sent if c[0] == b"FCALL"]  # not the counts' reads


def replay(commands: list[Sequence[Any]], batch: int) -> dict[str, float]:
    """CPU seconds of one replay into a fresh redis-server: FCALL, the commands, the server."""
    with micro_server.private_redis() as server:
        client = redis.Redis(unix_socket_path=str(server.socket))
        try:
            client.function_load(LIBRARY, replace=True)
            client.config_resetstat()
            before = micro_server.redis_cpu(server)
            for i in range(0, len(commands), batch):
                pipe = client.pipeline(transaction=False)
                for args in commands[i : i + batch]:
                    pipe.execute_command(*args)  # type: ignore[no-untyped-call]
                pipe.execute(raise_on_error=False)
            used = micro_server.redis_cpu(server) - before
            stats = client.info("commandstats")
        finally:
            client.close()
    fcall = stats.get("cmdstat_fcall", {}).get("usec", 0) / 1e6
    inner = sum(v["usec"] for k, v in stats.items() if k not in ("cmdstat_fcall", "cmdstat_config|resetstat"))
    return {"fcall": fcall, "commands": inner / 1e6, "server": used}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32, help="commands per pipeline in the replay")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    commands = record(args.clients)
    calls = len(commands) / args.clients
    runs = [replay(commands, args.batch) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["server"])
    per = {k: v / args.clients * 1e6 for k, v in best.items()}
    print(
        f"redis replay, {args.clients} v4 DORAs, {calls:.2f} FCALLs per DORA, pipelines of "
        f"{args.batch}, best of {args.repeat} (µs per DORA): FCALL {per['fcall']:6.1f}  "
        f"commands inside {per['commands']:6.1f}  redis-server CPU {per['server']:6.1f}"
    )


if __name__ == "__main__":
    main()
