"""The hook backend: run an executable per question, CGI style, and check what it prints.

The hook gets the question as JSON on stdin (exactly the bytes the DHCP server sent) and the main
fields as environment variables (``DHCP_MSG_TYPE``, ``DHCP_CLIENT_MAC``, ``DHCP_CIRCUIT_ID`` and
``DHCP_CIRCUIT_ID_TEXT``, ...; lists comma-separated), and prints one JSON answer on stdout. Exit 0
with nothing printed means ``{"action": "none"}``.

A hook that runs past its timeout is killed (its whole process group); a non-zero exit, output that
is not JSON or an answer that breaks the schema is logged with the reason and replaced by the
fallback answer (``none`` unless configured). At most ``concurrency`` hooks run at once; further
questions wait for a slot (and that wait counts towards the timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from dataclasses import KW_ONLY, InitVar, dataclass, field
from pathlib import Path
from typing import Any

from dhcpbridge.answer.entries import answer_problems
from dhcpbridge.contract.models import Question4, Question6

NONE_ANSWER: dict[str, Any] = {"action": "none"}
OUTPUT_LIMIT = 1 << 20
STDERR_LIMIT = 16 << 10
ENV_PREFIX = "DHCP_"


@dataclass(frozen=True, slots=True)
class HookResult:
    """What a hook run gave: the answer to use, and ``error`` when that is the fallback."""

    answer: dict[str, Any]
    error: str | None
    elapsed_ms: float


def question_environment(question: Question4 | Question6) -> dict[str, str]:
    """``DHCP_*`` variables for a question's scalar fields, lists and relay identifiers."""
    env: dict[str, str] = {"DHCPBRIDGE_CONTRACT_VERSION": "1"}
    for name, value in question.to_json().items():
        var = ENV_PREFIX + name.upper()
        if isinstance(value, (str, int)):
            env[var] = str(value)
        elif isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
            env[var] = ",".join(str(v) for v in value)
        elif isinstance(value, dict) and "hex" in value:
            env[var] = value["hex"]
            if "text" in value:
                env[var + "_TEXT"] = value["text"]
            if "enterprise" in value:
                env[var + "_ENTERPRISE"] = str(value["enterprise"])
    return env


async def _read_limited(stream: asyncio.StreamReader | None, limit: int) -> tuple[bytes, bool]:
    """Read to EOF but keep at most ``limit`` bytes; (data, truncated)."""
    if stream is None:
        return b"", False
    chunks: list[bytes] = []
    size = 0
    truncated = False
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            break
        if size < limit:
            chunks.append(chunk[: limit - size])
        size += len(chunk)
        truncated = truncated or size > limit
    return b"".join(chunks), truncated


@dataclass(eq=False)
class HookRunner:
    """Runs the hook executable with a timeout and a bound on concurrent runs (``concurrency``);
    ``fallback``: the answer when it fails (none: ``NONE_ANSWER``)."""

    executable: Path
    timeout: float
    log: Any
    _: KW_ONLY
    concurrency: InitVar[int] = 8
    fallback: dict[str, Any] = field(default_factory=lambda: NONE_ANSWER)
    check_answers: bool = True
    runs: int = field(default=0, init=False)
    failures: int = field(default=0, init=False)
    _slots: asyncio.Semaphore = field(init=False, repr=False)

    def __post_init__(self, concurrency: int) -> None:
        self._slots = asyncio.Semaphore(concurrency)

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
        env.update(extra)
        return env

    async def run(self, body: bytes, env: dict[str, str]) -> tuple[int, bytes, bytes, float]:
        """Run once: (exit status, stdout, stderr tail, ms). ``TimeoutError`` after killing it."""
        started = time.perf_counter()
        deadline = started + self.timeout
        async with asyncio.timeout_at(asyncio.get_running_loop().time() + self.timeout):
            await self._slots.acquire()
        try:
            remaining = max(0.0, deadline - time.perf_counter())
            process = await asyncio.create_subprocess_exec(
                str(self.executable),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._environment(env),
                start_new_session=True,  # its own process group, so a timeout kills its children too
            )
            try:
                async with asyncio.timeout(remaining):
                    out, err, status = await self._talk(process, body)
            except TimeoutError:
                self._kill(process)
                with contextlib.suppress(ProcessLookupError):
                    await process.wait()
                raise
            return status, out, err, (time.perf_counter() - started) * 1000
        finally:
            self._slots.release()

    async def _talk(self, process: asyncio.subprocess.Process, body: bytes) -> tuple[bytes, bytes, int]:
        assert process.stdin is not None
        try:
            process.stdin.write(body)
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the hook did not read its stdin: allowed
        finally:
            process.stdin.close()
        (out, out_truncated), (err, _) = await asyncio.gather(
            _read_limited(process.stdout, OUTPUT_LIMIT), _read_limited(process.stderr, STDERR_LIMIT)
        )
        status = await process.wait()
        if out_truncated:
            raise ValueError(f"printed more than {OUTPUT_LIMIT} bytes")
        return out, err, status

    @staticmethod
    def _kill(process: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            process.kill()

    def _fail(self, reason: str, started: float, **details: Any) -> HookResult:
        self.failures += 1
        elapsed = (time.perf_counter() - started) * 1000
        self.log.error(
            "hook failed",
            hook=str(self.executable),
            reason=reason,
            fallback=self.fallback["action"],
            **details,
        )
        return HookResult(dict(self.fallback), reason, elapsed)

    async def ask(self, body: bytes, question: Question4 | Question6) -> HookResult:
        """The hook's checked answer to one question, or the fallback with the reason logged."""
        self.runs += 1
        started = time.perf_counter()
        try:
            status, out, err, elapsed = await self.run(body, question_environment(question))
        except TimeoutError:
            return self._fail(f"timed out after {self.timeout:g} s (killed)", started)
        except ValueError as exc:
            return self._fail(str(exc), started)
        except OSError as exc:
            return self._fail(f"cannot run: {exc}", started)
        stderr = err.decode("utf-8", "backslashreplace").strip()[-2000:]
        if status != 0:
            how = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
            return self._fail(how, started, stderr=stderr)
        if stderr:
            self.log.info("hook stderr", hook=str(self.executable), stderr=stderr)
        if not out.strip():
            return HookResult(dict(NONE_ANSWER), None, elapsed)
        try:
            answer = json.loads(out)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            sample = out[:200].decode("utf-8", "backslashreplace")
            return self._fail(f"output is not JSON ({exc})", started, output=sample)
        problems = answer_problems(answer) if self.check_answers else []
        if problems:
            return self._fail("answer breaks the contract", started, problems=problems)
        return HookResult(answer, None, elapsed)

    async def notify(self, body: bytes, env: dict[str, str]) -> None:
        """Hand a notification to the hook; its output is ignored, failures are logged."""
        try:
            status, _, err, _ = await self.run(body, env)
        except TimeoutError:
            self.log.error("notify hook timed out (killed)", hook=str(self.executable), timeout=self.timeout)
            return
        except (OSError, ValueError) as exc:
            self.log.error("notify hook failed", hook=str(self.executable), error=str(exc))
            return
        if status != 0:
            self.log.error(
                "notify hook failed",
                hook=str(self.executable),
                status=status,
                stderr=err.decode("utf-8", "backslashreplace").strip()[-2000:],
            )
