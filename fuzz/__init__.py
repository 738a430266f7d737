"""Coverage-guided fuzzing of dhcpbridge with atheris (``make fuzz``; a short budget runs in the tests).

``targets`` holds one check per target (the v4 decoder, the v6 decoder, the v6 relay unwrap, the
DHCPv4 and DHCPv6 engines over a memory store), ``seeds`` the seed corpus read from the captured
vectors in ``tests/wire``, ``run`` the command that fuzzes them (each target in its own process,
against a pure-Python copy of the package so that atheris can instrument it) and replays corpora
through the compiled build.
"""
