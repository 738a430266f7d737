"""The reference answer service (``dhcpbridge answer``): the other end of the HTTP/JSON bridge.

It answers the DHCP server's questions from a directory of static files, a CSV or SQLite table
and/or an executable hook, following the contract in ``dhcpbridge.contract``. Pieces:
``keys`` (what a question can match), ``entries`` (stored partial answers and how they stack),
``files`` / ``tables`` / ``hook`` (backends), ``service`` (the decisions), ``app`` (aiohttp),
``cli`` (the click command ``answer_command``), ``loadgen`` (a bounded loopback load generator).
"""
