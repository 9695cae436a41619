"""Remembering which webhook events were already dispatched.

ESPs deliver at least once: a retry after a timeout, or after a 5xx for another
event of the same batch, repeats events the app has already handled. The view
asks :meth:`DedupeStore.seen` before dispatching an event, answers 200 without
dispatching a duplicate, and calls :meth:`DedupeStore.mark` only after the
event's receivers ran (so an event whose receiver failed is dispatched again).

The key is the ESP's event id (:func:`event_key`) or, where the ESP gives none,
a digest of the raw event (:func:`digest_key`). The default store is Django's
cache framework: a per-process cache (LocMem) only catches duplicates that reach
the same process; use a shared one (Redis, database) with several processes.

Settings: ``WEBHOOK_DEDUPE_CACHE`` (cache alias, default ``"default"``; None
turns deduplication off), ``WEBHOOK_DEDUPE_PREFIX`` (cache key prefix) and
``<ESP>_WEBHOOK_DEDUPE_TTL`` (seconds an event is remembered).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, MutableMapping
from types import MappingProxyType
from typing import Any, Final, Protocol

from django.core.cache import InvalidCacheBackendError, caches
from django.http import HttpRequest, QueryDict

from ..conf import SECONDS, STRING, Setting, get_setting, invalid_setting
from ..exceptions import AnymailWebhookTransientError
from .freshness import HOUR

#: Default time (seconds) to remember an event: at least the ESP's retry span and
#: its freshness window (see each fact sheet).
DEFAULT_DEDUPE_TTL: Final[Mapping[str, int]] = MappingProxyType(
    {
        "Amazon SES": 3 * HOUR,  # retries end within 1 h; 2 h window
        "Scaleway": 3 * HOUR,
        "Mailgun": 13 * HOUR,  # retries for ~8 h; 12 h window
        "Mailjet": 25 * HOUR,  # retries stop 24 h after the first failure
        "Postal": 32 * HOUR,  # inbound endpoints are retried for ~31 h
        "Postmark": 3 * HOUR,  # retries end within ~70 min
        "Resend": 30 * HOUR,  # Svix retries for ~28 h with the same svix-id
        "SendGrid": 26 * HOUR,  # retries for up to 24 h; 25 h window
        "SparkPost": 9 * HOUR,  # retries for 8 h
    }
)
#: For ESPs whose retry span is not documented (Brevo, Mandrill).
FALLBACK_DEDUPE_TTL: Final = 24 * HOUR

DEFAULT_CACHE_ALIAS: Final = "default"
DEFAULT_KEY_PREFIX: Final = "anymail:webhook:"

WEBHOOK_DEDUPE_CACHE: Final = Setting(
    "webhook_dedupe_cache",
    STRING,
    "The Django cache (alias) that remembers dispatched events; None turns dedupe off.",
    default=DEFAULT_CACHE_ALIAS,
    per_esp=False,
)
WEBHOOK_DEDUPE_PREFIX: Final = Setting(
    "webhook_dedupe_prefix",
    STRING,
    "Prefix of the dedupe cache keys.",
    default=DEFAULT_KEY_PREFIX,
    per_esp=False,
)
WEBHOOK_DEDUPE_TTL: Final = Setting(
    "webhook_dedupe_ttl",
    SECONDS,
    "How long a dispatched event is remembered, in seconds.",
    default_for=lambda view: DEFAULT_DEDUPE_TTL.get(
        view.settings_esp_name or view.esp_name, FALLBACK_DEDUPE_TTL
    ),
)


def raw_event_bytes(esp_event: Any) -> bytes | None:
    """Stable bytes for an ESP event with no id, for its dedupe digest (None: no dedupe).

    Retries of one event are identical, so the canonical JSON of the parsed event
    (sorted keys) identifies it as well as its raw bytes.
    """
    if isinstance(esp_event, HttpRequest):
        return esp_event.body
    if isinstance(esp_event, bytes):
        return esp_event
    if isinstance(esp_event, QueryDict):
        esp_event = {key: esp_event.getlist(key) for key in esp_event}
    if isinstance(esp_event, Mapping | list | str | int | float):
        try:
            text = json.dumps(esp_event, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return None  # not plain data: no stable bytes
        return text.encode("ascii")
    return None


class DedupeStore(Protocol):
    def seen(self, key: str) -> bool:
        """Whether the event ``key`` was already marked."""

    def mark(self, key: str, ttl: float) -> None:
        """Remember the event ``key`` for ``ttl`` seconds."""


def _slug(esp_name: str) -> str:
    return esp_name.lower().replace(" ", "_")


def event_key(esp_name: str, event_id: str) -> str:
    """The store key for an event the ESP identifies (hashed: ids are ESP input)."""
    digest = hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{_slug(esp_name)}:id:{digest}"


def digest_key(esp_name: str, raw_event: bytes) -> str:
    """The store key for an event without an id: a digest of its raw bytes.

    Use the bytes exactly as received (one event's part of the body), never a
    re-serialization: two retries of one event are byte-identical.
    """
    return f"{_slug(esp_name)}:sha256:{hashlib.sha256(raw_event).hexdigest()}"


class CacheDedupeStore:
    """A :class:`DedupeStore` in one of Django's caches.

    A cache error (server down) raises :exc:`AnymailWebhookTransientError`: answer
    5xx so the ESP retries, rather than dispatch without knowing.
    """

    def __init__(
        self, cache_alias: str = DEFAULT_CACHE_ALIAS, key_prefix: str = DEFAULT_KEY_PREFIX
    ) -> None:
        try:
            self.cache = caches[cache_alias]
        except InvalidCacheBackendError:
            raise invalid_setting(
                "webhook_dedupe_cache",
                None,
                f"there is no cache {cache_alias!r} in your CACHES setting.",
            ) from None
        self.cache_alias = cache_alias
        self.key_prefix = key_prefix

    def seen(self, key: str) -> bool:
        try:
            return self.cache.get(self.key_prefix + key) is not None
        except Exception as err:
            raise self._unavailable(err) from err

    def mark(self, key: str, ttl: float) -> None:
        try:
            self.cache.set(self.key_prefix + key, 1, timeout=ttl)
        except Exception as err:
            raise self._unavailable(err) from err

    def _unavailable(self, err: Exception) -> AnymailWebhookTransientError:
        return AnymailWebhookTransientError(
            f"The webhook dedupe cache {self.cache_alias!r} failed ({type(err).__name__}). "
            "The ESP will retry; check the cache server, or ANYMAIL WEBHOOK_DEDUPE_CACHE."
        )


def get_dedupe_store(kwargs: MutableMapping[str, Any] | None = None) -> DedupeStore | None:
    """The configured store, or None when ``WEBHOOK_DEDUPE_CACHE`` is None (no dedupe)."""
    alias = get_setting(WEBHOOK_DEDUPE_CACHE, kwargs=kwargs)
    prefix = get_setting(WEBHOOK_DEDUPE_PREFIX, kwargs=kwargs)
    if alias is None:
        return None
    if not isinstance(alias, str):
        raise invalid_setting("webhook_dedupe_cache", None, "expected a cache alias, or None.")
    if not isinstance(prefix, str):
        raise invalid_setting("webhook_dedupe_prefix", None, "expected a string.")
    return CacheDedupeStore(alias, prefix)


def get_dedupe_ttl(esp_name: str, kwargs: MutableMapping[str, Any] | None = None) -> float:
    """Seconds to remember the ESP's events (``<ESP>_WEBHOOK_DEDUPE_TTL``)."""
    value = get_setting(
        WEBHOOK_DEDUPE_TTL,
        esp_name,
        kwargs,
        default=DEFAULT_DEDUPE_TTL.get(esp_name, FALLBACK_DEDUPE_TTL),
    )
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise invalid_setting("webhook_dedupe_ttl", esp_name, "expected a number of seconds (> 0).")
    return float(value)
