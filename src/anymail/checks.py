"""Django system checks for Anymail's settings (run by ``manage.py check``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core import checks

from .conf import GLOBAL_SETTINGS, get_webhook_secrets
from .exceptions import AnymailImproperlyConfigured
from .message import ANYMAIL_MESSAGE_ATTRIBUTES

#: Each ESP's settings, by prefix. (SEND_DEFAULTS is allowed for every ESP.)
ESP_SETTINGS: dict[str, frozenset[str]] = {
    "AMAZON_SES": frozenset(
        {
            "CLIENT_PARAMS",
            "SESSION_PARAMS",
            "CONFIGURATION_SET_NAME",
            "MESSAGE_TAG_NAME",
            "AUTO_CONFIRM_SNS_SUBSCRIPTIONS",
        }
    ),
    "BREVO": frozenset(
        {"API_KEY", "API_URL", "WORKAROUND_DISPLAY_NAME_BUGS", "PREVENT_HEADER_ENCODING_BUGS"}
    ),
    # Deprecated alias of Brevo: same settings, old prefix.
    "SENDINBLUE": frozenset(
        {"API_KEY", "API_URL", "WORKAROUND_DISPLAY_NAME_BUGS", "PREVENT_HEADER_ENCODING_BUGS"}
    ),
    "MAILGUN": frozenset({"API_KEY", "API_URL", "SENDER_DOMAIN", "WEBHOOK_SIGNING_KEY"}),
    "MAILJET": frozenset({"API_KEY", "SECRET_KEY", "API_URL"}),
    "MANDRILL": frozenset({"API_KEY", "API_URL", "WEBHOOK_KEY", "WEBHOOK_URL"}),
    "POSTAL": frozenset({"API_KEY", "API_URL", "WEBHOOK_KEY"}),
    "POSTMARK": frozenset({"SERVER_TOKEN", "API_URL"}),
    "RESEND": frozenset(
        {"API_KEY", "API_URL", "SIGNING_SECRET", "INBOUND_SECRET", "VERIFY_ATTACHMENT_EXTENSIONS"}
    ),
    "SCALEWAY": frozenset({"SECRET_KEY", "PROJECT_ID", "REGION", "API_URL"}),
    "SENDGRID": frozenset(
        {
            "API_KEY",
            "API_URL",
            "GENERATE_MESSAGE_ID",
            "MERGE_FIELD_FORMAT",
            "TRACKING_WEBHOOK_VERIFICATION_KEY",
        }
    ),
    "SPARKPOST": frozenset({"API_KEY", "API_URL", "SUBACCOUNT", "TRACK_INITIAL_OPEN_AS_OPENED"}),
    "TEST": frozenset({"EMULATE_ESP"}),
    "CONSOLE": frozenset({"EMULATE_ESP"}),
}

#: Keys allowed in SEND_DEFAULTS: Django EmailMessage attributes and Anymail's.
SEND_DEFAULTS_KEYS = frozenset(
    {
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
        *ANYMAIL_MESSAGE_ATTRIBUTES,
    }
)

#: Recommended minimum length of each half of a "random:random" webhook secret.
MIN_SECRET_PART_LENGTH = 16


def known_settings() -> frozenset[str]:
    names = set(GLOBAL_SETTINGS)
    for prefix, esp_names in ESP_SETTINGS.items():
        names.add(f"{prefix}_SEND_DEFAULTS")
        names.update(f"{prefix}_{name}" for name in esp_names)
    return frozenset(names)


def _did_you_mean(name: str, candidates: frozenset[str], setting_prefix: str = "") -> str:
    """A hint naming the closest candidate (case-insensitively), or "" if none is close."""
    by_upper = {candidate.upper(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(name.upper(), sorted(by_upper), n=1, cutoff=0.6)
    if not matches:
        return ""
    match = by_upper[matches[0]]
    suggestion = f"{setting_prefix}{match}" if setting_prefix else repr(match)
    return f" Did you mean {suggestion}?"


def check_anymail_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    anymail = getattr(settings, "ANYMAIL", None)
    if anymail is not None and not isinstance(anymail, Mapping):
        return [
            checks.Error(
                f"settings.ANYMAIL must be a dict, not {type(anymail).__name__}.",
                id="anymail.E001",
            )
        ]
    known = known_settings()
    for name in anymail or {}:
        if name not in known:
            errors.append(
                checks.Warning(
                    f"Unknown Anymail setting ANYMAIL[{name!r}].{_did_you_mean(name, known)}",
                    hint="Check the spelling against the Anymail settings reference.",
                    id="anymail.W002",
                )
            )
    for attr in dir(settings):
        if attr.startswith("ANYMAIL_"):
            name = attr[len("ANYMAIL_") :]
            if name not in known:
                errors.append(
                    checks.Warning(
                        f"Unknown Anymail setting {attr}."
                        f"{_did_you_mean(name, known, setting_prefix='ANYMAIL_')}",
                        hint="Check the spelling against the Anymail settings reference.",
                        id="anymail.W002",
                    )
                )
    errors.extend(_check_send_defaults(anymail or {}))
    return errors


def _check_send_defaults(anymail: Mapping[str, Any]) -> Iterator[checks.CheckMessage]:
    for name in sorted(known_settings()):
        if not name.endswith("SEND_DEFAULTS"):
            continue
        value = anymail.get(name, getattr(settings, f"ANYMAIL_{name}", None))
        if value is None:
            continue
        if not isinstance(value, Mapping):
            yield checks.Error(
                f"Anymail setting {name} must be a dict, not {type(value).__name__}.",
                id="anymail.E002",
            )
            continue
        for key in value:
            if key not in SEND_DEFAULTS_KEYS:
                yield checks.Warning(
                    f"Unknown key {key!r} in Anymail setting {name}."
                    f"{_did_you_mean(str(key), SEND_DEFAULTS_KEYS)}",
                    hint="Send defaults use message attribute names (tags, metadata ...).",
                    id="anymail.W003",
                )


def check_webhook_secrets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        secrets = get_webhook_secrets()
    except AnymailImproperlyConfigured as err:
        return [checks.Error(str(err), id="anymail.E003")]
    if not secrets:
        unprotected = sorted(
            view.__name__ for view in routed_webhook_views() if view.warn_if_no_basic_auth
        )
        if unprotected:
            return [
                checks.Warning(
                    "Anymail webhooks are routed but ANYMAIL WEBHOOK_SECRET is not set, so "
                    f"anyone can post fake events to them ({', '.join(unprotected)}).",
                    hint='Set ANYMAIL = {"WEBHOOK_SECRET": "<random>:<random>"} and add '
                    "those credentials to the webhook URL at your ESP.",
                    id="anymail.W001",
                )
            ]
        return []
    problems = []
    for index, secret in enumerate(secrets):
        username, colon, password = secret.partition(":")
        if (
            not colon
            or len(username) < MIN_SECRET_PART_LENGTH
            or len(password) < MIN_SECRET_PART_LENGTH
        ):
            # Say which entry, never what it contains.
            which = f"entry {index + 1} of " if len(secrets) > 1 else ""
            problems.append(
                checks.Warning(
                    f"ANYMAIL WEBHOOK_SECRET ({which}the setting) is too weak: use two "
                    f"random strings of at least {MIN_SECRET_PART_LENGTH} characters "
                    "each, separated by a colon.",
                    hint='Generate one with: python -c "from django.utils.crypto import '
                    "get_random_string as r; print(r(16) + ':' + r(16))\"",
                    id="anymail.W004",
                )
            )
    return problems


def routed_webhook_views() -> list[Any]:
    """Anymail webhook view classes reachable from the project's root URLconf."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from .webhooks.base import AnymailBaseWebhookView

    found: list[Any] = []

    def walk(patterns: Any) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None)
                if isinstance(view_class, type) and issubclass(view_class, AnymailBaseWebhookView):
                    found.append(view_class)

    try:
        walk(get_resolver().url_patterns)
    except Exception:
        return []
    return found
