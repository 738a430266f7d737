"""The DHCPv6 wire format (RFC 8415): messages, relay messages and options."""
