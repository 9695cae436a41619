"""Credentials from request headers, and the ways an emulator declares where its key is.

An emulator names one of :class:`Header`, :class:`Bearer` or :class:`Basic` as its
``key_in``; :meth:`Emulator.authenticate` reads the credential with it and compares
it with what the key should look like there.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Header:
    """The key is the whole value of the header ``header``."""

    header: str

    def read(self, request: ApiRequest) -> object:
        return request.header(self.header)

    def expected(self, key: str) -> object:
        return key


@dataclass(frozen=True)
class Bearer:
    """``Authorization: Bearer <key>`` (None when there is no bearer token)."""

    header: str = "Authorization"

    def read(self, request: ApiRequest) -> object:
        return bearer_token(request)

    def expected(self, key: str) -> object:
        return key


@dataclass(frozen=True)
class Basic:
    """Basic auth with the user ``user`` and the key as the password."""

    user: str
    header: str = "Authorization"

    def read(self, request: ApiRequest) -> object:
        return basic_credentials(request)

    def expected(self, key: str) -> object:
        return (self.user, key)


KeyIn = Header | Bearer | Basic
