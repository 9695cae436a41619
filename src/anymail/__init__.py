"""Anymail: Django email integration for transactional ESPs."""

__version__ = "14.0.0.dev0"
