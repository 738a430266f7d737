"""The handler pipeline (engine/pipeline.py): phase order, CannotRespond, the done flag, sync and
async hooks, post hooks that always run, ``load_handler`` from a dotted path, and user handlers
inside the DHCPv4 engine."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.assemble.handlers import load_handler
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.pipeline import CannotRespond, Handler, Pipeline, step_name
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.wire.v4.message import ip4_str


class Tx:
    def __init__(self) -> None:
        self.done = False
        self.drop_reason: str | None = None
        self.drop_detail = ""
        self.dropped_by: object = None
        self.log: list[str] = []


class Rec(Handler[Tx]):
    """Records every hook call; optionally drops, finishes or awaits in one of them."""

    def __init__(self, name: str, drop_in: str = "", done_in: str = "") -> None:
        self.name = name
        self.drop_in = drop_in
        self.done_in = done_in

    def _hit(self, tx: Tx, hook: str) -> None:
        tx.log.append(f"{self.name}.{hook}")
        if hook == self.done_in:
            tx.done = True
        if hook == self.drop_in:
            raise CannotRespond(f"{self.name}-says-no", "detail here")

    def pre(self, tx: Tx) -> None:
        self._hit(tx, "pre")

    def handle(self, tx: Tx) -> None:
        self._hit(tx, "handle")

    def post(self, tx: Tx) -> None:
        self._hit(tx, "post")


class AsyncRec(Rec):
    async def pre(self, tx: Tx) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self._hit(tx, "pre")

    async def handle(self, tx: Tx) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self._hit(tx, "handle")

    async def post(self, tx: Tx) -> None:  # type: ignore[override]
        self._hit(tx, "post")


class OnlyPost(Handler[Tx]):
    def post(self, tx: Tx) -> None:
        tx.log.append("only.post")


async def run(handlers: list[Handler[Tx]]) -> Tx:
    tx = Tx()
    await Pipeline(handlers).run(tx)
    return tx


async def test_phases_run_in_order_over_all_handlers() -> None:
    tx = await run([Rec("a"), AsyncRec("b"), Rec("c")])
    assert tx.log == [
        "a.pre",
        "b.pre",
        "c.pre",
        "a.handle",
        "b.handle",
        "c.handle",
        "a.post",
        "b.post",
        "c.post",
    ]
    assert tx.drop_reason is None


def test_hooks_left_alone_are_not_called_and_sync_pipelines_never_suspend() -> None:
    p = Pipeline([OnlyPost(), Rec("a")])
    assert len(p._pre) == 1 and len(p._handle) == 1 and len(p._post) == 2  # OnlyPost has one step
    tx = Tx()
    run_inline(p.run(tx))  # raises if anything awaited for real
    assert tx.log == ["a.pre", "a.handle", "only.post", "a.post"]


def test_async_hook_that_suspends_cannot_run_inline() -> None:
    with pytest.raises(RuntimeError, match="suspended"):
        run_inline(Pipeline([AsyncRec("a")]).run(Tx()))


async def test_cannot_respond_in_pre_skips_handle_but_post_runs() -> None:
    tx = await run([Rec("a", drop_in="pre"), Rec("b")])
    assert tx.log == ["a.pre", "a.post", "b.post"]
    assert tx.drop_reason == "a-says-no" and tx.drop_detail == "detail here"


async def test_cannot_respond_in_handle() -> None:
    tx = await run([Rec("a"), AsyncRec("b", drop_in="handle"), Rec("c")])
    assert tx.log == ["a.pre", "b.pre", "c.pre", "a.handle", "b.handle", "a.post", "b.post", "c.post"]
    assert tx.drop_reason == "b-says-no"


async def test_the_hook_that_dropped_is_kept_for_the_looking_glass() -> None:
    tx = await run([Rec("a"), AsyncRec("b", drop_in="handle"), Rec("c")])
    assert step_name(tx.dropped_by) == "AsyncRec.handle"
    tx = await run([Rec("a", drop_in="pre"), Rec("b")])
    assert step_name(tx.dropped_by) == "Rec.pre"
    tx = await run([Rec("a"), Rec("b", drop_in="post")])
    assert step_name(tx.dropped_by) == "Rec.post"
    tx = await run([Rec("a")])
    assert tx.dropped_by is None and step_name(tx.dropped_by) == ""


async def test_done_ends_the_handle_phase_only() -> None:
    tx = await run([Rec("a", done_in="handle"), Rec("b")])
    assert tx.log == ["a.pre", "b.pre", "a.handle", "a.post", "b.post"]
    assert tx.drop_reason is None
    tx = await run([Rec("a", done_in="pre"), Rec("b")])  # done before handle: no handler runs
    assert "a.handle" not in tx.log and tx.log[-2:] == ["a.post", "b.post"]


async def test_cannot_respond_in_post_stops_later_posts_and_sets_the_drop() -> None:
    tx = await run([Rec("a", drop_in="post"), Rec("b")])
    assert tx.log == ["a.pre", "b.pre", "a.handle", "b.handle", "a.post"]
    assert tx.drop_reason == "a-says-no"


async def test_other_exceptions_propagate() -> None:
    class Boom(Handler[Tx]):
        def handle(self, tx: Tx) -> None:
            raise KeyError("boom")

    with pytest.raises(KeyError):
        await run([Boom()])


def test_cannot_respond_message() -> None:
    assert str(CannotRespond("why")) == "why"
    assert str(CannotRespond("why", "more")) == "why: more"


# --- load_handler -----------------------------------------------------------------------------------------
HANDLER_MODULE = """
from dhcpbridge.engine.pipeline import CannotRespond, Handler


