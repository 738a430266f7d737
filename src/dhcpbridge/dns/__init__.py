"""Dynamic DNS updates (RFC 2136, TSIG-signed) that follow the leases: names, messages, a
persisted queue and the worker that sends it (see ``updater.DnsUpdater``)."""
