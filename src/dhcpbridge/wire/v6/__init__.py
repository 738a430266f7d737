"""The DHCPv6 wire format (RFC 8415): messages, relay messages and options.

Importing the package loads :mod:`.message`, whose Relay Message option class then sits in the
option registry next to the classes of :mod:`.options` (so option 9 always decodes and displays).
"""

from dhcpbridge.wire.v6 import message as message
