"""DHCPv6 (RFC 8415, with prefix delegation) as a pipeline of handlers over ``Transaction6``."""
