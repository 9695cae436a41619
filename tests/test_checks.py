"""Django integration (anymail.apps, anymail.checks): app config and system checks."""

from __future__ import annotations

import types
from typing import Any

import pytest
from django.apps import apps
from django.core import checks
from django.urls import include, path

from anymail.checks import check_anymail_settings, check_webhook_secrets, routed_webhook_views
from anymail.signals import tracking
from anymail.webhooks.base import AnymailBaseWebhookView

STRONG = "abcdefghijklmnop:qrstuvwxyz012345"


class TinyTrackingWebhookView(AnymailBaseWebhookView):
    esp_name = "Tiny"
    signal = tracking


class SignedTrackingWebhookView(AnymailBaseWebhookView):
    esp_name = "Signed"
    signal = tracking
    warn_if_no_basic_auth = False


nested = [path("tracking/", TinyTrackingWebhookView.as_view())]
urlpatterns = [
    path("hooks/tiny/", include(nested)),
    path("hooks/signed/", SignedTrackingWebhookView.as_view()),
]


@pytest.fixture(autouse=True)
def no_anymail_settings(settings: Any) -> Any:
    settings.ANYMAIL = {}
    return settings


def ids(messages: list[checks.CheckMessage]) -> list[str | None]:
    return [message.id for message in messages]


def test_app_config_registers_the_checks() -> None:
    config = apps.get_app_config("anymail")
    assert config.verbose_name == "Anymail"
    registry = checks.registry.registry
    assert check_anymail_settings in registry.get_checks()
    assert check_webhook_secrets in registry.get_checks()
    assert checks.Tags.security in check_webhook_secrets.tags  # type: ignore[attr-defined]


