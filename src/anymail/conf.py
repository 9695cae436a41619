"""Settings resolution: the only place Anymail reads Django settings.

One precedence, for every setting:

1. a keyword argument given where the object is made (``get_connection(api_key=...)``,
   Django 6.1 ``MAILERS[alias]["OPTIONS"]``, or ``View.as_view(...)``), named as the
   setting without "ANYMAIL" and the ESP prefix, lowercased;
2. ``settings.ANYMAIL["<ESP>_<NAME>"]``;
3. ``settings.ANYMAIL_<ESP>_<NAME>``;
4. ``settings.<ESP>_<NAME>``, only for settings documented as allowed "bare"
   (mostly API keys that other Django apps share);
5. the default.

A required setting that is missing raises :exc:`AnymailImproperlyConfigured`
naming every place that was looked at (:exc:`AnymailInvalidMailer`, naming the
alias and the option, for a backend made from Django 6.1 ``MAILERS``). Setting
*values* never appear in a message: many of them are secrets.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, Final

from django.conf import settings

from .exceptions import (
    AnymailDeprecationWarning,
    AnymailImproperlyConfigured,
    AnymailInvalidMailer,
)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: Marks "no default": the setting is required.
UNSET: Final = _Unset()

#: Settings that apply to every ESP (the keys allowed in ANYMAIL without a prefix).
GLOBAL_SETTINGS: Final = frozenset(
    {
        "DEBUG_API_REQUESTS",
        "IGNORE_RECIPIENT_STATUS",
        "IGNORE_UNSUPPORTED_FEATURES",
        "INBOUND_MAX_DEPTH",
        "INBOUND_MAX_PARTS",
        "INBOUND_MAX_SIZE",
        "REQUESTS_TIMEOUT",
        "SEND_CONCURRENCY",
        "SEND_DEFAULTS",
        "WEBHOOK_DEDUPE_CACHE",
        "WEBHOOK_DEDUPE_PREFIX",
        "WEBHOOK_MAX_BODY_SIZE",
        "WEBHOOK_SECRET",
    }
)

#: Settings renamed long ago and no longer read: old name -> new name. Reading the
#: new name refuses the old one (so a forgotten rename is an error, not a silent no-op).
RENAMED_SETTINGS: Final = {"WEBHOOK_AUTHORIZATION": "WEBHOOK_SECRET"}

#: Default for REQUESTS_TIMEOUT, in seconds.
DEFAULT_REQUESTS_TIMEOUT: Final = 30.0


def setting_name(name: str, esp_name: str | None = None) -> str:
    """The full setting name, e.g. ("api_key", "Postmark") -> "POSTMARK_API_KEY"."""
    name = name.upper()
    if esp_name:
        return f"{esp_prefix(esp_name)}_{name}"
    return name


def esp_prefix(esp_name: str) -> str:
    """The settings prefix for an ESP name: "Amazon SES" -> "AMAZON_SES"."""
    return esp_name.upper().replace(" ", "_").replace("-", "_")


def is_secret_setting(name: str) -> bool:
    """Whether a setting's value must never be shown (keys, tokens, secrets)."""
    upper = name.upper()
    return any(word in upper for word in ("KEY", "TOKEN", "SECRET", "PASSWORD"))


def get_anymail_setting(
    name: str,
    default: Any = UNSET,
    esp_name: str | None = None,
    kwargs: MutableMapping[str, Any] | None = None,
    allow_bare: bool = False,
    deprecated_esp_names: Sequence[str] = (),
) -> Any:
    """Return the value of an Anymail setting, following the documented precedence.

    ``name`` is the setting without prefixes, in any case ("api_key"). With
    ``esp_name``, the ESP's prefix is added ("POSTMARK_API_KEY"). If ``kwargs``
    is given and has the lowercased name, that value is *popped* from it (so a
    backend can hand the leftovers to Django, which reports unknown options).

    ``deprecated_esp_names`` are older prefixes for the same ESP (e.g. an ESP
    that was renamed); a value found under one of them is used, with an
    :class:`AnymailDeprecationWarning` that says what to rename.
    """
    kwarg_name = name.lower()
    if kwargs is not None and kwarg_name in kwargs:
        return kwargs.pop(kwarg_name)

    full_name = setting_name(name, esp_name)
    found, value = _lookup(full_name, allow_bare)
    if found:
        return value

    for old_esp_name in deprecated_esp_names:
        old_name = setting_name(name, old_esp_name)
        found, value = _lookup(old_name, allow_bare)
        if found:
            warnings.warn(
                f"The Anymail setting {old_name} is deprecated: rename it to {full_name} "
                f"(in your ANYMAIL settings dict, or as ANYMAIL_{full_name}).",
                AnymailDeprecationWarning,
                stacklevel=2,
            )
            return value

    if default is UNSET:
        alias = kwargs.get("alias") if kwargs is not None else None
        if alias is not None:
            # Made by Django 6.1 from MAILERS[alias]: point at that entry's OPTIONS.
            raise AnymailInvalidMailer(missing_option_message(name, esp_name), alias=alias)
        raise AnymailImproperlyConfigured(
            missing_setting_message(name, esp_name, allow_bare, kwarg_name)
        )
    return default


