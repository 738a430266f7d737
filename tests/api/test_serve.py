"""The API served by uvicorn inside a real server process's loop (the add-on): loopback only,
started and stopped with the server; TLS with a self-signed certificate the test makes; a port
in use is a clean start error."""

from __future__ import annotations

import datetime
import socket
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dhcpbridge.api.serve import addons
from dhcpbridge.config import load
from dhcpbridge.server import Server, StartError

from .conftest import ADMIN_TOKEN, READ_TOKEN, free_port, write_config, write_tokens


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def serving(path: Path) -> Server:
    config = load(path)
    server = Server(config, path, addons(config))
    await server.start()
    return server


async def test_served_on_loopback_with_tokens_then_stopped(tmp_path: Path) -> None:
    write_tokens(tmp_path)
    port = free_port(socket.SOCK_STREAM)
    server = await serving(
        write_config(tmp_path, f'[api]\nlisten = "127.0.0.1:{port}"\ntokens-file = "tokens"\n')
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            assert (await c.get("/v1/health")).status_code == 200
            assert (await c.get("/v1/stats")).status_code == 401
            ok = await c.get("/v1/stats", headers={"Authorization": f"Bearer {READ_TOKEN}"})
            assert ok.status_code == 200 and "v4" in ok.json()
    finally:
        await server.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as c:
            await c.get("/v1/health")


async def test_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    write_tokens(tmp_path)
    port = free_port(socket.SOCK_STREAM)
    extra = f'[api]\nlisten = "127.0.0.1:{port}"\ntokens-file = "tokens"\ntls-cert = "{cert.name}"\ntls-key = "{key.name}"\n'
    server = await serving(write_config(tmp_path, extra))
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{port}", verify=trust, timeout=5) as c:
            response = await c.get("/v1/leases", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            assert response.status_code == 200 and response.json()["items"] == []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            with pytest.raises(httpx.HTTPError):
                await c.get("/v1/health")  # plain HTTP on the TLS port gets no answer
    finally:
        await server.stop()


async def test_port_in_use_is_a_start_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = write_config(tmp_path, f'[api]\nlisten = "127.0.0.1:{port}"\n')
        with pytest.raises(StartError, match="api listen"):
            await serving(path)


async def test_world_readable_token_file_is_a_start_error(tmp_path: Path) -> None:
    write_tokens(tmp_path).chmod(0o644)
    port = free_port(socket.SOCK_STREAM)
    path = write_config(tmp_path, f'[api]\nlisten = "127.0.0.1:{port}"\ntokens-file = "tokens"\n')
    with pytest.raises(StartError, match="readable by everyone"):
        await serving(path)
