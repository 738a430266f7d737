"""``[api]`` settings: off by default, loopback without tokens, a non-loopback listener without
a tokens-file refused as a config error, TLS files in pairs; the token file's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from dhcpbridge.api.auth import TokenFileError, Tokens
from dhcpbridge.config import ConfigError, load

from .conftest import write_config


def test_off_by_default(tmp_path: Path) -> None:
    assert load(write_config(tmp_path)).api.listen is None


def test_loopback_without_tokens_is_allowed(tmp_path: Path) -> None:
    for listen in ("127.0.0.1:8267", "[::1]:8267", "localhost:8267"):
        config = load(write_config(tmp_path, f'[api]\nlisten = "{listen}"\n'))
        assert config.api.listen == listen


@pytest.mark.parametrize("listen", ["0.0.0.0:8267", "192.0.2.1:8267", "[::]:8267", "api.example:80"])
def test_non_loopback_without_tokens_is_a_config_error(tmp_path: Path, listen: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(write_config(tmp_path, f'[api]\nlisten = "{listen}"\n'))
    assert any("tokens-file is required" in e for e in info.value.errors)


def test_non_loopback_with_tokens_is_allowed(tmp_path: Path) -> None:
    config = load(write_config(tmp_path, '[api]\nlisten = "0.0.0.0:8267"\ntokens-file = "tokens"\n'))
    assert config.api.tokens_file == "tokens"


@pytest.mark.parametrize(
    "body",
    ['listen = "8267"', 'listen = "127.0.0.1:99999"', 'tls-cert = "c.pem"', "bogus = 1"],
)
def test_bad_api_settings(tmp_path: Path, body: str) -> None:
    with pytest.raises(ConfigError):
        load(write_config(tmp_path, f"[api]\n{body}\n"))


def test_token_file_must_not_be_world_readable(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("abc admin ops\n")
    path.chmod(0o644)
    with pytest.raises(TokenFileError, match="readable by everyone"):
        Tokens.load(path)
    path.chmod(0o640)
    caller = Tokens.load(path).who("abc")
    assert caller is not None and caller.role == "admin" and caller.name == "ops"


@pytest.mark.parametrize("text", ["abc superuser x\n", "abc\n", "# only a comment\n"])
def test_malformed_token_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "tokens"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(TokenFileError):
        Tokens.load(path)
