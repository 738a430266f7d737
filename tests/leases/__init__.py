"""Lease store tests (the contract suite over every backend, the embedded stores, the registry)."""
