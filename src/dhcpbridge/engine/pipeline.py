"""Handlers and the pipeline that runs them: phases pre, handle and post over one transaction.

A handler subclasses ``Handler`` and overrides any of ``pre``, ``handle`` and ``post``; each may be
a plain method or a coroutine — or a plain method that returns an awaitable (the pipeline awaits
whatever a hook returns that is not None), so plain hooks cost one call.
``CannotRespond`` drops the request with a reason; ``tx.done = True`` ends the handle phase early.
Post hooks always run, so they can also observe drops. Users add handlers from their own modules
(a dotted path in the config); they run before or after the built-in ones of each phase (the
engines' ``before`` and ``extra``). ``dhcpbridge.extend`` re-exports what a handler needs.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from mypy_extensions import mypyc_attr


class CannotRespond(Exception):
    """Drop this request without a reply; ``reason`` becomes a counter label and a log field."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason if not detail else f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class TransactionLike(Protocol):
    done: bool
    drop_reason: str | None
    drop_detail: str
    dropped_by: object  # the hook that raised ``CannotRespond`` (None: no drop, or set directly)


T = TypeVar("T", bound=TransactionLike)
Step = Callable[[Any], Any]


@mypyc_attr(allow_interpreted_subclasses=True)  # users subclass it in plain Python
class Handler(Generic[T]):
    """Base class: override the hooks you need; the others are skipped."""

    def pre(self, tx: T) -> Awaitable[None] | None:
        return None

    def handle(self, tx: T) -> Awaitable[None] | None:
        return None

    def post(self, tx: T) -> Awaitable[None] | None:
        return None


def _steps(handlers: Sequence[Handler[T]], hook: str) -> list[Step]:
    steps: list[Step] = []
    base = getattr(Handler, hook)
    for h in handlers:
        if getattr(type(h), hook) is base:  # not overridden (works for compiled classes too)
            continue
        steps.append(getattr(h, hook))
    return steps


def is_async_hook(handler: Handler[Any]) -> bool:
    """Whether any overridden hook of ``handler`` is a coroutine function (may suspend)."""
    return any(
        inspect.iscoroutinefunction(getattr(handler, hook))
        for hook in ("pre", "handle", "post")
        if getattr(type(handler), hook) is not getattr(Handler, hook)
    )


class Pipeline(Generic[T]):
    """Runs handlers' hooks phase by phase over a transaction."""

    def __init__(self, handlers: Sequence[Handler[T]]) -> None:
        self.handlers = list(handlers)
        self._pre = _steps(self.handlers, "pre")
        self._handle = _steps(self.handlers, "handle")
        self._post = _steps(self.handlers, "post")

    async def run(self, tx: T) -> None:
        fn: Step | None = None
        try:
            for fn in self._pre:
                result = fn(tx)
                if result is not None:
                    await result
            for fn in self._handle:
                if tx.done:
                    break
                result = fn(tx)
                if result is not None:
                    await result
        except CannotRespond as drop:
            _dropped(tx, drop, fn)
        try:
            for fn in self._post:
                result = fn(tx)
                if result is not None:
                    await result
        except CannotRespond as drop:
            _dropped(tx, drop, fn)


def _dropped(tx: TransactionLike, drop: CannotRespond, step: Step | None) -> None:
    tx.drop_reason = drop.reason
    tx.drop_detail = drop.detail
    tx.dropped_by = step  # the bound hook: named only when someone looks (the looking glass)


def step_name(step: object) -> str:
    """``Class.hook`` of a pipeline step (a bound hook, as ``tx.dropped_by`` holds it); "" for None."""
    if step is None:
        return ""
    owner = getattr(step, "__self__", None)
    hook = getattr(step, "__name__", "?")
    return f"{type(owner).__name__}.{hook}" if owner is not None else str(hook)
