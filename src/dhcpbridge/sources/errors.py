"""The error a source raises when what the config names cannot be used (a file, a secret)."""

from __future__ import annotations


class SourceError(Exception):
    """A source that cannot be built; ``errors`` holds one line per problem, each with its place."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
