"""The store of already-dispatched webhook events (anymail.webhooks.dedupe)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.base import memcache_key_warnings
from django.core.cache.backends.locmem import LocMemCache

from anymail.exceptions import AnymailImproperlyConfigured, AnymailWebhookTransientError
from anymail.webhooks.dedupe import (
    DEFAULT_DEDUPE_TTL,
    FALLBACK_DEDUPE_TTL,
    CacheDedupeStore,
    DedupeStore,
    digest_key,
    event_key,
    get_dedupe_store,
    get_dedupe_ttl,
)


class RecordingCache(LocMemCache):
    """A LocMem cache that records the timeout of every set()."""

    timeouts: list[Any] = []

    def set(self, key: str, value: Any, timeout: Any = None, version: Any = None) -> None:
        RecordingCache.timeouts.append((key, timeout))
        super().set(key, value, timeout, version)


class BrokenCache(LocMemCache):
    """A cache whose server is down."""

    def get(self, key: str, default: Any = None, version: Any = None) -> Any:
        raise ConnectionError("cache server refused the connection")

    def set(self, key: str, value: Any, timeout: Any = None, version: Any = None) -> None:
        raise ConnectionError("cache server refused the connection")


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dflt"},
    "webhooks": {"BACKEND": f"{__name__}.RecordingCache", "LOCATION": "webhooks"},
    "broken": {"BACKEND": f"{__name__}.BrokenCache", "LOCATION": "broken"},
}


@pytest.fixture(autouse=True)
def cache_settings(settings: Any) -> Any:
    settings.CACHES = CACHES
    settings.ANYMAIL = {}
    caches["default"].clear()
    caches["webhooks"].clear()
    RecordingCache.timeouts = []
    return settings


def test_seen_only_after_mark() -> None:
    store: DedupeStore = CacheDedupeStore()
    key = event_key("Amazon SES", "9d2c5580-b61d-550c-8583-37a582870907")
    assert store.seen(key) is False
    assert store.seen(key) is False  # asking does not mark
    store.mark(key, 60)
    assert store.seen(key) is True
    assert store.seen(event_key("Amazon SES", "another-event")) is False


def test_default_store_is_the_default_cache_with_a_prefix() -> None:
    store = get_dedupe_store()
    assert isinstance(store, CacheDedupeStore)
    key = event_key("Resend", "msg_1")
    store.mark(key, 60)
    assert caches["default"].get("anymail:webhook:" + key) is not None


def test_cache_alias_prefix_and_ttl_are_configurable(settings: Any) -> None:
    settings.ANYMAIL = {
        "WEBHOOK_DEDUPE_CACHE": "webhooks",
        "WEBHOOK_DEDUPE_PREFIX": "myapp:hooks:",
        "MAILGUN_WEBHOOK_DEDUPE_TTL": 120,
    }
    store = get_dedupe_store()
    assert store is not None
    key = event_key("Mailgun", "token")
    store.mark(key, get_dedupe_ttl("Mailgun"))
    assert RecordingCache.timeouts == [("myapp:hooks:" + key, 120)]
    assert caches["webhooks"].get("myapp:hooks:" + key) is not None
    assert caches["default"].get("anymail:webhook:" + key) is None


def test_view_keywords_override_settings(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_DEDUPE_CACHE": "webhooks"}
    kwargs: dict[str, Any] = {"webhook_dedupe_cache": "default", "webhook_dedupe_ttl": 5}
    store = get_dedupe_store(kwargs)
    assert isinstance(store, CacheDedupeStore) and store.cache_alias == "default"
    assert get_dedupe_ttl("Postal", kwargs) == 5
    assert kwargs == {}


def test_dedupe_can_be_turned_off(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_DEDUPE_CACHE": None}
    assert get_dedupe_store() is None


@pytest.mark.parametrize(
    "setting, value, message",
    [
        ("WEBHOOK_DEDUPE_CACHE", "missing", "no cache 'missing'"),
        ("WEBHOOK_DEDUPE_CACHE", 3, "cache alias"),
        ("WEBHOOK_DEDUPE_PREFIX", None, "expected a string"),
    ],
)
def test_bad_store_settings(settings: Any, setting: str, value: Any, message: str) -> None:
    settings.ANYMAIL = {setting: value}
    with pytest.raises(AnymailImproperlyConfigured, match=message) as info:
        get_dedupe_store()
    assert setting in str(info.value)


def test_a_cache_that_is_down_is_a_transient_error_not_a_miss() -> None:
    store = CacheDedupeStore("broken")
    for call in (lambda: store.seen("k"), lambda: store.mark("k", 60)):
        with pytest.raises(AnymailWebhookTransientError, match="'broken'") as info:
            call()
        assert isinstance(info.value.__cause__, ConnectionError)


def test_ttl_defaults_cover_each_esps_retries() -> None:
    assert get_dedupe_ttl("Amazon SES") == 3 * 3600
    assert get_dedupe_ttl("Resend") == 30 * 3600
    assert get_dedupe_ttl("Brevo") == FALLBACK_DEDUPE_TTL == 24 * 3600
    from anymail.webhooks.freshness import DEFAULT_MAX_AGE

    # A replay inside the freshness window is still remembered.
    for esp_name, window in DEFAULT_MAX_AGE.items():
        assert DEFAULT_DEDUPE_TTL[esp_name] > window, esp_name


@pytest.mark.parametrize("value", [0, -1, None, "60", False])
def test_invalid_ttl_setting(settings: Any, value: Any) -> None:
    settings.ANYMAIL = {"SENDGRID_WEBHOOK_DEDUPE_TTL": value}
    with pytest.raises(AnymailImproperlyConfigured, match="SENDGRID_WEBHOOK_DEDUPE_TTL"):
        get_dedupe_ttl("SendGrid")


@pytest.mark.parametrize(
    "event_id", ["ordinary-id", "x" * 10_000, "with spaces\nand\x00controls", "ünïcødé", "\udc80"]
)
def test_event_keys_are_safe_for_any_cache(event_id: str) -> None:
    key = "anymail:webhook:" + event_key("Amazon SES", event_id)
    assert list(memcache_key_warnings(key)) == []
    assert len(key) < 120
    assert key.startswith("anymail:webhook:amazon_ses:id:")


def test_keys_are_distinct_per_esp_and_per_kind() -> None:
    assert event_key("Mailgun", "abc") != event_key("Postal", "abc")
    assert event_key("Mailgun", "abc") == event_key("Mailgun", "abc")
    assert digest_key("Mailgun", b"abc") != event_key("Mailgun", "abc")


def test_digest_key_of_raw_event_bytes() -> None:
    event = b'{"event":"delivered","email":"to@example.com","timestamp":1772478310}'
    assert digest_key("SendGrid", event) == digest_key("SendGrid", bytes(event))
    assert digest_key("SendGrid", event) != digest_key("SendGrid", event.replace(b"10}", b"11}"))
    assert list(memcache_key_warnings(digest_key("SendGrid", event))) == []
