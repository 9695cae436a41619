"""Settings resolution: the only place Anymail reads Django settings.

One precedence, for every setting:

1. a keyword argument given where the object is made (``get_connection(api_key=...)``,
   Django 6.1 ``MAILERS[alias]["OPTIONS"]``, or ``View.as_view(...)``), named as the
   setting without "ANYMAIL" and the ESP prefix, lowercased;
2. ``settings.ANYMAIL["<ESP>_<NAME>"]``;
3. ``settings.ANYMAIL_<ESP>_<NAME>``;
4. ``settings.<ESP>_<NAME>``, only for settings declared "bare" (mostly API keys
   that other Django apps share);
5. the default.

A required setting that is missing raises :exc:`AnymailImproperlyConfigured`
naming every place that was looked at (:exc:`AnymailInvalidMailer`, naming the
alias and the option, for a backend made from Django 6.1 ``MAILERS``). Setting
*values* never appear in a message: many of them are secrets.

Every setting is declared once, as a :class:`Setting` (name, type, default,
secrecy, where it may be set, one line of help) on the backend or webhook view
that reads it, and read through :func:`get_setting` or a typed getter
(:func:`get_bool`, :func:`get_credential` ...). The system checks and the
settings reference in the docs are made from the same declarations
(``anymail._settings_registry``). Django's own settings that Anymail follows are
read through :func:`get_django_setting`, and the commands that run without a
project (``anymail demo``, ``anymail sandbox``) configure Django through
:func:`configure_standalone`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings

from .exceptions import (
    AnymailDeprecationWarning,
    AnymailImproperlyConfigured,
    AnymailInvalidMailer,
)

#: What backend and webhook authors use. (checks.py and Anymail's own modules
#: also use the helpers below that name and describe settings.)
__all__ = [
    "BOOL",
    "CREDENTIAL",
    "DICT",
    "ESP_SEND_DEFAULTS",
    "FAIL_SILENTLY",
    "IGNORE_RECIPIENT_STATUS",
    "IGNORE_UNSUPPORTED_FEATURES",
    "OBJECT",
    "POSITIVE_INT",
    "REQUESTS_TIMEOUT",
    "SECONDS",
    "SEND_DEFAULTS",
    "STRING",
    "STRINGS",
    "TEXT",
    "TIMEOUT",
    "TIMEOUT_OPTION",
    "UNSET",
    "URL",
    "WEBHOOK_SECRET",
    "Setting",
    "SettingType",
    "credential_setting",
    "get_anymail_setting",
    "get_bool",
    "get_credential",
    "get_dict",
    "get_django_setting",
    "get_positive_int",
    "get_requests_timeout",
    "get_send_defaults",
    "get_setting",
    "get_text",
    "get_timeout_option",
    "get_webhook_secrets",
    "invalid_setting",
    "is_valid_credential",
]


class Sentinel:
    """A marker that is only ever compared by identity, shown by its name."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: Marks "no default": the setting is required.
UNSET: Final = Sentinel("UNSET")

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


def is_setting_set(
    name: str | Setting, esp_name: str | None = None, allow_bare: bool = False
) -> bool:
    """Whether a setting is present in settings.py (for checks; never reads its value).

    For a declared :class:`Setting`, its declaration says whether it is per ESP and bare.
    """
    if isinstance(name, Setting):
        return _lookup(name.full_name(esp_name), name.bare)[0]
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


# --- declarations --------------------------------------------------------------------


@dataclass(frozen=True)
class SettingType:
    """What a setting's value may be: the docs' name for it, and its check."""

    label: str
    #: What is wrong with a value, for the error (never quoting a secret), or None
    #: when it is fine. None here: the reader checks the value, in its own words.
    problem: Callable[[Any, Setting], str | None] | None = None


