"""Test and benchmark toolkit: network-namespace labs, real DHCP clients, Kea and perfdhcp runners."""
