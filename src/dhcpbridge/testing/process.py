"""Processes the test toolkit starts, watched and stopped by PID.

One job: a :class:`BackgroundProcess` (what :meth:`~dhcpbridge.testing.netns.Namespace.popen`
returns: output to a log file, SIGTERM then SIGKILL), the ``/proc`` reads behind it (alive, CPU
seconds), and :class:`ProcessOwner`, the base of everything that runs one such process (clients,
relays, servers): stop it on exit, show its log. For what runs its own ``subprocess.Popen``s
(the Redis helpers): :func:`end_all` and :class:`StartStop`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Self


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    # the state is the first field after the parenthesised command name
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


class BackgroundProcess:
    """A process started in a namespace with :meth:`Namespace.popen`; stopped by PID.

    stdout and stderr go to ``log_path`` (no pipes that could fill up and block the program).
    """

    def __init__(
        self, args: Sequence[str], popen: subprocess.Popen[bytes], log_path: Path, name: str
    ) -> None:
        self.args = list(args)
        self.popen = popen
        self.log_path = log_path
        self.name = name

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        log_path: Path,
        name: str,
        *,
        args: Sequence[str] | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Self:
        """Start ``argv`` in its own session (Ctrl-C in a terminal reaches only us; we stop it),
        stdin from /dev/null, stdout and stderr appended to ``log_path``. ``args``: the command as
        shown (``argv`` without a namespace's exec prefix)."""
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        return cls(argv if args is None else args, popen, log_path, name)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` s for the process to exit; its return code, or None if still running."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def signal(self, sig: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL; return the exit status (None if unknown)."""
        if self.alive():
            self.signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.signal(signal.SIGKILL)
                self.wait(5.0)
        return self.popen.poll()

    def log(self) -> str:
        """Everything the process wrote so far (stdout and stderr interleaved)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def cpu_seconds(self) -> float | None:
        """utime + stime of the process (all its threads) from /proc/PID/stat, None once it is gone."""
        return process_cpu_seconds(self.pid)

    def __enter__(self) -> BackgroundProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<BackgroundProcess {self.name} pid={self.pid} alive={self.alive()}>"


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of ``pid`` in seconds (fields 14 and 15 of /proc/PID/stat); None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def end_all(
    procs: Sequence[subprocess.Popen[bytes]], sig: int = signal.SIGTERM, timeout: float = 10.0
) -> None:
    """Send ``sig`` to each of ``procs`` still running, wait up to ``timeout`` s for each, then
    SIGKILL (and reap) the ones that did not exit."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(sig)
    for proc in procs:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class StartStop:
    """A context manager that calls ``start`` on enter (its result is what ``with`` binds) and
    ``stop`` on exit."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> object:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ProcessOwner:
    """Runs at most one :class:`BackgroundProcess` (``proc``); a context manager that closes it."""

    proc: BackgroundProcess | None = None

    def stop(self, timeout: float = 5.0) -> int | None:
        """Stop the process (SIGTERM, then SIGKILL); its exit status, None if unknown or none."""
        return None if self.proc is None else self.proc.stop(timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive()

    def log(self) -> str:
        return self.proc.log() if self.proc is not None else ""

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
