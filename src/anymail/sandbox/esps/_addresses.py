"""Addresses as ESPs write them: strings, comma-joined lists, ``{email, name}`` objects."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import formataddr, getaddresses
from typing import Any


def addr_spec(address: str) -> str:
    return getaddresses([address])[0][1] or address


def parse_list(value: Any) -> list[str]:
    """Addresses from a comma-joined string or a list of strings."""
    if not value:
        return []
    values = value if isinstance(value, list) else [value]
    return [formataddr(pair) for pair in getaddresses([str(item) for item in values])]


def named(obj: Any, email_key: str = "email", name_key: str = "name") -> str:
    """A formatted address from an ``{"email": ..., "name": ...}`` object."""
    if not isinstance(obj, Mapping):
        return str(obj)
    return formataddr((str(obj.get(name_key) or ""), str(obj.get(email_key) or "")))


def valid_address(address: str) -> bool:
    spec = addr_spec(address)
    local, at, domain = spec.rpartition("@")
    return bool(at and local and "." in domain and " " not in spec)
