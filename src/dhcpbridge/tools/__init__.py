"""Operator tools that are not the server: the v4/v6 probe and the demo."""