@dataclass(frozen=True)
class Setting:
    """One setting, declared by the backend or webhook view that reads it.

    ``name`` is lowercase, without prefixes ("api_key"): the keyword argument
    (backend option, ``as_view()`` argument) and, uppercased after the ESP's
    prefix, the setting ("POSTMARK_API_KEY").
    """

    name: str
    type: SettingType
    #: One line for the settings reference (for a credential, also the error's words).
    help: str
    #: UNSET: required.
    default: Any = UNSET
    #: A default that depends on the declaring class (a backend's API URL, an ESP's
    #: window): a function of that class, for the docs; the reader passes ``default=``.
    default_for: Callable[[Any], Any] | None = None
    #: How the docs show a default that is not a single value.
    default_doc: str | None = None
    #: Its value is never shown (in errors, logs or the checks' messages).
    secret: bool = False
    #: Named after the ESP ("POSTMARK_..."); False for a setting of all ESPs.
    per_esp: bool = True
    #: Also read as a bare Django setting ("MAILGUN_API_KEY" at the root of settings.py).
    bare: bool = False
    #: Also a keyword argument: a backend option (``get_connection()``, MAILERS
    #: OPTIONS), or an ``as_view()`` argument where the view has that attribute.
    option: bool = True
    #: Read from settings.py; False for a keyword argument only (``fail_silently``).
    in_settings: bool = True

    @property
    def required(self) -> bool:
        return self.default is UNSET and self.default_for is None

    def full_name(self, esp_name: str | None = None) -> str:
        """The setting's name for that ESP: "POSTMARK_SERVER_TOKEN", "REQUESTS_TIMEOUT"."""
        return setting_name(self.name, esp_name if self.per_esp else None)


def credential_setting(name: str, help: str) -> Setting:
    """An ESP's credential: secret, and also read as a bare setting ("POSTMARK_SERVER_TOKEN").

    ``help`` says what it is ("a Postmark server token (...)"): the docs' line and
    the words of the missing or invalid credential errors.
    """
    return Setting(name, CREDENTIAL, help, secret=True, bare=True)


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _optional(setting: Setting) -> str:
    return " or None" if setting.default is None else ""


#: Types whose check is declared here; the others name the type for the docs and
#: leave the check (and its message) to the reader.
BOOL: Final = SettingType(
    "True or False",
    lambda value, setting: (
        None if isinstance(value, bool) else f"expected True or False, got {value!r}."
    ),
)
POSITIVE_INT: Final = SettingType(
    "positive whole number",
    lambda value, setting: (
        None if _is_positive_int(value) else f"expected a positive whole number, got {value!r}."
    ),
)
#: An API key or token: it goes in a header, so printable ASCII without spaces.
CREDENTIAL: Final = SettingType(
    "string",
    lambda value, setting: (
        None
        if is_valid_credential(value)
        else f"expected {setting.help}: a non-empty string without spaces or line breaks."
    ),
)
TEXT: Final = SettingType(
    "string",
    lambda value, setting: (
        None
        if (isinstance(value, str) and value) or (value is None and setting.default is None)
        else f"expected a non-empty string{_optional(setting)}."
    ),
)
DICT: Final = SettingType(
    "dict",
    lambda value, setting: (
        None
        if isinstance(value, Mapping) or (value is None and setting.default is None)
        else f"expected a dict, got {type(value).__name__}."
    ),
)
STRING: Final = SettingType("string")
URL: Final = SettingType("URL")
SECONDS: Final = SettingType("seconds")
TIMEOUT: Final = SettingType("seconds, a (connect, read) pair, or None")
STRINGS: Final = SettingType("string or list of strings")
OBJECT: Final = SettingType("object")


def check_setting_value(setting: Setting, value: Any, esp_name: str | None = None) -> None:
    """Raise the "Invalid Anymail setting" error if ``value`` is not of the declared type."""
    problem = setting.type.problem(value, setting) if setting.type.problem else None
    if problem:
        raise invalid_setting(setting.name, esp_name if setting.per_esp else None, problem)


_DECLARED: Final[Any] = object()


def get_setting(
    setting: Setting,
    esp_name: str | None = None,
    kwargs: MutableMapping[str, Any] | None = None,
    *,
    default: Any = _DECLARED,
    check: bool = True,
) -> Any:
    """The value of a declared setting, found in the one precedence and checked.

    ``esp_name`` gives the prefix of a per-ESP setting; ``kwargs`` are the
    backend's options or the view's arguments (the value is popped from them).
    ``default`` replaces the declared default (for a ``default_for`` setting).
    """
    value = get_anymail_setting(
        setting.name,
        default=setting.default if default is _DECLARED else default,
        esp_name=esp_name if setting.per_esp else None,
        kwargs=kwargs if setting.option else None,
        allow_bare=setting.bare,
    )
    if check:
        check_setting_value(setting, value, esp_name)
    return value


def _typed(setting: Setting, expected: SettingType) -> None:
    if setting.type is not expected:
        raise TypeError(f"{setting.name} is declared as {setting.type.label}.")


def get_bool(
    setting: Setting, esp_name: str | None = None, kwargs: MutableMapping[str, Any] | None = None
) -> bool:
    _typed(setting, BOOL)
    return bool(get_setting(setting, esp_name, kwargs))