def test_run_checks_reports_anymail_problems(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULT": {}}
    assert "anymail.W002" in ids(checks.run_checks())


# --- webhook secret ------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_routed_webhooks_without_secret_warn() -> None:
    assert routed_webhook_views() == [TinyTrackingWebhookView, SignedTrackingWebhookView]
    (warning,) = check_webhook_secrets()
    assert warning.id == "anymail.W001"
    assert warning.level == checks.WARNING
    assert warning.msg == (
        "Anymail webhooks are routed but ANYMAIL WEBHOOK_SECRET is not set, so anyone can "
        "post fake events to them (TinyTrackingWebhookView)."
    )
    assert 'Set ANYMAIL = {"WEBHOOK_SECRET": "<random>:<random>"}' in warning.hint


def test_no_webhook_routes_no_warning(settings: Any) -> None:
    no_routes = types.ModuleType("no_routes")
    no_routes.urlpatterns = [path("ordinary/", lambda request: None)]  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = no_routes
    assert routed_webhook_views() == []
    assert check_webhook_secrets() == []


def test_only_signed_webhooks_routed_no_warning(settings: Any) -> None:
    signed_only = types.ModuleType("signed_only")
    signed_only.urlpatterns = [path("s/", SignedTrackingWebhookView.as_view())]  # type: ignore[attr-defined]
    settings.ROOT_URLCONF = signed_only
    assert routed_webhook_views() == [SignedTrackingWebhookView]
    assert check_webhook_secrets() == []


@pytest.mark.urls(__name__)
def test_strong_secret_passes(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": STRONG}
    assert check_webhook_secrets() == []
    settings.ANYMAIL = {"WEBHOOK_SECRET": [STRONG, "0123456789abcdef:fedcba9876543210"]}
    assert check_webhook_secrets() == []


@pytest.mark.parametrize(
    "secret", ["short:secret", "abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnop:short"]
)
def test_weak_secret_warns_without_showing_it(settings: Any, secret: str) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": secret}
    (warning,) = check_webhook_secrets()
    assert warning.id == "anymail.W004"
    assert warning.msg == (
        "ANYMAIL WEBHOOK_SECRET (the setting) is too weak: use two random strings of at "
        "least 16 characters each, separated by a colon."
    )
    assert secret not in warning.msg and secret not in (warning.hint or "")


def test_weak_entry_in_a_secret_list(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": [STRONG, "weak:weak"]}
    (warning,) = check_webhook_secrets()
    assert warning.msg.startswith("ANYMAIL WEBHOOK_SECRET (entry 2 of the setting) is too weak")


def test_invalid_secret_type_is_an_error(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": 1234567890}
    (error,) = check_webhook_secrets()
    assert error.id == "anymail.E003"
    assert error.level == checks.ERROR
    assert "1234567890" not in error.msg


# --- unknown settings ----------------------------------------------------------------


def test_known_settings_pass(settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {"tags": ["a"]},
        "POSTMARK_SERVER_TOKEN": "x",
        "POSTMARK_SEND_DEFAULTS": {"tags": ["b"]},
        "IGNORE_RECIPIENT_STATUS": True,
        "REQUESTS_TIMEOUT": 10,
    }
    settings.ANYMAIL_DEBUG_API_REQUESTS = False
    assert check_anymail_settings() == []


def test_webhook_replay_settings_are_known(settings: Any) -> None:
    settings.ANYMAIL = {
        "AMAZON_SES_WEBHOOK_MAX_AGE": 3600,
        "RESEND_WEBHOOK_DEDUPE_TTL": 7200,
        "WEBHOOK_DEDUPE_CACHE": "webhooks",
        "WEBHOOK_DEDUPE_PREFIX": "hooks:",
    }
    settings.ANYMAIL_MAILGUN_WEBHOOK_MAX_AGE = None
    assert check_anymail_settings() == []


def test_unknown_key_in_anymail_dict_with_hint(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULT": {}, "MAILGUN_APIKEY": "x", "ZZZZ": 1}
    warnings = check_anymail_settings()
    assert ids(warnings) == ["anymail.W002"] * 3
    assert [w.msg for w in warnings] == [
        "Unknown Anymail setting ANYMAIL['SEND_DEFAULT']. Did you mean 'SEND_DEFAULTS'?",
        "Unknown Anymail setting ANYMAIL['MAILGUN_APIKEY']. Did you mean 'MAILGUN_API_KEY'?",
        "Unknown Anymail setting ANYMAIL['ZZZZ'].",
    ]


def test_lowercase_key_gets_the_uppercase_hint(settings: Any) -> None:
    settings.ANYMAIL = {"send_defaults": {}}
    (warning,) = check_anymail_settings()
    assert warning.msg == (
        "Unknown Anymail setting ANYMAIL['send_defaults']. Did you mean 'SEND_DEFAULTS'?"
    )


def test_unknown_prefixed_setting_with_hint(settings: Any) -> None:
    settings.ANYMAIL_IGNORE_UNSUPORTED_FEATURES = True
    (warning,) = check_anymail_settings()
    assert warning.id == "anymail.W002"
    assert warning.msg == (
        "Unknown Anymail setting ANYMAIL_IGNORE_UNSUPORTED_FEATURES. "
        "Did you mean ANYMAIL_IGNORE_UNSUPPORTED_FEATURES?"
    )


def test_anymail_setting_not_a_dict(settings: Any) -> None:
    settings.ANYMAIL = [("SEND_DEFAULTS", {})]
    (error,) = check_anymail_settings()
    assert error.id == "anymail.E001"
    assert error.msg == "settings.ANYMAIL must be a dict, not list."


# --- SEND_DEFAULTS keys ----------------------------------------------------------------


def test_bad_send_defaults_keys(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULTS": {"tag": ["a"], "metadata": {}, "track_click": True}}
    warnings = check_anymail_settings()
    assert ids(warnings) == ["anymail.W003", "anymail.W003"]
    assert [w.msg for w in warnings] == [
        "Unknown key 'tag' in Anymail setting SEND_DEFAULTS. Did you mean 'tags'?",
        "Unknown key 'track_click' in Anymail setting SEND_DEFAULTS. Did you mean 'track_clicks'?",
    ]


def test_esp_send_defaults_keys_and_prefixed_setting(settings: Any) -> None:
    settings.ANYMAIL_MAILGUN_SEND_DEFAULTS = {"esp_extras": {}}
    (warning,) = check_anymail_settings()
    assert warning.msg == (
        "Unknown key 'esp_extras' in Anymail setting MAILGUN_SEND_DEFAULTS. "
        "Did you mean 'esp_extra'?"
    )


def test_every_message_attribute_is_a_valid_send_default(settings: Any) -> None:
    from anymail.message import ANYMAIL_MESSAGE_ATTRIBUTES

    django_attributes = [
        "from_email",
        "to",
        "cc",
        "bcc",
        "reply_to",
        "subject",
        "body",
        "attachments",
        "headers",
        "extra_headers",
    ]
    settings.ANYMAIL = {
        "SEND_DEFAULTS": dict.fromkeys([*ANYMAIL_MESSAGE_ATTRIBUTES, *django_attributes])
    }
    assert check_anymail_settings() == []


def test_send_defaults_not_a_dict(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULTS": ["tags"]}
    (error,) = check_anymail_settings()
    assert error.id == "anymail.E002"
    assert error.msg == "Anymail setting SEND_DEFAULTS must be a dict, not list."
