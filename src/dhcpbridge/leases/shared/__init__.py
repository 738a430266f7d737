"""Shared lease stores: several dhcpbridge servers write one store at once (Redis, PostgreSQL)."""
