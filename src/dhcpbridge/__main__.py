"""`python -m dhcpbridge` runs the command line interface."""

from dhcpbridge.cli import main

main()
