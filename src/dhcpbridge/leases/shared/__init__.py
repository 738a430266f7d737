"""Lease stores several dhcpbridge servers write at once (Redis, PostgreSQL): one pool, many servers."""