class Tag(Handler):
    def __init__(self, label="tag", drop_mac=""):
        self.label = label
        self.drop_mac = bytes.fromhex(drop_mac.replace(":", ""))
        self.seen = []

    def pre(self, tx):
        if self.drop_mac and tx.client_mac == self.drop_mac:
            raise CannotRespond("blocked-by-user", self.label)

    async def post(self, tx):
        self.seen.append(tx.msg_type)
        if tx.reply is not None and tx.reply_type != 6:
            tx.reply.options[224] = self.label.encode()


class NotAHandler:
    pass
"""


@pytest.fixture
def handler_pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    pkg = tmp_path / "site_hooks_v4"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "tagging.py").write_text(textwrap.dedent(HANDLER_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "site_hooks_v4.tagging"
    for name in [m for m in sys.modules if m.startswith("site_hooks_v4")]:
        del sys.modules[name]


def test_load_handler_by_colon_and_dotted_path(handler_pkg: str) -> None:
    a = load_handler(f"{handler_pkg}:Tag", {"label": "one"})
    b = load_handler(f"{handler_pkg}.Tag")
    assert isinstance(a, Handler) and a.label == "one"  # type: ignore[attr-defined]
    assert type(a) is type(b) and b.label == "tag"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("site_hooks_v4.nope:Tag", "cannot import handler module"),
        ("{pkg}:Missing", "has no 'Missing'"),
        ("{pkg}:NotAHandler", "not a dhcpbridge.engine.pipeline.Handler subclass"),
        ("Tag", "must be 'package.module:ClassName'"),
    ],
)
def test_load_handler_errors(handler_pkg: str, path: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        load_handler(path.format(pkg=handler_pkg))


def test_load_handler_bad_options(handler_pkg: str) -> None:
    with pytest.raises(TypeError):
        load_handler(f"{handler_pkg}:Tag", {"colour": "red"})


def test_user_handler_in_the_engine(handler_pkg: str, v4: Callable[..., Any]) -> None:
    tag = load_handler(f"{handler_pkg}:Tag", {"label": "site-a", "drop_mac": "02:67:00:00:00:0b"})
    h = v4(extra=[tag])
    assert h.engine.extra_async  # an async post hook: the runtime must run packets as tasks
    offer = h.reply(run_async(h, h.msg(1, "02:67:00:00:00:0a")))
    assert offer.options[224] == b"site-a"
    assert list(offer.options)[-1] == 224  # user post hooks run after the built-in ones
    out = run_async(h, h.msg(1, "02:67:00:00:00:0b"))
    assert out.data is None and out.drop_reason == "blocked-by-user" and out.drop_detail == "site-a"
    assert h.stats.drops["blocked-by-user"] == 1
    assert tag.seen == ["DHCPDISCOVER", "DHCPDISCOVER"]  # type: ignore[attr-defined]


def run_async(h: Any, msg: Any) -> Any:
    from dhcpbridge.wire.v4.message import encode

    return asyncio.run(h.engine.process(encode(msg), h.direct(), h.now))


async def test_engine_process_awaited(v4: Callable[..., Any]) -> None:
    h = v4()
    from dhcpbridge.wire.v4.message import encode, parse

    out = await h.engine.process(encode(h.msg(1, "02:67:00:00:00:0a")), h.direct(), h.now)
    assert out.tx is not None and isinstance(out.tx, Transaction4)
    offer = parse(out.data)
    assert offer.msg_type == 2 and ip4_str(offer.yiaddr).startswith("10.67.0.")
    assert out.log_fields()["reply"] == "DHCPOFFER"


def test_engine_without_user_handlers_runs_inline(v4: Callable[..., Any]) -> None:
    h = v4()
    assert not h.engine.extra_async
    assert h.send(h.msg(1, "02:67:00:00:00:0a")).data is not None  # run_inline would raise otherwise


def test_user_handler_sees_the_drop_of_a_builtin(v4: Callable[..., Any]) -> None:
    seen: list[str | None] = []

    class Watch(Handler[Transaction4]):
        def post(self, tx: Transaction4) -> None:
            seen.append(tx.drop_reason)

    h = v4(extra=[Watch()])
    h.send(h.msg(1, "02:67:00:00:00:0a", client_id=b"\x01"))
    h.send(h.msg(1, "02:67:00:00:00:0a"))
    assert seen == ["bad-client-id", None]
