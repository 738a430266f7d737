"""`python -m dhcpbridge.contract export|check`: rebuild or verify the standalone JSON Schema files."""

from __future__ import annotations

import sys
from pathlib import Path

from dhcpbridge.contract.schema import ROOTS, schema_file_name, standalone_schema_text


def main(argv: list[str]) -> int:
    """Write (``export``) or compare (``check``) ``schemas/*.schema.json`` next to this module."""
    if len(argv) != 1 or argv[0] not in ("export", "check"):
        print("usage: python -m dhcpbridge.contract export|check", file=sys.stderr)
        return 2
    folder = Path(__file__).with_name("schemas")
    folder.mkdir(exist_ok=True)
    stale: list[Path] = []
    for name in ROOTS:
        path = folder / schema_file_name(name)
        text = standalone_schema_text(name)
        if argv[0] == "export":
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
    for path in stale:
        print(f"stale: {path} (run: python -m dhcpbridge.contract export)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
