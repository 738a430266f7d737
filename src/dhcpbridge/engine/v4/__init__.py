"""DHCPv4 (RFC 2131) as a pipeline of handlers over ``Transaction4``."""
