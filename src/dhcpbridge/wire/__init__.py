"""Sans-IO codecs for DHCPv4 and DHCPv6: bytes <-> typed messages and options (stdlib only)."""

from dhcpbridge.wire.errors import FormError

__all__ = ["FormError"]
