"""``[[handler]] search-path`` goes after site-packages: a handler directory (often writable by
more people than the server's code) cannot shadow the standard library or an installed library."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

from dhcpbridge.assemble import load_handlers
from dhcpbridge.config import loader

HANDLER = """
from dhcpbridge.engine.pipeline import Handler

class Mine(Handler):
    pass
"""


def test_search_path_is_appended_after_site_packages(tmp_path: Path) -> None:
    where = tmp_path / "handlers"
    where.mkdir()
    (where / "sp_mine.py").write_text(HANDLER)
    cfg = loader.from_dict({"handler": [{"path": "sp_mine:Mine", "search-path": "handlers"}]}).with_base_dir(
        tmp_path
    )
    try:
        assert [type(h).__name__ for h in load_handlers(cfg, 4)] == ["Mine"]
        position = sys.path.index(str(where.resolve()))
        site = sys.path.index(sysconfig.get_paths()["purelib"])
        stdlib = sys.path.index(sysconfig.get_paths()["stdlib"])
        assert position > site and position > stdlib
    finally:
        sys.path.remove(str(where.resolve()))
        sys.modules.pop("sp_mine", None)