def _lookup(full_name: str, allow_bare: bool) -> tuple[bool, Any]:
    anymail_settings = getattr(settings, "ANYMAIL", None) or {}
    if not isinstance(anymail_settings, Mapping):
        raise AnymailImproperlyConfigured(
            f"settings.ANYMAIL must be a dict, not {type(anymail_settings).__name__}."
        )
    if full_name in anymail_settings:
        return True, anymail_settings[full_name]
    prefixed = f"ANYMAIL_{full_name}"
    if hasattr(settings, prefixed):
        return True, getattr(settings, prefixed)
    if allow_bare and hasattr(settings, full_name):
        return True, getattr(settings, full_name)
    return False, None


def missing_setting_message(
    name: str, esp_name: str | None, allow_bare: bool, kwarg_name: str | None = None
) -> str:
    full_name = setting_name(name, esp_name)
    kwarg_name = kwarg_name or name.lower()
    places = [f'ANYMAIL = {{"{full_name}": ...}}', f"ANYMAIL_{full_name}"]
    if allow_bare:
        places.append(full_name)
    return (
        f"Missing required Anymail setting {full_name}. Set it in your settings.py as "
        f"{_or_list(places)}, or pass {kwarg_name}=... to the email backend "
        f"(get_connection() keyword argument or MAILERS OPTIONS)."
    )


def missing_option_message(name: str, esp_name: str | None) -> str:
    """A required backend option missing from a MAILERS entry (Django adds the alias)."""
    full_name = setting_name(name, esp_name)
    scope = f"all {esp_name} mailers" if esp_name else "all mailers"
    return f'OPTIONS must define {name.lower()!r} (or set ANYMAIL["{full_name}"] for {scope}).'


def is_setting_set(name: str, esp_name: str | None = None, allow_bare: bool = False) -> bool:
    """Whether a setting is present in settings.py (for checks; never reads its value)."""
    return _lookup(setting_name(name, esp_name), allow_bare)[0]


def _or_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def invalid_setting(name: str, esp_name: str | None, problem: str) -> AnymailImproperlyConfigured:
    """An error for a setting whose value is wrong (never quoting the value itself)."""
    return AnymailImproperlyConfigured(
        f"Invalid Anymail setting {setting_name(name, esp_name)}: {problem}"
    )


#: What a credential sent in an HTTP header may look like: printable ASCII, no spaces.
#: (Checked when the backend is made: a bad value would otherwise fail later, in
#: requests, whose error message quotes the header value, i.e. the secret.)
CREDENTIAL_RE: Final = re.compile(r"[\x21-\x7e]+")


def is_valid_credential(value: Any) -> bool:
    return isinstance(value, str) and CREDENTIAL_RE.fullmatch(value) is not None


def get_credential_setting(
    name: str,
    esp_name: str,
    kwargs: MutableMapping[str, Any] | None,
    description: str,
    allow_bare: bool = True,
) -> str:
    """A required credential (API key, token), checked without ever showing it.

    ``description`` says what the ESP calls it and where to find it, for the error.
    """
    value = get_anymail_setting(name, esp_name=esp_name, kwargs=kwargs, allow_bare=allow_bare)
    if not is_valid_credential(value):
        raise invalid_setting(
            name,
            esp_name,
            f"expected {description}: a non-empty string without spaces or line breaks.",
        )
    return str(value)


def get_bool_setting(
    name: str,
    default: bool,
    esp_name: str | None = None,
    kwargs: MutableMapping[str, Any] | None = None,
) -> bool:
    value = get_anymail_setting(name, default=default, esp_name=esp_name, kwargs=kwargs)
    if not isinstance(value, bool):
        raise invalid_setting(name, esp_name, f"expected True or False, got {value!r}.")
    return value


def get_positive_int_setting(
    name: str,
    default: int,
    esp_name: str | None = None,
    kwargs: MutableMapping[str, Any] | None = None,
) -> int:
    value = get_anymail_setting(name, default=default, esp_name=esp_name, kwargs=kwargs)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise invalid_setting(name, esp_name, f"expected a positive whole number, got {value!r}.")
    return value


