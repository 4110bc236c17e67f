"""Frontline: no question left behind on Slack and Discord."""

__version__ = "0.1.0"
