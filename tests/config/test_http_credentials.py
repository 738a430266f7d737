"""Credentials per URL for the HTTP bridge: ``user:pass@`` in a URL is refused at load (it would be
logged and is never sent), and the bridge's token goes to the on-commit URL only on the same
origin; ``on-commit-token-file`` gives on-commit its own token."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.config import ConfigError, loader
from dhcpbridge.config.model import HttpSourceConfig
from dhcpbridge.sources.http import HttpSource


def doc(**source: Any) -> dict[str, Any]:
    return {
        "subnet4": [{"subnet": "10.67.0.0/24", "pools": ["10.67.0.100-10.67.0.199"]}],
        "source": [{"type": "http", **source}],
    }


@pytest.mark.parametrize("key", ["url", "on-commit"])
def test_userinfo_in_a_url_is_refused(key: str) -> None:
    fields = {"url": "http://127.0.0.1:8067/v1/question", key: "http://bridge:hunter2@127.0.0.1:8067/v1/x"}
    with pytest.raises(ConfigError, match="must not carry user:password@") as caught:
        loader.from_dict(doc(**fields))
    assert "hunter2" not in str(caught.value.errors)


def source(tmp_path: Path, **fields: Any) -> HttpSource:
    (tmp_path / "token").write_text("bridge-token\n")
    (tmp_path / "commit-token").write_text("commit-token\n")
    cfg = HttpSourceConfig(type="http", url="http://127.0.0.1:8067/v1/question", token_file="token", **fields)
    return HttpSource(cfg, [ipaddress.IPv4Network("10.67.0.0/24")], base_dir=tmp_path)


def test_the_bridge_token_is_not_sent_to_another_host(tmp_path: Path) -> None:
    other = source(tmp_path, on_commit="http://192.0.2.80/hook")._notify_headers()
    assert "Authorization" not in other
    same = source(tmp_path, on_commit="http://127.0.0.1:8067/v1/commit")._notify_headers()
    assert same["Authorization"] == "Bearer bridge-token"
    own = source(tmp_path, on_commit="http://192.0.2.80/hook", on_commit_token_file="commit-token")
    assert own._notify_headers()["Authorization"] == "Bearer commit-token"