def get_positive_int(
    setting: Setting, esp_name: str | None = None, kwargs: MutableMapping[str, Any] | None = None
) -> int:
    _typed(setting, POSITIVE_INT)
    return int(get_setting(setting, esp_name, kwargs))


def get_credential(
    setting: Setting, esp_name: str, kwargs: MutableMapping[str, Any] | None = None
) -> str:
    """A required credential (API key, token), checked without ever showing it."""
    _typed(setting, CREDENTIAL)
    return str(get_setting(setting, esp_name, kwargs))


def get_text(
    setting: Setting, esp_name: str | None = None, kwargs: MutableMapping[str, Any] | None = None
) -> str | None:
    """A non-empty string (None only where None is the default)."""
    _typed(setting, TEXT)
    value = get_setting(setting, esp_name, kwargs)
    return None if value is None else str(value)


def get_dict(
    setting: Setting, esp_name: str | None = None, kwargs: MutableMapping[str, Any] | None = None
) -> dict[str, Any]:
    """A dict setting, copied (an unset one, with a None default, is empty)."""
    _typed(setting, DICT)
    value = get_setting(setting, esp_name, kwargs)
    return dict(value) if value is not None else {}


def get_django_setting(name: str, default: Any = None) -> Any:
    """A Django setting that Anymail follows, e.g. FILE_UPLOAD_TEMP_DIR."""
    return getattr(settings, name, default)


def configure_standalone(**values: Any) -> bool:
    """Configure and set up Django for a command run without a project (``anymail demo``,
    ``anymail sandbox``); False, doing nothing, when Django is already configured."""
    import django

    if settings.configured:
        return False
    settings.configure(**values)
    django.setup()
    return True


def prefixed_setting_names() -> list[str]:
    """The ANYMAIL_* names in settings.py (for the checks; values are not read)."""
    return [name for name in dir(settings) if name.startswith("ANYMAIL_")]


# --- the settings every ESP shares ----------------------------------------------------

REQUESTS_TIMEOUT: Final = Setting(
    "requests_timeout",
    TIMEOUT,
    "How long an ESP API call may take, in seconds (None: no limit).",
    default=DEFAULT_REQUESTS_TIMEOUT,
    per_esp=False,
)
#: Django's own name for the REQUESTS_TIMEOUT option; it wins over the setting.
TIMEOUT_OPTION: Final = Setting(
    "timeout",
    TIMEOUT,
    "Django's name for the requests_timeout option; it wins over REQUESTS_TIMEOUT.",
    default=None,
    per_esp=False,
    in_settings=False,
)
WEBHOOK_SECRET: Final = Setting(
    "webhook_secret",
    STRINGS,
    "Basic auth credentials ('random:random') the webhook URLs must carry; a list during rotation.",
    default=None,
    secret=True,
    per_esp=False,
)
SEND_DEFAULTS: Final = Setting(
    "send_defaults",
    DICT,
    "Message attributes (tags, metadata ...) every message gets unless it sets them.",
    default=None,
    per_esp=False,
)
ESP_SEND_DEFAULTS: Final = Setting(
    "send_defaults",
    DICT,
    "Send defaults for this ESP's messages: they replace SEND_DEFAULTS key by key.",
    default=None,
    option=False,  # the send_defaults option replaces both
)

FAIL_SILENTLY: Final = Setting(
    "fail_silently",
    BOOL,
    "Log delivery failures instead of raising them (Django's option).",
    default=False,
    per_esp=False,
    in_settings=False,
)
IGNORE_UNSUPPORTED_FEATURES: Final = Setting(
    "ignore_unsupported_features",
    BOOL,
    "Leave out features the ESP can't send instead of raising AnymailUnsupportedFeature.",
    default=False,
    per_esp=False,
)
IGNORE_RECIPIENT_STATUS: Final = Setting(
    "ignore_recipient_status",
    BOOL,
    "Don't raise AnymailRecipientsRefused when the ESP refuses every recipient.",
    default=False,
    per_esp=False,
)


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
    value = get_setting(REQUESTS_TIMEOUT, kwargs=kwargs)
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
    value = get_setting(WEBHOOK_SECRET, kwargs=kwargs)
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
    defaults = get_dict(SEND_DEFAULTS)
    if esp_name:
        defaults.update(get_dict(ESP_SEND_DEFAULTS, esp_name))
    return defaults
