"""Django integration (anymail.apps, anymail.checks): app config and system checks."""

from __future__ import annotations

import types
from typing import Any

import pytest
from django.apps import apps
from django.core import checks
from django.urls import include, path

from anymail.backends.base_requests import AnymailRequestsBackend
from anymail.checks import (
    check_anymail_settings,
    check_webhook_secrets,
    declared_options,
    routed_webhook_views,
)
from anymail.conf import get_anymail_setting
from anymail.signals import tracking
from anymail.webhooks.base import AnymailBaseWebhookView

from .utils import requires_mailers

STRONG = "abcdefghijklmnop:qrstuvwxyz012345"


def only_message(found: list[checks.CheckMessage], id: str) -> checks.CheckMessage:
    """The one message a check found, with this ``id`` and the level it names (an
    anymail.E... id is an error, an anymail.W... id a warning)."""
    (message,) = found
    assert message.id == id
    assert message.level == (checks.ERROR if id.startswith("anymail.E") else checks.WARNING)
    return message


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
    warning = only_message(check_webhook_secrets(), "anymail.W001")
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
    warning = only_message(check_webhook_secrets(), "anymail.W004")
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
    error = only_message(check_webhook_secrets(), "anymail.E003")
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


def did_you_mean(name: str, hint: str, where: str = "") -> str:
    if where:
        return f"Unknown key '{name}' in Anymail setting {where}. Did you mean '{hint}'?"
    return f"Unknown Anymail setting ANYMAIL['{name}']. Did you mean '{hint}'?"


# Each case: ANYMAIL, the prefixed settings (ANYMAIL_<NAME>), the warnings (id, message).
UNKNOWN_SETTINGS = {
    "unknown_key_in_anymail_dict_with_hint": (
        {"SEND_DEFAULT": {}, "MAILGUN_APIKEY": "x", "ZZZZ": 1},
        {},
        [
            ("anymail.W002", did_you_mean("SEND_DEFAULT", "SEND_DEFAULTS")),
            ("anymail.W002", did_you_mean("MAILGUN_APIKEY", "MAILGUN_API_KEY")),
            ("anymail.W002", "Unknown Anymail setting ANYMAIL['ZZZZ']."),
        ],
    ),
    "did_you_mean_a_setting_only_a_webhook_reads": (
        {"SENDGRID_VERIFICATION_KEY": "x", "SPARKPOST_TRACK_INITIAL_OPENS_AS_OPENED": True},
        {},
        [
            (
                "anymail.W002",
                did_you_mean(
                    "SENDGRID_VERIFICATION_KEY", "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"
                ),
            ),
            (
                "anymail.W002",
                did_you_mean(
                    "SPARKPOST_TRACK_INITIAL_OPENS_AS_OPENED",
                    "SPARKPOST_TRACK_INITIAL_OPEN_AS_OPENED",
                ),
            ),
        ],
    ),
    "lowercase_key_gets_the_uppercase_hint": (
        {"send_defaults": {}},
        {},
        [("anymail.W002", did_you_mean("send_defaults", "SEND_DEFAULTS"))],
    ),
    "unknown_prefixed_setting_with_hint": (
        {},
        {"IGNORE_UNSUPORTED_FEATURES": True},
        [
            (
                "anymail.W002",
                "Unknown Anymail setting ANYMAIL_IGNORE_UNSUPORTED_FEATURES. "
                "Did you mean ANYMAIL_IGNORE_UNSUPPORTED_FEATURES?",
            )
        ],
    ),
    "bad_send_defaults_keys": (
        {"SEND_DEFAULTS": {"tag": ["a"], "metadata": {}, "track_click": True}},
        {},
        [
            ("anymail.W003", did_you_mean("tag", "tags", "SEND_DEFAULTS")),
            ("anymail.W003", did_you_mean("track_click", "track_clicks", "SEND_DEFAULTS")),
        ],
    ),
    "esp_send_defaults_keys_and_prefixed_setting": (
        {},
        {"MAILGUN_SEND_DEFAULTS": {"esp_extras": {}}},
        [("anymail.W003", did_you_mean("esp_extras", "esp_extra", "MAILGUN_SEND_DEFAULTS"))],
    ),
}


