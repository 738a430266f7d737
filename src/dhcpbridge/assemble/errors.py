"""The one error assembly raises: the config is valid, but something it names cannot be used."""

from __future__ import annotations


class AssemblyError(Exception):
    """The config is valid but something it names cannot be used (a file, a handler module)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
