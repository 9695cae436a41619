"""Credentials from request headers."""

from __future__ import annotations

import base64
import binascii

from ._base import ApiRequest


def basic_credentials(request: ApiRequest) -> tuple[str, str] | None:
    """(user, password) of a ``Basic`` Authorization header, else None."""
    scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, colon, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if colon else None


def bearer_token(request: ApiRequest) -> str | None:
    scheme, _, token = (request.header("Authorization") or "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None
