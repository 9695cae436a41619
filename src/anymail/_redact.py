"""Hiding secrets in text Anymail shows (error messages, DEBUG_API_REQUESTS dumps),
and reading an ESP's JSON safely.

Some ESPs echo credentials back in error responses (the API key they refused),
under a field name or in free text. Values under secret-looking names are
replaced, and so is every known credential value wherever it appears. ESP
responses are untrusted: JSON nested deeper than any ESP sends is refused
before parsing (Python's parser would recurse until RecursionError).
(No imports from the rest of Anymail: exceptions.py uses this.)
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from itertools import accumulate
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit, urlunsplit

REDACTED: Final = "[REDACTED]"

#: A header or JSON field whose name contains one of these holds a secret.
SECRET_NAME_WORDS: Final = ("auth", "key", "token", "secret", "password", "signature")
_SECRET_NAME_RE: Final = re.compile("|".join(SECRET_NAME_WORDS), re.IGNORECASE)

#: Credential values shorter than this are not replaced by value: they could be
#: ordinary words (Mailgun's Basic-auth user name is "api"). Fields named like
#: secrets are still redacted, whatever their length.
MIN_SECRET_LENGTH: Final = 8

#: JSON deeper than this is refused. ESP responses are a few levels deep; the
#: limit keeps parsing, redacting and re-serializing far from the recursion limit.
MAX_JSON_DEPTH: Final = 64

#: Longer text is redacted without being parsed as JSON (only by pattern and value).
MAX_PARSED_TEXT: Final = 1_000_000

_JSON_STRING_RE: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET_RE: Final = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP: Final = {"[": 1, "{": 1, "]": -1, "}": -1}
# A JSON member with a string value, for text that can't be parsed (truncated, too deep).
_JSON_MEMBER_RE: Final = re.compile(
    r'("(?P<name>[^"\\]*(?:\\.[^"\\]*)*)"\s*:\s*)"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL
)


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME_RE.search(name) is not None


# --- reading JSON -------------------------------------------------------------------------


def loads_json(data: str | bytes) -> Any:
    """``json.loads`` for untrusted text: ValueError (never RecursionError) if unusable.

    Bytes are decoded as JSON's UTF-8 (or UTF-16/32, by BOM); bad bytes are a
    ValueError (UnicodeDecodeError) too.
    """
    text = data.decode(json.detect_encoding(data)) if isinstance(data, bytes) else data
    if json_depth(text) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    return json.loads(text)


def json_depth(text: str) -> int:
    """How deeply the arrays and objects in JSON ``text`` nest (brackets in strings ignored)."""
    brackets = _NOT_BRACKET_RE.sub("", _JSON_STRING_RE.sub("", text))
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


# --- redacting ----------------------------------------------------------------------------


def redact_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of parsed JSON: strings under secret-looking names, and known secrets, replaced."""
    secrets = tuple(secrets)
    if isinstance(value, dict):
        return {
            redact_values(str(key), secrets): REDACTED
            if is_secret_name(str(key)) and isinstance(item, str)
            else redact_json(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_json(item, secrets) for item in value]
    if isinstance(value, str):
        return redact_values(value, secrets)
    return value


def clean_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of parsed JSON safe to keep and show: known secrets replaced in every
    string (by value only: field names are left alone, the data is still used), and
    lone surrogates (which no stream can encode) escaped."""
    secrets = tuple(secrets)
    if isinstance(value, dict):
        return {clean_json(key, secrets): clean_json(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item, secrets) for item in value]
    if isinstance(value, str):
        return printable(redact_values(value, secrets))
    return value


def redact_values(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret replaced wherever it appears (longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_text(text: str, secrets: Iterable[str] = (), indent: int | None = None) -> str:
    """``text`` with secrets hidden: JSON is re-serialized with secret fields redacted;
    other text has secret-named JSON members (if any) and known secret values replaced.
    """
    secrets = tuple(secrets)
    if len(text) <= MAX_PARSED_TEXT:
        try:
            data = loads_json(text)
        except ValueError:
            pass
        else:
            return json.dumps(redact_json(data, secrets), indent=indent, ensure_ascii=False)
    return redact_values(_JSON_MEMBER_RE.sub(_redact_member, text), secrets)


def _redact_member(match: re.Match[str]) -> str:
    if is_secret_name(match.group("name")):
        return f'{match.group(1)}"{REDACTED}"'
    return match.group(0)


def printable(text: str) -> str:
    """``text`` that any stream can encode: lone surrogates become ``\\udxxx`` escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "… (truncated)"


def url_without_userinfo(url: str) -> str:
    """``url`` without a ``user:password@`` part (to quote it in a message)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


# --- finding credentials ------------------------------------------------------------------


def credential_values(*sources: Any) -> frozenset[str]:
    """The credentials held by ``sources``, to redact them by value.

    A source is a mapping, or an object (a backend, a payload, a request) whose
    attributes are looked at: strings (or tuples of strings, e.g. ``auth``)
    under secret-looking names, the same inside mappings (headers, query
    parameters, request data, boto3 params), and the password of URLs.
    """
    found: set[str] = set()
    for source in sources:
        if source is None:
            continue
        if isinstance(source, Mapping):
            _add_from_mapping(found, source)
            continue
        try:
            attributes = vars(source)
        except TypeError:
            continue
        for name, value in list(attributes.items()):
            if name.startswith("_"):
                continue  # internals (e.g. a request's cookie jar)
            if isinstance(value, Mapping):
                _add_from_mapping(found, value)
            elif is_secret_name(name):
                _add_secret(found, value)
            elif isinstance(value, str) and "url" in name.lower():
                _add_from_url(found, value)
    return frozenset(secret for secret in found if len(secret) >= MIN_SECRET_LENGTH)


def _add_from_mapping(found: set[str], mapping: Mapping[Any, Any]) -> None:
    for name, value in list(mapping.items()):
        if isinstance(name, str) and is_secret_name(name):
            _add_secret(found, value)


def _add_secret(found: set[str], value: Any) -> None:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, tuple | list):
        for item in value:
            if isinstance(item, str | bytes):
                _add_secret(found, item)
        if len(value) == 2 and all(isinstance(item, str) for item in value):
            # A (user, password) pair, as its Basic auth header shows it.
            pair = ":".join(value).encode("latin-1", errors="replace")
            found.add(base64.b64encode(pair).decode("ascii"))
        return
    if not isinstance(value, str):
        return
    found.add(value)
    # "Bearer <token>", "Basic <base64 of user:password>", "<scheme> <token>"
    scheme, _, token = value.strip().partition(" ")
    if token:
        found.add(token.strip())
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return
            found.update((decoded, *decoded.split(":", 1)))


def _add_from_url(found: set[str], url: str) -> None:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return
    if password:
        found.add(password)
        userinfo = parts.netloc.rpartition("@")[0]
        found.add(userinfo)
    for name, value in parse_qsl(parts.query):
        if is_secret_name(name):
            found.add(value)
