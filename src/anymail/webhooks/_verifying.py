"""What the signature verifiers (``signing``, ``_public_key_signing``, ``_sns_signing``)
share: reading untrusted header values, decoding them, failing as one validation
failure, and reading the configured keys (refused, never quoted, when unusable).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from ..conf import invalid_setting
from ..exceptions import AnymailImproperlyInstalled, AnymailWebhookValidationFailure

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

#: Returns the current time as an aware UTC datetime (injectable for tests).
Clock = Callable[[], datetime]

#: Longest signature header (or field) worth looking at: real ones are < 1 KB.
MAX_SIGNATURE_LENGTH: Final = 8192

_EPOCH_RE: Final = re.compile(r"[0-9]{1,12}")


def utc_now() -> datetime:
    return datetime.now(UTC)


def _fail(esp_name: str, problem: str) -> AnymailWebhookValidationFailure:
    return AnymailWebhookValidationFailure(f"{esp_name} webhook: {problem}", esp_name=esp_name)


def _text(value: object) -> str | None:
    """``value`` if it is a bounded ASCII string (what a signature or header must be)."""
    if isinstance(value, str) and len(value) <= MAX_SIGNATURE_LENGTH and value.isascii():
        return value
    return None


def _raw_header(headers: Mapping[str, Any], name: str) -> object:
    """A header's value, looked up case-insensitively (None when absent)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == lowered:
                return candidate
    return value


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    """A header's value; None when absent or not ASCII text."""
    return _text(_raw_header(headers, name))


def _b64decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _epoch(value: object, esp_name: str) -> datetime:
    """A signed Unix timestamp (decimal digits) as an aware UTC datetime."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _EPOCH_RE.fullmatch(value):
        raise _fail(esp_name, "the signed timestamp is missing or is not a Unix time.")
    return datetime.fromtimestamp(int(value), UTC)


def _secret_text(value: object, setting: str, esp_name: str) -> str:
    """A configured key or secret, refused (without quoting it) when empty or not text."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            value = ""
    if not isinstance(value, str) or not value.strip():
        raise invalid_setting(
            setting, None, f"it is empty. Set it to the webhook key from your {esp_name} account."
        )
    return value


def _redact_userinfo(url: str) -> str:
    """The URL with any password replaced, so it can go in an error message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc))


def _crypto_required(install_extra: str) -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise AnymailImproperlyInstalled("cryptography", install_extra=install_extra) from None


def _load_public_key(value: object, setting: str, esp_name: str) -> PublicKeyTypes:
    """A public key given as PEM, or as bare base64 DER (SubjectPublicKeyInfo)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import (
        load_der_public_key,
        load_pem_public_key,
    )

    text = _secret_text(value, setting, esp_name).strip()
    try:
        if text.startswith("-----BEGIN"):
            return load_pem_public_key(text.encode("ascii"))
        der = _b64decode("".join(text.split()))
        if der is None:
            raise ValueError
        return load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
        pass
    raise invalid_setting(
        setting, None, f"it is not a public key. Copy it again from your {esp_name} account."
    )


class _Verifier:
    """What every keyed verifier has: the ESP and the setting that holds the key, named
    in its error messages (class defaults, which an ESP reusing a scheme overrides)."""

    esp_name: str
    key_setting: str

    def __init__(self, *, esp_name: str | None = None, key_setting: str | None = None) -> None:
        self.esp_name = esp_name or self.esp_name
        self.key_setting = key_setting or self.key_setting

    def _secret_list(self, secrets: object) -> list[Any]:
        """A secret, or a list of them (rotation), as a list; an empty list is refused
        like an empty secret."""
        items = list(secrets) if isinstance(secrets, list | tuple) else [secrets]
        if not items:
            _secret_text("", self.key_setting, self.esp_name)
        return items
