"""The supervisor's one ``/metrics`` and ``/healthz`` for ``[server] workers``: it asks each
worker over the worker's private Unix socket and answers for all of them.

``/metrics`` is every worker's exposition, each sample labelled ``worker="N"`` (sum counters
``without (worker)``; store-wide gauges such as lease counts are the same in every worker, take
``max``). ``/healthz`` is 200 ``ok`` while every worker runs and reports healthy, else 503 with
each problem on its own line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from dhcpbridge.server.metrics_http import serve_endpoints

Worker = tuple[int, str | None]  # (index, metrics socket path; None while it does not run)
TIMEOUT = 5.0


async def get(path: str, route: str) -> tuple[int, str]:
    import aiohttp

    connector = aiohttp.UnixConnector(path=path)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    async with (
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
        session.get(f"http://worker{route}") as response,
    ):
        return response.status, await response.text()


def merge(expositions: Sequence[tuple[int, str]]) -> bytes:
    """One exposition of several workers' ``(index, text)``, samples labelled ``worker``."""
    from prometheus_client import CollectorRegistry, generate_latest

    families: dict[str, Any] = {}
    for index, text in expositions:
        for family in text_string_to_metric_families(text):
            merged = families.get(family.name)
            if merged is None:
                merged = families[family.name] = family
                samples = family.samples
                family.samples = []
            else:
                samples = family.samples
            for s in samples:
                merged.samples.append(
                    Sample(s.name, {**s.labels, "worker": str(index)}, s.value, s.timestamp, s.exemplar)
                )

    class Collected:
        def collect(self) -> list[Any]:
            return list(families.values())

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collected())
    return bytes(generate_latest(registry))


async def scrape(workers: Sequence[Worker]) -> bytes:
    """``/metrics`` of the workers that run and answer."""
    texts = []
    for index, path in workers:
        if path is None:
            continue
        try:
            status, text = await get(path, "/metrics")
        except Exception:  # aiohttp.ClientError, OSError, a timeout: a worker that is going away
            continue
        if status == 200:
            texts.append((index, text))
    return merge(texts)


async def health(workers: Sequence[Worker]) -> list[str]:
    """Why the workers are not all healthy (empty: they are)."""
    problems = []
    for index, path in workers:
        if path is None:
            problems.append(f"worker {index}: not serving (starting, or exited)")
            continue
        try:
            status, text = await get(path, "/healthz")
        except Exception as exc:  # a worker that cannot answer is not healthy
            problems.append(f"worker {index}: no answer ({type(exc).__name__})")
            continue
        if status != 200:
            problems.append(f"worker {index}: {text.strip()}")
    return problems


async def serve(listen: str, workers: Callable[[], Sequence[Worker]]) -> Any:
    """Serve the aggregate on ``HOST:PORT``; returns the aiohttp runner (``cleanup()`` stops it)."""

    async def body() -> bytes:
        return await scrape(workers())

    async def problems() -> list[str]:
        return await health(workers())

    return await serve_endpoints(listen, body, problems)
