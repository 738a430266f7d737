"""``dhcpbridge harvest``: publish the names of current leases as a BIND ``$INCLUDE`` fragment.

For networks where the DHCP server is not ours (or where a zone fragment is preferred to RFC 2136
updates): leases come from any lease store URL or from another server's lease file (the readers
of ``leases.files``), are filtered by host name, optionally checked with ICMP echo, written as
``name IN A|AAAA address`` lines atomically when they changed, and the zone is reloaded with
``rndc``. Modules: ``entries`` (which leases become which records), ``zone`` (the fragment
file), ``verify`` (ICMP), ``rndc``, ``harvester`` (one harvest, and calls coalesced in a quiet
period), ``http`` (``POST /harvest``), ``cli``.
"""
