"""Lease stores several dhcpbridge servers share (PostgreSQL, Redis): one pool, many servers."""
