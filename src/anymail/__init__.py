"""Anymail: Django email integration for transactional ESPs."""

__version__ = "16.0.0.dev0"