def get_django_setting(name: str, default: Any = None) -> Any:
    """A Django setting that Anymail follows, e.g. FILE_UPLOAD_TEMP_DIR."""
    return getattr(settings, name, default)


def get_requests_timeout(kwargs: MutableMapping[str, Any] | None = None) -> Any:
    """REQUESTS_TIMEOUT: a number, a (connect, read) pair, or None (no timeout).

    A ``timeout`` backend option (the name Django's own backends use) means the same
    and wins over the setting.
    """
    if kwargs is not None and "timeout" in kwargs:
        if "requests_timeout" in kwargs:
            raise AnymailImproperlyConfigured(
                "Both timeout and requests_timeout options were given to the email backend. "
                "They mean the same: keep only timeout."
            )
        return get_timeout_option(kwargs)
    value = get_anymail_setting("requests_timeout", default=DEFAULT_REQUESTS_TIMEOUT, kwargs=kwargs)
    return _timeout_value(value, "Invalid Anymail setting REQUESTS_TIMEOUT")


def get_timeout_option(kwargs: MutableMapping[str, Any]) -> Any:
    """Pop and check the ``timeout`` backend option (UNSET when not given)."""
    if "timeout" not in kwargs:
        return UNSET
    return _timeout_value(kwargs.pop("timeout"), "Invalid timeout option for the email backend")


def _timeout_value(value: Any, problem: str) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        pass  # bool is an int subclass, but never a sensible timeout
    elif isinstance(value, int | float) and value > 0:
        return float(value)
    elif (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(
            part is None or (isinstance(part, int | float) and not isinstance(part, bool))
            for part in value
        )
    ):
        return tuple(value)
    raise AnymailImproperlyConfigured(
        f"{problem}: expected seconds as a number, a (connect, read) tuple, or None; got {value!r}."
    )


def get_webhook_secrets(kwargs: MutableMapping[str, Any] | None = None) -> list[str]:
    """WEBHOOK_SECRET as a list of 'user:password' strings (empty only when unset).

    A ``webhook_secret`` keyword (``as_view(webhook_secret=...)``) replaces the
    setting; ``None`` there means "use the setting". An empty or blank secret, or an
    empty list, is an error: it must never quietly turn basic auth off.
    """
    _refuse_renamed("WEBHOOK_SECRET")
    if kwargs is not None and kwargs.get("webhook_secret", "") is None:
        del kwargs["webhook_secret"]
    source = (
        "webhook_secret argument of as_view()"
        if kwargs is not None and "webhook_secret" in kwargs
        else "Anymail setting WEBHOOK_SECRET"
    )
    value = get_anymail_setting("webhook_secret", default=None, kwargs=kwargs)
    if value is None:
        return []
    if isinstance(value, str):
        secrets = [value]
    elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        secrets = list(value)
    else:
        raise AnymailImproperlyConfigured(
            f"Invalid {source}: expected a 'random:random' string or a list of such strings."
        )
    if not secrets:
        raise AnymailImproperlyConfigured(
            f"Invalid {source}: the list is empty, which would turn webhook basic auth off. "
            "Add a 'random:random' secret, or remove the setting."
        )
    for index, secret in enumerate(secrets):
        # ":" is as empty as "": no user name and no password.
        if not secret.replace(":", "").strip():
            which = f"entry {index + 1} is" if len(secrets) > 1 else "it is"
            raise AnymailImproperlyConfigured(
                f"Invalid {source}: {which} empty or blank, which would turn webhook basic "
                "auth off. Use 'random:random' credentials, or remove the setting."
            )
    return secrets


def _refuse_renamed(new_name: str) -> None:
    for old_name in (old for old, new in RENAMED_SETTINGS.items() if new == new_name):
        if is_setting_set(old_name):
            raise AnymailImproperlyConfigured(renamed_setting_message(old_name))


def renamed_setting_message(old_name: str) -> str:
    new_name = RENAMED_SETTINGS[old_name]
    return (
        f"The Anymail setting {old_name} is an old name of {new_name} and is no longer "
        f"read: rename it to {new_name}."
    )


def get_send_defaults(esp_name: str | None) -> dict[str, Any]:
    """SEND_DEFAULTS updated with <ESP>_SEND_DEFAULTS (ESP values replace global ones)."""
    defaults = _dict_setting("send_defaults", None)
    if esp_name:
        defaults.update(_dict_setting("send_defaults", esp_name))
    return defaults


def _dict_setting(name: str, esp_name: str | None) -> dict[str, Any]:
    value = get_anymail_setting(name, default=None, esp_name=esp_name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid_setting(name, esp_name, f"expected a dict, got {type(value).__name__}.")
    return dict(value)