@pytest.mark.parametrize(
    ("anymail", "prefixed", "expected"), UNKNOWN_SETTINGS.values(), ids=UNKNOWN_SETTINGS.keys()
)
def test_unknown_setting_warns_with_a_hint(
    settings: Any, anymail: dict[str, Any], prefixed: dict[str, Any], expected: list[Any]
) -> None:
    settings.ANYMAIL = anymail
    for name, value in prefixed.items():
        setattr(settings, f"ANYMAIL_{name}", value)
    assert [(warning.id, warning.msg) for warning in check_anymail_settings()] == expected


def test_unknown_setting_hint_names_the_settings_reference(settings: Any) -> None:
    from pathlib import Path

    settings.ANYMAIL = {"ZZZZ": 1}
    (warning,) = check_anymail_settings()
    assert warning.hint == "Check the spelling against the settings reference (docs/settings.md)."
    assert (Path(__file__).resolve().parent.parent / "docs" / "settings.md").exists()


def test_anymail_setting_not_a_dict(settings: Any) -> None:
    settings.ANYMAIL = [("SEND_DEFAULTS", {})]
    error = only_message(check_anymail_settings(), "anymail.E001")
    assert error.msg == "settings.ANYMAIL must be a dict, not list."


# --- SEND_DEFAULTS keys ----------------------------------------------------------------


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
    error = only_message(check_anymail_settings(), "anymail.E002")
    assert error.msg == "Anymail setting SEND_DEFAULTS must be a dict, not list."


# --- empty webhook secrets, renamed settings ---------------------------------------------


@pytest.mark.parametrize("secret", ["", "  ", [STRONG, ""], []])
def test_empty_webhook_secret_is_an_error(settings: Any, secret: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": secret}
    error = only_message(check_webhook_secrets(), "anymail.E003")
    assert "would turn webhook basic auth off" in error.msg


@pytest.mark.parametrize("where", ["dict", "prefixed"])
def test_pre_2_0_webhook_authorization_is_an_error_saying_rename(settings: Any, where: str) -> None:
    if where == "dict":
        settings.ANYMAIL = {"WEBHOOK_AUTHORIZATION": STRONG}
    else:
        settings.ANYMAIL_WEBHOOK_AUTHORIZATION = STRONG
    error = only_message(check_anymail_settings(), "anymail.E004")
    assert error.msg == (
        "The Anymail setting WEBHOOK_AUTHORIZATION is an old name of WEBHOOK_SECRET and is "
        "no longer read: rename it to WEBHOOK_SECRET."
    )
    assert STRONG not in error.msg
    assert check_webhook_secrets() == []  # reported once, not twice


# --- "did you mean" stays within the ESP ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("POSTMARK_API_KEY", "'POSTMARK_SERVER_TOKEN'"),
        ("postmark_api_key", "'POSTMARK_SERVER_TOKEN'"),
        ("POSTMARK_TOKEN", "'POSTMARK_SERVER_TOKEN'"),
        ("POSTMARK_API_URLS", "'POSTMARK_API_URL'"),
        ("POSTMARK_SEND_DEFAULT", "'POSTMARK_SEND_DEFAULTS'"),
        ("MAILGUN_TOKEN", "'MAILGUN_API_KEY'"),
        ("SENDGRID_API_TOKEN", "'SENDGRID_API_KEY'"),
        ("SCALEWAY_API_KEY", "'SCALEWAY_SECRET_KEY'"),
        ("MAILJET_TOKEN", "'MAILJET_API_KEY' or 'MAILJET_SECRET_KEY'"),
        ("POSTMRK_SERVER_TOKEN", "'POSTMARK_SERVER_TOKEN'"),  # no ESP prefix: all settings
    ],
)
def test_did_you_mean_stays_within_the_esp(settings: Any, name: str, suggestion: str) -> None:
    settings.ANYMAIL = {name: "x"}
    (warning,) = check_anymail_settings()
    assert warning.msg == f"Unknown Anymail setting ANYMAIL[{name!r}]. Did you mean {suggestion}?"


def test_no_suggestion_from_another_esp(settings: Any) -> None:
    # SES takes no API key; other ESPs' API_KEY settings are not suggested.
    settings.ANYMAIL = {"AMAZON_SES_API_KEY": "x"}
    (warning,) = check_anymail_settings()
    assert warning.msg == "Unknown Anymail setting ANYMAIL['AMAZON_SES_API_KEY']."


