"""Django system checks for Anymail's settings (run by ``manage.py check``).

They cover ``ANYMAIL`` and ``ANYMAIL_*`` settings (against the settings the code
declares: ``anymail._settings_registry``), the webhook secret, and the OPTIONS of
every Django 6.1 ``MAILERS`` entry that uses an Anymail backend (against the
options that backend declares), so mistakes surface at start-up rather than at
the first send.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from django.core import checks
from django.utils.module_loading import import_string

from . import _settings_registry as registry
from ._features import SEND_DEFAULTS_KEYS
from .backends.base import AnymailBaseBackend
from .conf import (
    RENAMED_SETTINGS,
    get_django_setting,
    get_setting,
    get_webhook_secrets,
    is_setting_set,
    missing_option_message,
    prefixed_setting_names,
    renamed_setting_message,
)
from .exceptions import AnymailImproperlyConfigured, AnymailImproperlyInstalled

#: Recommended minimum length of each half of a "random:random" webhook secret.
MIN_SECRET_PART_LENGTH = 16

#: Where the hint of an unknown setting points.
SETTINGS_REFERENCE: Final = "the settings reference (docs/settings.md)"

#: An unknown name that looks like a credential ("POSTMARK_API_KEY" for _SERVER_TOKEN).
_CREDENTIAL_WORDS: Final = re.compile(r"KEY|TOKEN|SECRET|PASSWORD")


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
    prefixes = [prefix for prefix in registry.esp_prefixes() if name.startswith(prefix + "_")]
    return max(prefixes, key=len) if prefixes else None


def _suggest_settings(name: str) -> list[str]:
    """Declared settings an unknown ANYMAIL name probably meant.

    A name that starts with an ESP's prefix only gets that ESP's settings, so
    POSTMARK_API_KEY suggests POSTMARK_SERVER_TOKEN, never another ESP's API_KEY;
    a name that looks like a credential only gets that ESP's keys and secrets.
    """
    upper = name.upper()
    prefix = _esp_prefix_of(upper)
    if prefix is None:
        match = _closest(upper, registry.known_names())
        return [match] if match else []
    suffix = upper[len(prefix) + 1 :]
    own = registry.esp_entries(prefix)
    if _CREDENTIAL_WORDS.search(suffix):
        # A credential under another name: that ESP's keys (secret or public), else the
        # secrets it requires, however spelled.
        keys = [
            entry for entry in own if entry.setting.secret or _CREDENTIAL_WORDS.search(entry.suffix)
        ]
        match = _closest(suffix, (entry.suffix for entry in keys))
        candidates = (
            [match]
            if match
            else [entry.suffix for entry in own if entry.setting.secret and entry.required]
        )
    else:
        match = _closest(suffix, (entry.suffix for entry in own))
        candidates = [match] if match else []
    return [f"{prefix}_{candidate}" for candidate in candidates]


def declared_options(backend_class: type) -> tuple[frozenset[str], frozenset[str]] | None:
    """All the options an Anymail backend class accepts, and those it requires.

    Read from each class's ``declared_settings`` (or, for a third-party backend, its
    ``option_names`` and ``required_option_names``). None when a class in its
    hierarchy has an ``__init__`` but declares neither: its options are then unknown.
    """
    names: set[str] = set()
    required: set[str] = set()
    for klass in backend_class.__mro__:
        if not issubclass(klass, AnymailBaseBackend) and "declared_settings" not in vars(klass):
            continue  # Django's base: its options are not ours to list
        own = vars(klass)
        if "declared_settings" in own:
            for setting in own["declared_settings"]:
                if setting.option and setting.name not in names:
                    names.add(setting.name)  # a subclass's declaration wins
                    if setting.required:
                        required.add(setting.name)
        elif "option_names" in own:
            names.update(own["option_names"])
            required.update(own.get("required_option_names", ()))
        elif "__init__" in own:
            return None
    return frozenset(names), frozenset(required)


def _is_anymail_backend(backend_class: type) -> bool:
    # Anymail's ESP backends, and the queued backend (not an AnymailBaseBackend: it never
    # talks to an ESP), which declares its options the same way.
    return issubclass(backend_class, AnymailBaseBackend) or (
        backend_class.__module__.startswith("anymail.")
        and "declared_settings" in vars(backend_class)
    )


def check_anymail_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    anymail = get_django_setting("ANYMAIL")
    if anymail is not None and not isinstance(anymail, Mapping):
        return [
            checks.Error(
                f"settings.ANYMAIL must be a dict, not {type(anymail).__name__}.",
                id="anymail.E001",
            )
        ]
    known = registry.known_names()
    for old_name in RENAMED_SETTINGS:
        if is_setting_set(old_name):
            errors.append(checks.Error(renamed_setting_message(old_name), id="anymail.E004"))
    for name in anymail or {}:
        if name not in known and name not in RENAMED_SETTINGS:
            suggestions = [repr(match) for match in _suggest_settings(name)]
            errors.append(
                checks.Warning(
                    f"Unknown Anymail setting ANYMAIL[{name!r}].{_did_you_mean(suggestions)}",
                    hint=f"Check the spelling against {SETTINGS_REFERENCE}.",
                    id="anymail.W002",
                )
            )
    for attr in prefixed_setting_names():
        name = attr[len("ANYMAIL_") :]
        if name not in known and name not in RENAMED_SETTINGS:
            suggestions = [f"ANYMAIL_{match}" for match in _suggest_settings(name)]
            errors.append(
                checks.Warning(
                    f"Unknown Anymail setting {attr}.{_did_you_mean(suggestions)}",
                    hint=f"Check the spelling against {SETTINGS_REFERENCE}.",
                    id="anymail.W002",
                )
            )
    errors.extend(_check_send_defaults(anymail or {}))
    errors.extend(_check_mailers())
    return errors


def _check_send_defaults(anymail: Mapping[str, Any]) -> Iterator[checks.CheckMessage]:
    for name in sorted(registry.known_names()):
        if not name.endswith("SEND_DEFAULTS"):
            continue
        value = anymail.get(name, get_django_setting(f"ANYMAIL_{name}"))
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
    mailers = get_django_setting("MAILERS")
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
        if not (isinstance(backend_class, type) and _is_anymail_backend(backend_class)):
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
        esp_name = registry.settings_esp_name(backend_class)
        for name in sorted(required):
            # A setting stands in for the option (bare ones count: better miss than nag).
            if name not in options and not is_setting_set(name, esp_name, allow_bare=True):
                yield checks.Error(
                    f"MAILERS[{alias!r}]: {missing_option_message(name, esp_name)}",
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
    from .webhooks._amazon_sns import ESP_NAME as esp_name
    from .webhooks._amazon_sns import VERIFY_SNS_SIGNATURES

    problems = []
    if get_setting(VERIFY_SNS_SIGNATURES, esp_name, check=False) is False:
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
    return (
        problems
        + _pinned_certificates_problems(esp_name)
        + _any_topic_can_post(esp_name, "AWS account's SNS topic", "SNS")
    )


def check_scaleway_webhooks(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _pinned_certificates_problems("Scaleway") + _any_topic_can_post(
        "Scaleway", "Scaleway account's Topics and Events topic", "Topics and Events"
    )


def _pinned_certificates_problems(esp_name: str) -> list[checks.CheckMessage]:
    """anymail.E008: <ESP>_SNS_SIGNING_CERTIFICATES that the webhook view would refuse."""
    from .webhooks._sns_pinning import certificate_cache

    try:
        certificate_cache(esp_name)
    except (AnymailImproperlyConfigured, AnymailImproperlyInstalled) as err:
        return [checks.Error(str(err), id="anymail.E008")]
    return []


def _any_topic_can_post(esp_name: str, who: str, service: str) -> list[checks.CheckMessage]:
    """anymail.W006: an SNS-delivered ESP's webhooks are routed, and nothing ties the
    posts to the user's topics (a signature only proves the service sent them)."""
    try:
        secrets = get_webhook_secrets()
    except AnymailImproperlyConfigured:
        return []  # check_webhook_secrets reports it
    from .webhooks._sns import SNS_TOPIC_ARNS

    topics = SNS_TOPIC_ARNS.full_name(esp_name)
    if (
        secrets
        or get_setting(SNS_TOPIC_ARNS, esp_name) is not None
        or not any(view.esp_name == esp_name for view in routed_webhook_views())
    ):
        return []
    return [
        checks.Warning(
            f"Anymail's {esp_name} webhooks are routed, but neither ANYMAIL WEBHOOK_SECRET "
            f"nor {topics} is set: any {who} can post to them.",
            hint=f"Set WEBHOOK_SECRET and use it in the {service} subscription URLs, or list "
            f"your topics' ARNs in {topics}.",
            id="anymail.W006",
        )
    ]


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
