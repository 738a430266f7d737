"""The Redis store's pipelines on the wire (``redis_pipe``), against a private redis-server:
replies in order with error replies in their place, a closed connection replaced (the batch sent
once more), a timeout raised at once and the batch never sent twice."""

from __future__ import annotations

import asyncio

import pytest
import redis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dhcpbridge.leases.shared.redis_pipe import RedisPipe
from dhcpbridge.testing.redis import RedisServer


def client(server: RedisServer, timeout: float = 5.0) -> Redis:
    return Redis(unix_socket_path=str(server.socket), socket_timeout=timeout)


async def test_replies_in_order_with_errors_in_place(private_redis: RedisServer) -> None:
    c = client(private_redis)
    pipe = RedisPipe(c)
    big = b"x" * 200_000  # more than one read of the socket
    replies = await pipe.execute(
        [
            (b"SET", b"k", big),
            (b"GET", b"k"),
            (b"NOSUCHCOMMAND",),
            (b"HSET", b"h", b"a", 1, b"b", "é"),
            (b"GET", b"missing"),
            ("INCR", "n"),
        ]
    )
    assert replies[0] == b"OK" and replies[1] == big
    assert isinstance(replies[2], ResponseError) and "unknown command" in str(replies[2])
    assert replies[3:] == [2, None, 1]
    assert await pipe.execute([(b"HGET", b"h", b"b")]) == ["é".encode()]
    await c.aclose()


async def test_a_closed_connection_is_replaced(private_redis: RedisServer) -> None:
    c = client(private_redis)
    pipe = RedisPipe(c)
    assert await pipe.execute([(b"INCR", b"n")]) == [1]
    killer = redis.Redis(unix_socket_path=str(private_redis.socket))
    killer.client_kill_filter(_type="normal", skipme=True)  # the pipe's connection
    killer.close()
    assert await pipe.execute([(b"INCR", b"n")]) == [2]
    await c.aclose()


async def test_redis_gone_is_a_connection_error(private_redis: RedisServer) -> None:
    c = client(private_redis)
    pipe = RedisPipe(c)
    assert await pipe.execute([(b"PING",)]) == [b"PONG"]
    private_redis.stop()
    with pytest.raises(RedisConnectionError):
        await pipe.execute([(b"PING",)])
    private_redis.start()
    assert await pipe.execute([(b"PING",)]) == [b"PONG"]
    await c.aclose()


async def test_a_timeout_is_raised_and_the_batch_not_sent_again(private_redis: RedisServer) -> None:
    c = client(private_redis, timeout=0.3)
    pipe = RedisPipe(c)
    with pytest.raises(RedisTimeoutError):
        await pipe.execute([(b"INCR", b"n"), (b"BLPOP", b"nothing", b"1")])  # blocks 1 s
    await asyncio.sleep(1.0)
    plain = redis.Redis(unix_socket_path=str(private_redis.socket))
    assert plain.get("n") == b"1"  # ran once
    plain.close()
    assert await pipe.execute([(b"INCR", b"n")]) == [2]  # and the pipe works again
    await c.aclose()


async def test_each_reply_is_handed_over_as_it_arrives(private_redis: RedisServer) -> None:
    """A batch's first replies reach their callers before its last one is in (a server that
    waited for the whole batch sent all its packets' answers in one burst)."""
    c = client(private_redis)
    pipe = RedisPipe(c)
    loop = asyncio.get_running_loop()
    start = loop.time()
    seen: list[tuple[int, object, float]] = []
    replies = await pipe.execute(
        [(b"INCR", b"n"), (b"INCR", b"n"), (b"BLPOP", b"nothing", b"0.5")],  # the last blocks 0.5 s
        lambda i, reply: seen.append((i, reply, loop.time() - start)),
    )
    assert replies == [1, 2, None]
    assert [(i, reply) for i, reply, _ in seen] == [(0, 1), (1, 2), (2, None)]
    assert seen[1][2] < 0.3 <= seen[2][2]
    await c.aclose()


async def test_after_a_lost_connection_only_the_unanswered_commands_are_sent_again(
    private_redis: RedisServer,
) -> None:
    c = client(private_redis)
    pipe = RedisPipe(c)
    assert await pipe.execute([(b"PING",)]) == [b"PONG"]
    seen: list[int] = []
    # the connection is killed while the batch blocks in Redis, after the first INCR ran
    batch = asyncio.ensure_future(
        pipe.execute(
            [
                (b"CLIENT", b"ID"),
                (b"INCR", b"n"),
                (b"BLPOP", b"nothing", b"0.5"),
                (b"INCR", b"n"),
                (b"CLIENT", b"ID"),
            ],
            lambda i, reply: seen.append(i),
        )
    )
    await asyncio.sleep(0.2)
    killer = redis.Redis(unix_socket_path=str(private_redis.socket))
    assert killer.client_kill_filter(_type="normal", skipme=True) >= 1
    killer.close()
    replies = await batch
    assert replies[0] != replies[4]  # the rest ran on a new connection
    assert replies[1:4] == [1, None, 2]  # the first INCR ran once
    assert seen == [0, 1, 2, 3, 4]
    await c.aclose()


async def test_batches_in_flight_together_get_their_own_replies(private_redis: RedisServer) -> None:
    """A batch sent while another is unanswered (the first blocks in Redis) gets its replies after
    it, each batch its own; a connection lost under both sends each one's unanswered rest again."""
    c = client(private_redis)
    pipe = RedisPipe(c)
    first = asyncio.ensure_future(pipe.execute([(b"INCR", b"a"), (b"BLPOP", b"nothing", b"0.3")]))
    second = asyncio.ensure_future(pipe.execute([(b"INCR", b"b"), (b"INCR", b"a")]))
    third = asyncio.ensure_future(pipe.execute([(b"GET", b"a")]))
    assert await asyncio.gather(first, second, third) == [[1, None], [1, 2], [b"2"]]
    # the connection killed while a batch blocks in Redis and another waits behind it
    blocked = asyncio.ensure_future(pipe.execute([(b"INCR", b"c"), (b"BLPOP", b"nothing", b"0.5")]))
    behind = asyncio.ensure_future(pipe.execute([(b"INCR", b"c")]))
    await asyncio.sleep(0.2)
    killer = redis.Redis(unix_socket_path=str(private_redis.socket))
    assert killer.client_kill_filter(_type="normal", skipme=True) >= 1
    killer.close()
    assert await asyncio.gather(blocked, behind) == [[1, None], [2]]  # every INCR ran once
    await c.aclose()


async def test_a_timeout_under_batches_in_flight(private_redis: RedisServer) -> None:
    """A batch waiting behind one that blocks in Redis times out with it (Redis answers a
    connection's commands in order); neither is sent again, and the pipe works afterwards."""
    c = client(private_redis, timeout=0.3)
    pipe = RedisPipe(c)
    slow = asyncio.ensure_future(pipe.execute([(b"INCR", b"t"), (b"BLPOP", b"nothing", b"1")]))
    behind = asyncio.ensure_future(pipe.execute([(b"INCR", b"u")]))
    done = await asyncio.gather(slow, behind, return_exceptions=True)
    assert all(isinstance(d, RedisTimeoutError) for d in done), done
    await asyncio.sleep(1.0)
    plain = redis.Redis(unix_socket_path=str(private_redis.socket))
    t, u = plain.mget("t", "u")
    assert t == b"1" and u in (None, b"1")  # each ran at most once
    plain.close()
    assert await pipe.execute([(b"INCR", b"t")]) == [2]
    await c.aclose()