def test_did_you_mean_for_prefixed_settings_stays_within_the_esp(settings: Any) -> None:
    settings.ANYMAIL_POSTMARK_API_KEY = "x"
    (warning,) = check_anymail_settings()
    assert warning.msg == (
        "Unknown Anymail setting ANYMAIL_POSTMARK_API_KEY. "
        "Did you mean ANYMAIL_POSTMARK_SERVER_TOKEN?"
    )


# --- Django 6.1 MAILERS OPTIONS ---------------------------------------------------------------


POSTMARK = "anymail.backends.postmark.EmailBackend"


class UndeclaredBackend(AnymailRequestsBackend):
    """A third-party backend that reads options but doesn't declare them."""

    esp_name = "Undeclared"

    def __init__(self, **kwargs: Any) -> None:
        self.region = kwargs.pop("region", None)
        super().__init__(**kwargs)


class DeclaredBackend(AnymailRequestsBackend):
    esp_name = "Declared"
    option_names = frozenset({"token", "region"})
    required_option_names = frozenset({"token"})

    def __init__(self, **kwargs: Any) -> None:
        self.token = get_anymail_setting("token", esp_name=self.esp_name, kwargs=kwargs)
        self.region = kwargs.pop("region", None)
        super().__init__(**kwargs)


class UndeclaredSubclass(DeclaredBackend):
    def __init__(self, **kwargs: Any) -> None:
        self.extra = kwargs.pop("extra", None)
        super().__init__(**kwargs)


def mailers_errors(settings: Any, **mailers: Any) -> list[tuple[str | None, str]]:
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}, **mailers}
    return [(message.id, message.msg) for message in check_anymail_settings()]


@requires_mailers
def test_mailers_options_valid(settings: Any) -> None:
    options = {
        "server_token": "x",
        "api_url": "https://example.com/",
        "timeout": 5,
        "send_defaults": {},
        "ignore_recipient_status": True,
        "ignore_unsupported_features": True,
        "debug_api_requests": False,
        "fail_silently": True,
    }
    assert mailers_errors(settings, tx={"BACKEND": POSTMARK, "OPTIONS": options}) == []


@requires_mailers
def test_mailers_unknown_option_with_a_suggestion_from_that_backend(settings: Any) -> None:
    errors = mailers_errors(
        settings,
        tx={"BACKEND": POSTMARK, "OPTIONS": {"server_token": "x", "sever_token": "y", "zz": 1}},
    )
    assert errors == [
        (
            "anymail.E005",
            f"MAILERS['tx']: unknown option 'sever_token' in OPTIONS for {POSTMARK}. "
            "Did you mean 'server_token'?",
        ),
        ("anymail.E005", f"MAILERS['tx']: unknown option 'zz' in OPTIONS for {POSTMARK}."),
    ]


@requires_mailers
def test_mailers_unknown_option_suggests_only_that_backends_options(settings: Any) -> None:
    # 'api_key' is an option of other ESPs, not of Postmark.
    errors = mailers_errors(
        settings, tx={"BACKEND": POSTMARK, "OPTIONS": {"server_token": "x", "api_key": "y"}}
    )
    assert errors == [
        ("anymail.E005", f"MAILERS['tx']: unknown option 'api_key' in OPTIONS for {POSTMARK}.")
    ]


@requires_mailers
def test_mailers_missing_required_option(settings: Any) -> None:
    errors = mailers_errors(
        settings,
        transactional={"BACKEND": POSTMARK},
        mailjet={"BACKEND": "anymail.backends.mailjet.EmailBackend", "OPTIONS": {"api_key": "x"}},
    )
    assert errors == [
        (
            "anymail.E006",
            "MAILERS['transactional']: OPTIONS must define 'server_token' (or set "
            'ANYMAIL["POSTMARK_SERVER_TOKEN"] for all Postmark mailers).',
        ),
        (
            "anymail.E006",
            "MAILERS['mailjet']: OPTIONS must define 'secret_key' (or set "
            'ANYMAIL["MAILJET_SECRET_KEY"] for all Mailjet mailers).',
        ),
    ]


@requires_mailers
@pytest.mark.parametrize("where", ["ANYMAIL", "ANYMAIL_POSTMARK_SERVER_TOKEN", "bare"])
def test_mailers_required_option_from_settings(settings: Any, where: str) -> None:
    if where == "ANYMAIL":
        settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "x"}
    elif where == "bare":
        settings.POSTMARK_SERVER_TOKEN = "x"
    else:
        settings.ANYMAIL_POSTMARK_SERVER_TOKEN = "x"
    assert mailers_errors(settings, tx={"BACKEND": POSTMARK}) == []


