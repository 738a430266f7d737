"""The DHCPv4 wire format (RFC 2131/2132): the message codec and the option table."""
