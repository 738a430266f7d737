"""dhcpbridge: a DHCPv4 + DHCPv6 server in which every answer comes from one source of truth."""

__version__ = "0.1.0"
