"""Django system checks for Anymail's settings (run by ``manage.py check``).

They cover ``ANYMAIL`` and ``ANYMAIL_*`` settings, the webhook secret, and the
OPTIONS of every Django 6.1 ``MAILERS`` entry that uses an Anymail backend
(against the options that backend declares), so mistakes surface at start-up
rather than at the first send.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from .backends.base import AnymailBaseBackend
from .conf import (
    GLOBAL_SETTINGS,
    RENAMED_SETTINGS,
    get_anymail_setting,
    get_webhook_secrets,
    is_secret_setting,
    is_setting_set,
    missing_option_message,
    renamed_setting_message,
)
from .exceptions import AnymailImproperlyConfigured
from .message import ANYMAIL_MESSAGE_ATTRIBUTES

#: Settings every ESP prefix allows, besides its own.
COMMON_ESP_SETTINGS: frozenset[str] = frozenset(
    {"SEND_DEFAULTS", "WEBHOOK_MAX_AGE", "WEBHOOK_DEDUPE_TTL"}
)

#: Each ESP's settings, by prefix (plus COMMON_ESP_SETTINGS).
ESP_SETTINGS: dict[str, frozenset[str]] = {
    "AMAZON_SES": frozenset(
        {
            "CLIENT_PARAMS",
            "SESSION_PARAMS",
            "CONFIGURATION_SET_NAME",
            "MESSAGE_TAG_NAME",
            "AUTO_CONFIRM_SNS_SUBSCRIPTIONS",
            "VERIFY_SNS_SIGNATURES",
            "SNS_TOPIC_ARNS",
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
    # The queued (background sending) backend's options, as settings.
    "QUEUED": frozenset(
        {
            "MAILER",
            "DELIVERY_BACKEND",
            "DELIVERY_OPTIONS",
            "TASK_BACKEND",
            "QUEUE_NAME",
            "PRIORITY",
            "ENQUEUE_ON_COMMIT",
        }
    ),
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
        names.update(f"{prefix}_{name}" for name in esp_names | COMMON_ESP_SETTINGS)
    return frozenset(names)


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name`` (compared case-insensitively), or None."""
    by_upper = {candidate.upper(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(name.upper(), sorted(by_upper), n=1, cutoff=0.6)
    return by_upper[matches[0]] if matches else None


def _did_you_mean(suggestions: list[str]) -> str:
    if not suggestions:
        return ""
    if len(suggestions) == 1:
        return f" Did you mean {suggestions[0]}?"
    return f" Did you mean {', '.join(suggestions[:-1])} or {suggestions[-1]}?"


def _esp_prefix_of(name: str) -> str | None:
    """The ESP settings prefix an ANYMAIL name starts with ("POSTMARK_X" -> "POSTMARK")."""
    prefixes = [prefix for prefix in ESP_SETTINGS if name.startswith(prefix + "_")]
    return max(prefixes, key=len) if prefixes else None


def _suggest_settings(name: str) -> list[str]:
    """Known settings an unknown ANYMAIL name probably meant.

    A name that starts with an ESP's prefix only gets that ESP's settings, so
    POSTMARK_API_KEY suggests POSTMARK_SERVER_TOKEN, never another ESP's API_KEY.
    """
    upper = name.upper()
    prefix = _esp_prefix_of(upper)
    if prefix is None:
        match = _closest(upper, known_settings())
        return [match] if match else []
    suffix = upper[len(prefix) + 1 :]
    own = ESP_SETTINGS[prefix] | {"SEND_DEFAULTS"}
    if is_secret_setting(suffix):
        # A credential under another name: that ESP's credentials, however spelled.
        match = _closest(suffix, (other for other in own if is_secret_setting(other)))
        candidates = [match] if match else _required_credentials(prefix)
    else:
        match = _closest(suffix, own)
        candidates = [match] if match else []
    return [f"{prefix}_{candidate}" for candidate in candidates]


def _required_credentials(prefix: str) -> list[str]:
    """The secret options that ESP's backend requires, as setting suffixes ("SERVER_TOKEN")."""
    try:
        backend_class = importlib.import_module(f"anymail.backends.{prefix.lower()}").EmailBackend
    except (ImportError, AttributeError):  # e.g. boto3 not installed
        return []
    declared = declared_options(backend_class)
    required = declared[1] if declared else frozenset()
    return sorted(name.upper() for name in required if is_secret_setting(name))


def declared_options(backend_class: type) -> tuple[frozenset[str], frozenset[str]] | None:
    """All the options an Anymail backend class accepts, and those it requires.

    None when a class in its hierarchy has an ``__init__`` but declares no
    ``option_names`` (e.g. a third-party backend): its options are then unknown.
    """
    names: set[str] = set()
    required: set[str] = set()
    for klass in backend_class.__mro__:
        if not issubclass(klass, AnymailBaseBackend):
            continue  # Django's base: its options are not ours to list
        own = vars(klass)
        if "__init__" in own and "option_names" not in own:
            return None
        names.update(own.get("option_names", ()))
        required.update(own.get("required_option_names", ()))
    return frozenset(names), frozenset(required)


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
    for old_name in RENAMED_SETTINGS:
        if is_setting_set(old_name):
            errors.append(checks.Error(renamed_setting_message(old_name), id="anymail.E004"))
    for name in anymail or {}:
        if name not in known and name not in RENAMED_SETTINGS:
            suggestions = [repr(match) for match in _suggest_settings(name)]
            errors.append(
                checks.Warning(
                    f"Unknown Anymail setting ANYMAIL[{name!r}].{_did_you_mean(suggestions)}",
                    hint="Check the spelling against the Anymail settings reference.",
                    id="anymail.W002",
                )
            )
    for attr in dir(settings):
        if attr.startswith("ANYMAIL_"):
            name = attr[len("ANYMAIL_") :]
            if name not in known and name not in RENAMED_SETTINGS:
                suggestions = [f"ANYMAIL_{match}" for match in _suggest_settings(name)]
                errors.append(
                    checks.Warning(
                        f"Unknown Anymail setting {attr}.{_did_you_mean(suggestions)}",
                        hint="Check the spelling against the Anymail settings reference.",
                        id="anymail.W002",
                    )
                )
    errors.extend(_check_send_defaults(anymail or {}))
    errors.extend(_check_mailers())
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
                match = _closest(str(key), SEND_DEFAULTS_KEYS)
                yield checks.Warning(
                    f"Unknown key {key!r} in Anymail setting {name}."
                    f"{_did_you_mean([repr(match)] if match else [])}",
                    hint="Send defaults use message attribute names (tags, metadata ...).",
                    id="anymail.W003",
                )


def _check_mailers() -> Iterator[checks.CheckMessage]:
    """Each Anymail MAILERS entry: unknown OPTIONS keys, missing required options."""
    mailers = getattr(settings, "MAILERS", None)
    if not isinstance(mailers, Mapping):
        return  # Django < 6.1, or a shape Django itself reports
    for alias, config in mailers.items():
        if not isinstance(config, Mapping) or not isinstance(config.get("BACKEND"), str):
            continue
        backend_path = config["BACKEND"]
        try:
            backend_class = import_string(backend_path)
        except ImportError as err:
            if backend_path.startswith("anymail."):
                yield checks.Error(
                    f"MAILERS[{alias!r}]: cannot import BACKEND {backend_path!r}: {err}",
                    id="anymail.E007",
                )
            continue
        if not (isinstance(backend_class, type) and issubclass(backend_class, AnymailBaseBackend)):
            continue
        declared = declared_options(backend_class)
        options = config.get("OPTIONS", {})
        if declared is None or not isinstance(options, Mapping):
            continue
        names, required = declared
        for key in options:
            if key not in names and key != "alias":  # Django reports 'alias' itself
                match = _closest(str(key), names)
                yield checks.Error(
                    f"MAILERS[{alias!r}]: unknown option {key!r} in OPTIONS for {backend_path}."
                    f"{_did_you_mean([repr(match)] if match else [])}",
                    id="anymail.E005",
                )
        esp_name = backend_class.settings_esp_name or backend_class.esp_name
        for name in sorted(required):
            # A setting stands in for the option (bare ones count: better miss than nag).
            if name not in options and not is_setting_set(name, esp_name, allow_bare=True):
                yield checks.Error(
                    f"MAILERS[{alias!r}]: {missing_option_message(name, backend_class.esp_name)}",
                    id="anymail.E006",
                )


def check_webhook_secrets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if any(is_setting_set(old_name) for old_name in RENAMED_SETTINGS):
        return []  # check_anymail_settings reports the old name
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


def check_amazon_ses_webhooks(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    esp_name = "Amazon SES"
    problems = []
    if get_anymail_setting("verify_sns_signatures", default=True, esp_name=esp_name) is False:
        problems.append(
            checks.Warning(
                "ANYMAIL AMAZON_SES_VERIFY_SNS_SIGNATURES is False: Anymail's Amazon SES "
                "webhooks don't check Amazon SNS signatures, so anyone who can reach them "
                "can forge tracking events and received mail.",
                hint="Remove the setting unless something in front of Django re-signs SNS "
                "posts; keep WEBHOOK_SECRET in the subscription URLs either way.",
                id="anymail.W005",
            )
        )
    try:
        secrets = get_webhook_secrets()
    except AnymailImproperlyConfigured:
        return problems  # check_webhook_secrets reports it
    if (
        not secrets
        and get_anymail_setting("sns_topic_arns", default=None, esp_name=esp_name) is None
        and any(view.esp_name == esp_name for view in routed_webhook_views())
    ):
        problems.append(
            checks.Warning(
                "Anymail's Amazon SES webhooks are routed, but neither ANYMAIL WEBHOOK_SECRET "
                "nor AMAZON_SES_SNS_TOPIC_ARNS is set: any AWS account's SNS topic can post "
                "to them.",
                hint="Set WEBHOOK_SECRET and use it in the SNS subscription URLs, or list "
                "your topics' ARNs in AMAZON_SES_SNS_TOPIC_ARNS.",
                id="anymail.W006",
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
