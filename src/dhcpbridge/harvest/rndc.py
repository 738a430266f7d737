"""``rndc -s SERVER -p PORT -k KEYFILE reload ZONE``, with its output when it fails."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path


class RndcError(Exception):
    """rndc failed; the message carries its exit status and output."""


@dataclass(frozen=True)
class Rndc:
    zone: str
    server: str = "127.0.0.1"
    port: int = 953
    key_file: Path | None = None
    program: str = "rndc"
    timeout: float = 30.0

    def argv(self) -> list[str]:
        argv = [self.program, "-s", self.server, "-p", str(self.port)]
        if self.key_file is not None:
            argv += ["-k", str(self.key_file)]
        return [*argv, "reload", self.zone]

    async def reload(self) -> str:
        """Run rndc; its output, or ``RndcError``."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as exc:
            raise RndcError(f"cannot run {self.program}: {exc}") from exc
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RndcError(f"{' '.join(self.argv())}: no answer within {self.timeout} s") from None
        text = out.decode(errors="replace").strip()
        if proc.returncode != 0:
            raise RndcError(f"{' '.join(self.argv())}: exit {proc.returncode}: {text}")
        return text
