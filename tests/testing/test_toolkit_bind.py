"""The BIND test server: ports picked outside the ephemeral range (an outgoing connection's local
end cannot take them before named binds them), and a named that could not listen on TCP is a
clear start failure, not a server that answers queries and refuses every update."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dhcpbridge.testing.bind import BindError, BindServer, free_port
from dhcpbridge.testing.e2e import require_e2e


def test_free_port_is_below_the_ephemeral_range_and_free_for_both() -> None:
    top = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(20):
        port = free_port()
        assert 1024 <= port < top
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
        ):
            udp.bind(("127.0.0.1", port))
            tcp.bind(("127.0.0.1", port))


@pytest.mark.e2e
def test_named_without_its_tcp_port_fails_to_start(tmp_path: Path) -> None:
    require_e2e("named")
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen(1)
        server = BindServer(tmp_path / "bind", ["example.test"], port=port)
        try:
            with pytest.raises(BindError, match="could not listen on TCP"):
                server.start(timeout=10.0)
            assert server.proc is None  # stopped, not left running
        finally:
            server.stop()  # if it started after all: no named left behind
    with BindServer(tmp_path / "bind", ["example.test"], port=port) as again:  # the port is free now
        assert again.query("example.test", "SOA")
