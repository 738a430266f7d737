"""The only code that touches sockets: UDP for DHCPv4/v6, raw link-layer frames, host interfaces."""
