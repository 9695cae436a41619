"""Typed, bounded access to what an ESP posts: the only way ESP modules read a payload.

A webhook body is untrusted input. ESP parse functions read it through these
helpers, which raise one exception, :exc:`AnymailWebhookPayloadError` (the view
answers 400 and dispatches nothing), for every way the input can be wrong:
invalid UTF-8, not JSON, nested too deeply, a field missing, null or of the wrong
type, a text too long, an unparsable timestamp. Anything else that goes wrong in a
parse function is a bug in Anymail and must surface as a 500 (the ESP retries and
the traceback is logged), so ESP modules never wrap parsing in ``except KeyError``.

Messages name the field by its path (``body[2].mail.source``) and its type, never
its value: nothing the ESP sent is echoed.

::

    data = parse_json(request.body)                 # Any, or AnymailWebhookPayloadError
    for item in json_objects(data, "body"):         # a list of JSON objects
        kind = item.text("event")                   # required str
        subject = item.text("subject", None)        # str | None (absent or null)
        mail = item.object("mail")                  # nested JsonObject
        to = mail.texts("destination")              # list[str]
        when = item.epoch("timestamp")              # aware UTC datetime
        inner = item.json("Message")                # a string field that holds JSON
        content = item.base64_bytes("Content")      # base64 text, decoded
        raw = item.mime_bytes("raw", is_base64=False)  # a raw message as bytes
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar, overload

from ..exceptions import AnymailWebhookPayloadError

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_TEXT_LENGTH",
    "JsonObject",
    "check_header_name",
    "finite_number",
    "json_object",
    "json_objects",
    "parse_json",
]

#: Deepest nesting accepted in a JSON body: real ESP payloads stay under 10 levels.
MAX_JSON_DEPTH: Final = 64
#: Default longest text field (characters). Fields that carry content (a raw message,
#: an HTML body) pass ``max_length=None`` and rely on the view's body size limit.
MAX_TEXT_LENGTH: Final = 64 * 1024

_MISSING: Final[Any] = object()
_D = TypeVar("_D")
_T = TypeVar("_T")

#: Lone UTF-16 surrogates: json accepts "\ud800", but such a str cannot be encoded.
_SURROGATE_RE: Final = re.compile("[\ud800-\udfff]")
_ISO_DATETIME_RE: Final = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)?", re.ASCII
)
_EPOCH_TEXT_RE: Final = re.compile(r"\d{1,12}(\.\d{1,9})?", re.ASCII)
#: A header field name (RFC 5322 ftext): printable ASCII but the colon.
_HEADER_NAME_RE: Final = re.compile(r"[\x21-\x39\x3b-\x7e]{1,200}")
_WHITESPACE_RE: Final = re.compile(r"\s+")


def _fail(path: str, problem: str) -> AnymailWebhookPayloadError:
    return AnymailWebhookPayloadError(f"{path} {problem}")


def type_name(value: object) -> str:
    """The JSON name of a value's type, for messages that must not quote the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def parse_json(data: bytes | str, path: str = "body") -> Any:
    """Parse a JSON document the ESP sent: strict UTF-8, no NaN/Infinity, bounded depth."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise _fail(path, f"is not valid UTF-8 (at byte {err.start}).") from None
    else:
        text = data
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise _fail(path, f"is nested more than {MAX_JSON_DEPTH} levels deep.") from None
    except json.JSONDecodeError as err:
        raise _fail(path, f"is not valid JSON (line {err.lineno}, column {err.colno}).") from None
    except ValueError:
        # int() refusing a number with thousands of digits, or NaN/Infinity.
        raise _fail(path, "is not valid JSON.") from None
    _check_depth(value, path)
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_depth(value: Any, path: str) -> None:
    # Iterative, so that checking a deep document cannot itself overflow the stack.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            raise _fail(path, f"is nested more than {MAX_JSON_DEPTH} levels deep.")
        stack.extend((child, depth + 1) for child in children)


def json_object(value: Any, path: str = "body") -> JsonObject:
    """``value`` as a :class:`JsonObject`, or a payload error if it is not an object."""
    if not isinstance(value, Mapping):
        raise _fail(path, f"should be an object, not {type_name(value)}.")
    return JsonObject(value, path)


def json_objects(value: Any, path: str = "body") -> list[JsonObject]:
    """``value`` as a list of :class:`JsonObject`, or a payload error."""
    if not isinstance(value, list):
        raise _fail(path, f"should be a list, not {type_name(value)}.")
    return [json_object(item, f"{path}[{index}]") for index, item in enumerate(value)]


def check_header_name(value: Any, path: str) -> str:
    """``value`` if it is a valid email header name, else a payload error."""
    if not (isinstance(value, str) and _HEADER_NAME_RE.fullmatch(value)):
        raise _fail(path, "is not a valid header name.")
    return value


def finite_number(value: object) -> float | None:
    """``value`` (a number, or its text) as a finite float; None if it isn't one.

    For advisory fields (spam scores), where junk means "no score", not a bad post.
    """
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def check_text(value: Any, path: str, max_length: int | None = MAX_TEXT_LENGTH) -> str:
    """``value`` if it is text no longer than ``max_length``, else a payload error."""
    if not isinstance(value, str):
        raise _fail(path, f"should be text, not {type_name(value)}.")
    if max_length is not None and len(value) > max_length:
        raise _fail(path, f"is longer than {max_length} characters.")
    if _SURROGATE_RE.search(value):
        raise _fail(path, "is not valid Unicode (it has a lone surrogate).")
    return value


def _check_integer(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"should be a whole number, not {type_name(value)}.")
    return value


def _check_number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(path, f"should be a number, not {type_name(value)}.")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise _fail(path, "should be a finite number.")
    return number


def _check_boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, f"should be true or false, not {type_name(value)}.")
    return value


def _check_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, f"should be a list, not {type_name(value)}.")
    return value


def _check_base64(value: Any, path: str) -> bytes:
    text = _WHITESPACE_RE.sub("", check_text(value, path, None))
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(path, "is not valid base64.") from None


def _check_epoch(value: Any, path: str) -> datetime:
    if isinstance(value, str) and _EPOCH_TEXT_RE.fullmatch(value):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(path, f"should be a Unix time, not {type_name(value)}.")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise _fail(path, "is not a Unix time in a usable range.") from None


def _check_iso_datetime(value: Any, path: str) -> datetime:
    text = check_text(value, path, 64)
    if not _ISO_DATETIME_RE.fullmatch(text):
        raise _fail(path, "should be an ISO 8601 date and time.")
    try:
        # Python 3.11's fromisoformat handles Z, offsets without colon and any fraction.
        result = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(path, "should be an ISO 8601 date and time.") from None
    return result if result.tzinfo is not None else result.replace(tzinfo=UTC)


class _Accessor(Generic[_T]):
    """A typed accessor of :class:`JsonObject`, made from its check function:
    ``obj.integer("id")`` (required) or ``obj.integer("id", None)`` (the default when
    absent or null)."""

    def __init__(self, check: Callable[[Any, str], _T], doc: str) -> None:
        self.check = check
        self.__doc__ = doc

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Accessor[_T]: ...
    @overload
    def __get__(self, obj: JsonObject, owner: type | None = None) -> _BoundAccessor[_T]: ...
    def __get__(self, obj: JsonObject | None, owner: type | None = None) -> Any:
        return self if obj is None else _BoundAccessor(obj, self.check)


class _BoundAccessor(Generic[_T]):
    __slots__ = ("check", "obj")

    def __init__(self, obj: JsonObject, check: Callable[[Any, str], _T]) -> None:
        self.obj = obj
        self.check = check

    @overload
    def __call__(self, key: str) -> _T: ...
    @overload
    def __call__(self, key: str, default: _D) -> _T | _D: ...
    def __call__(self, key: str, default: Any = _MISSING) -> Any:
        return self.obj._get(key, default, self.check)


class JsonObject:
    """A JSON object (or form fields) from an ESP, read through typed accessors.

    Each accessor takes the field name and, optionally, a default: without one the
    field is required and must not be null; with one, an absent or null field gives
    the default. A field of the wrong type is always an error. ``data`` is the
    object itself (for ``esp_event``); ``path`` names it in error messages.
    """

    __slots__ = ("data", "path")

    def __init__(self, data: Mapping[str, Any], path: str = "body") -> None:
        self.data = data
        self.path = path

    def __repr__(self) -> str:
        return f"JsonObject({self.path})"

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def _path(self, key: str) -> str:
        return f"{self.path}.{key}"

    def _get(self, key: str, default: Any, check: Callable[[Any, str], _T]) -> _T | Any:
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                problem = "is null." if key in self.data else "is missing."
                raise _fail(self._path(key), problem)
            return default
        return check(value, self._path(key))

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """The field's value as it came, of any type (e.g. user metadata)."""
        return self._get(key, default, lambda value, path: value)

    @overload
    def text(self, key: str, *, max_length: int | None = ...) -> str: ...
    @overload
    def text(self, key: str, default: _D, *, max_length: int | None = ...) -> str | _D: ...
    def text(
        self, key: str, default: Any = _MISSING, *, max_length: int | None = MAX_TEXT_LENGTH
    ) -> Any:
        return self._get(key, default, lambda value, path: check_text(value, path, max_length))

    integer = _Accessor(_check_integer, "A whole number (not a boolean).")
    number = _Accessor(_check_number, "A finite number, as a float.")
    boolean = _Accessor(_check_boolean, "true or false.")
    object = _Accessor(json_object, "A nested object, as a JsonObject.")
    epoch = _Accessor(
        _check_epoch, "A Unix time (seconds, as a number or decimal text) as an aware UTC datetime."
    )
    iso_datetime = _Accessor(
        _check_iso_datetime, "An ISO 8601 date-time, aware (UTC when it gives no offset)."
    )

    def array(self, key: str, default: Any = _MISSING) -> list[Any]:
        """A list of values of any type (``default``, e.g. ``[]``, when absent or null)."""
        return self._get(key, default, _check_list)

    def objects(self, key: str, default: Any = _MISSING) -> list[JsonObject]:
        """A list of objects (``default``, e.g. ``[]``, when absent or null)."""
        return self._get(key, default, json_objects)

    def texts(
        self, key: str, default: Any = _MISSING, *, max_length: int | None = MAX_TEXT_LENGTH
    ) -> list[str]:
        """A list of texts (``default``, e.g. ``[]``, when absent or null)."""

        def check(value: Any, path: str) -> list[str]:
            items = _check_list(value, path)
            return [check_text(item, f"{path}[{i}]", max_length) for i, item in enumerate(items)]

        return self._get(key, default, check)

    def json(self, key: str, default: Any = _MISSING) -> Any:
        """A text field that itself holds a JSON document (parsed with the same limits)."""
        return self._get(
            key, default, lambda value, path: parse_json(check_text(value, path, None), path)
        )

    def base64_bytes(self, key: str, default: Any = _MISSING) -> bytes:
        """A base64 text field (e.g. attachment content) decoded; line breaks allowed."""
        return self._get(key, default, _check_base64)

    def mime_bytes(self, key: str, *, is_base64: bool) -> bytes:
        """A raw message, base64 or plain text, as bytes: parsing bytes rather than a str
        keeps its 8-bit parts intact."""
        if is_base64:
            return self.base64_bytes(key)
        return self.text(key, max_length=None).encode("utf-8")
