"""Bearer tokens for the management API: the token file, its roles, and the check per request.

The file has one token per line, ``TOKEN ROLE NAME`` (role ``read`` or ``admin``; the name is for
logs), ``#`` starts a comment. It must not be readable by others (mode ``o-r``), since it holds
secrets. ``admin`` may do everything ``read`` may.
"""

from __future__ import annotations

import hmac
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Role = Literal["read", "admin"]
ROLES: tuple[Role, ...] = ("read", "admin")


class TokenFileError(ValueError):
    """The token file is missing, malformed or readable by everybody."""


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role

    def may(self, role: Role) -> bool:
        return self.role == "admin" or role == "read"


ANONYMOUS_ADMIN = Caller("loopback (no tokens-file)", "admin")


class Tokens:
    """The tokens of one file; ``who(token)`` is the caller or None."""

    def __init__(self, entries: dict[str, Caller]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: Path) -> Tokens:
        try:
            mode = os.stat(path).st_mode
            text = path.read_text()
        except OSError as exc:
            raise TokenFileError(f"{path}: {exc.strerror or exc}") from None
        if mode & stat.S_IROTH:
            raise TokenFileError(f"{path}: readable by everyone; chmod o-r (it holds secrets)")
        entries: dict[str, Caller] = {}
        for number, line in enumerate(text.splitlines(), 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) < 2 or words[1] not in ROLES:
                raise TokenFileError(f"{path}:{number}: expected 'TOKEN read|admin [NAME]'")
            role: Role = "admin" if words[1] == "admin" else "read"
            entries[words[0]] = Caller(" ".join(words[2:]) or f"line {number}", role)
        if not entries:
            raise TokenFileError(f"{path}: no tokens")
        return cls(entries)

    def who(self, token: str) -> Caller | None:
        found = None
        for known, caller in self._entries.items():  # compare every entry: no timing hint
            if hmac.compare_digest(known.encode(), token.encode()):
                found = caller
        return found
