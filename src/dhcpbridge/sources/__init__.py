"""Sources of truth behind ``dhcpbridge.engine.ports.Source``: one module per kind."""