@requires_mailers
def test_mailers_check_is_part_of_manage_py_check(settings: Any) -> None:
    settings.MAILERS = {"default": {"BACKEND": POSTMARK, "OPTIONS": {"sever_token": "x"}}}
    assert {"anymail.E005", "anymail.E006"} <= set(ids(checks.run_checks()))


@requires_mailers
def test_mailers_other_backends_are_left_to_django(settings: Any) -> None:
    errors = mailers_errors(
        settings,
        smtp={"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {"x": 1}},
        missing={"BACKEND": "myproject.no_such.Backend"},
    )
    assert errors == []


@requires_mailers
def test_mailers_unimportable_anymail_backend(settings: Any) -> None:
    errors = mailers_errors(settings, tx={"BACKEND": "anymail.backends.postmrk.EmailBackend"})
    assert [error_id for error_id, _ in errors] == ["anymail.E007"]
    assert errors[0][1].startswith(
        "MAILERS['tx']: cannot import BACKEND 'anymail.backends.postmrk.EmailBackend': "
    )


@requires_mailers
def test_mailers_third_party_backends(settings: Any) -> None:
    undeclared = f"{__name__}.UndeclaredBackend"
    declared = f"{__name__}.DeclaredBackend"
    errors = mailers_errors(
        settings,
        a={"BACKEND": undeclared, "OPTIONS": {"region": "eu", "anything": 1}},
        b={"BACKEND": declared, "OPTIONS": {"regoin": "eu", "timeout": 3}},
    )
    assert errors == [
        (
            "anymail.E005",
            f"MAILERS['b']: unknown option 'regoin' in OPTIONS for {declared}. "
            "Did you mean 'region'?",
        ),
        (
            "anymail.E006",
            "MAILERS['b']: OPTIONS must define 'token' (or set ANYMAIL[\"DECLARED_TOKEN\"] "
            "for all Declared mailers).",
        ),
    ]


@requires_mailers
def test_mailers_test_backend_emulate_esp_option(settings: Any) -> None:
    # The test backend reads it from OPTIONS (tests/test_test_backend.py): no E005.
    test_backend = "anymail.backends.test.EmailBackend"
    errors = mailers_errors(settings, t={"BACKEND": test_backend, "OPTIONS": {"emulate_esp": "x"}})
    assert errors == []


@requires_mailers
def test_mailers_queued_backend_options(settings: Any) -> None:
    # The queued backend is not an ESP backend, but declares its options the same way.
    queued = "anymail.backends.queued.EmailBackend"
    options = {"mailer": "default", "task_backend": "default", "priorty": 5}
    errors = mailers_errors(settings, q={"BACKEND": queued, "OPTIONS": options})
    assert errors == [
        (
            "anymail.E005",
            f"MAILERS['q']: unknown option 'priorty' in OPTIONS for {queued}. "
            "Did you mean 'priority'?",
        )
    ]


def test_declared_options_collect_the_whole_hierarchy() -> None:
    from anymail.backends.console import EmailBackend as ConsoleBackend
    from anymail.backends.postal import EmailBackend as PostalBackend

    names, required = declared_options(PostalBackend) or (None, None)
    assert names == {
        "api_key",
        "api_url",
        "timeout",
        "requests_timeout",
        "debug_api_requests",
        "fail_silently",
        "ignore_unsupported_features",
        "ignore_recipient_status",
        "send_defaults",
        "retry_sends",
        "send_concurrency",
    }
    assert required == {"api_key", "api_url"}
    assert declared_options(ConsoleBackend) == (
        {
            "stream",
            "emulate_esp",  # the test backend's option (it reads it; MAILERS may set it)
            "fail_silently",
            "ignore_unsupported_features",
            "ignore_recipient_status",
            "send_defaults",
            "retry_sends",
            "send_concurrency",  # accepted (and unused): MAILERS can switch backends
        },
        frozenset(),
    )
    assert declared_options(DeclaredBackend) is not None
    assert declared_options(UndeclaredBackend) is None
    assert declared_options(UndeclaredSubclass) is None  # its own __init__ is undeclared
