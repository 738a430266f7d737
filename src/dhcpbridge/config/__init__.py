"""Configuration: the pydantic model of the TOML file and a loader that reports every error with its path."""

from dhcpbridge.config.loader import ConfigError, load
from dhcpbridge.config.model import Config

__all__ = ["Config", "ConfigError", "load"]
