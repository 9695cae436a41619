"""Settings resolution (anymail.conf): one precedence for every setting."""

from __future__ import annotations

import inspect
from typing import Any

import django
import pytest

from anymail.backends.base import IGNORE_RECIPIENT_STATUS, IGNORE_UNSUPPORTED_FEATURES
from anymail.backends.base_requests import DEBUG_API_REQUESTS
from anymail.conf import (
    CREDENTIAL,
    DEFAULT_REQUESTS_TIMEOUT,
    POSITIVE_INT,
    TEXT,
    UNSET,
    Setting,
    get_anymail_setting,
    get_bool,
    get_credential,
    get_positive_int,
    get_requests_timeout,
    get_send_defaults,
    get_setting,
    get_text,
    get_timeout_option,
    get_webhook_secrets,
    is_setting_set,
)
from anymail.exceptions import (
    AnymailDeprecationWarning,
    AnymailImproperlyConfigured,
    AnymailInvalidMailer,
)
from anymail.testing import json_webhook_request

SECRET = "sk-live-do-not-print-me"


@pytest.fixture(autouse=True)
def clean_settings(settings: Any) -> Any:
    settings.ANYMAIL = {}
    return settings


# --- precedence -----------------------------------------------------------------


def test_kwarg_beats_everything_and_is_popped(settings: Any) -> None:
    settings.ANYMAIL = {"TINY_API_KEY": "from-dict"}
    settings.ANYMAIL_TINY_API_KEY = "from-prefixed"
    settings.TINY_API_KEY = "from-bare"
    kwargs = {"api_key": "from-kwarg", "other": 1}
    value = get_anymail_setting("api_key", esp_name="Tiny", kwargs=kwargs, allow_bare=True)
    assert value == "from-kwarg"
    assert kwargs == {"other": 1}  # consumed, so the leftovers can go to Django


def test_anymail_dict_beats_prefixed_and_bare(settings: Any) -> None:
    settings.ANYMAIL = {"TINY_API_KEY": "from-dict"}
    settings.ANYMAIL_TINY_API_KEY = "from-prefixed"
    settings.TINY_API_KEY = "from-bare"
    assert get_anymail_setting("api_key", esp_name="Tiny", kwargs={}, allow_bare=True) == (
        "from-dict"
    )


def test_prefixed_setting_beats_bare(settings: Any) -> None:
    settings.ANYMAIL_TINY_API_KEY = "from-prefixed"
    settings.TINY_API_KEY = "from-bare"
    assert get_anymail_setting("api_key", esp_name="Tiny", allow_bare=True) == "from-prefixed"


def test_bare_setting_only_where_allowed(settings: Any) -> None:
    settings.TINY_API_KEY = "from-bare"
    assert get_anymail_setting("api_key", esp_name="Tiny", allow_bare=True) == "from-bare"
    assert get_anymail_setting("api_key", esp_name="Tiny", default="dflt") == "dflt"


def test_default_when_nothing_set() -> None:
    assert get_anymail_setting("api_url", esp_name="Tiny", default="https://x/") == "https://x/"
    assert get_anymail_setting("api_url", esp_name="Tiny", default=None) is None


def test_name_is_case_insensitive_and_esp_prefix_is_normalized(settings: Any) -> None:
    settings.ANYMAIL = {"AMAZON_SES_CLIENT_PARAMS": {"region_name": "eu-west-1"}}
    assert get_anymail_setting("Client_Params", esp_name="Amazon SES") == {
        "region_name": "eu-west-1"
    }


def test_global_setting_without_esp_prefix(settings: Any) -> None:
    settings.ANYMAIL_IGNORE_RECIPIENT_STATUS = True
    assert get_anymail_setting("ignore_recipient_status") is True


def test_kwarg_value_none_still_wins(settings: Any) -> None:
    settings.ANYMAIL = {"REQUESTS_TIMEOUT": 5}
    assert get_requests_timeout({"requests_timeout": None}) is None


def test_deprecated_esp_name_is_used_with_a_warning(settings: Any) -> None:
    settings.ANYMAIL = {"SENDINBLUE_API_KEY": "old"}
    with pytest.warns(AnymailDeprecationWarning) as record:
        value = get_anymail_setting(
            "api_key", esp_name="Brevo", deprecated_esp_names=["SendinBlue"]
        )
    assert value == "old"
    assert str(record[0].message) == (
        "The Anymail setting SENDINBLUE_API_KEY is deprecated: rename it to BREVO_API_KEY "
        "(in your ANYMAIL settings dict, or as ANYMAIL_BREVO_API_KEY)."
    )


def test_new_esp_name_wins_over_deprecated_one_without_warning(settings: Any) -> None:
    import warnings

    settings.ANYMAIL = {"SENDINBLUE_API_KEY": "old", "BREVO_API_KEY": "new"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (
            get_anymail_setting("api_key", esp_name="Brevo", deprecated_esp_names=["SendinBlue"])
            == "new"
        )


# --- errors -----------------------------------------------------------------------


def test_missing_required_setting_names_every_place_looked_at() -> None:
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_anymail_setting("api_key", esp_name="Tiny", allow_bare=True)
    assert str(excinfo.value) == (
        "Missing required Anymail setting TINY_API_KEY. Set it in your settings.py as "
        'ANYMAIL = {"TINY_API_KEY": ...}, ANYMAIL_TINY_API_KEY or TINY_API_KEY, or pass '
        "api_key=... to the email backend (get_connection() keyword argument or MAILERS "
        "OPTIONS)."
    )


def test_missing_setting_without_bare_does_not_suggest_bare() -> None:
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_anymail_setting("project_id", esp_name="Tiny")
    message = str(excinfo.value)
    assert 'ANYMAIL = {"TINY_PROJECT_ID": ...} or ANYMAIL_TINY_PROJECT_ID, or pass' in message
    assert "project_id=..." in message


def test_anymail_setting_must_be_a_dict(settings: Any) -> None:
    settings.ANYMAIL = ["TINY_API_KEY", SECRET]
    with pytest.raises(AnymailImproperlyConfigured, match=r"settings.ANYMAIL must be a dict"):
        get_anymail_setting("api_key", esp_name="Tiny", default=None)


def test_invalid_webhook_secret_never_echoes_the_value(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": {"user": SECRET}}
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_webhook_secrets()
    assert str(excinfo.value) == (
        "Invalid Anymail setting WEBHOOK_SECRET: expected a 'random:random' string or a "
        "list of such strings."
    )
    assert SECRET not in str(excinfo.value)


def test_invalid_webhook_secret_list_item_never_echoes_the_value(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET, 12345]}
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_webhook_secrets()
    assert SECRET not in str(excinfo.value)


# --- declared settings ----------------------------------------------------------

TOKEN = Setting("token", CREDENTIAL, "a Tiny API token", secret=True, bare=True)
REGION = Setting("region", TEXT, "The Tiny region.", default="eu")
ONLY_IN_SETTINGS = Setting("limit", POSITIVE_INT, "A limit.", default=5, option=False)


def test_get_setting_follows_the_declaration(settings: Any) -> None:
    settings.TINY_TOKEN = "from-bare"  # declared bare
    settings.TINY_REGION = "ignored"  # not declared bare
    assert get_credential(TOKEN, "Tiny") == "from-bare"
    assert get_text(REGION, "Tiny") == "eu"  # the declared default
    kwargs = {"region": "us", "limit": 9}
    assert get_text(REGION, "Tiny", kwargs) == "us"
    assert get_positive_int(ONLY_IN_SETTINGS, kwargs=kwargs) == 5  # not an option
    assert kwargs == {"limit": 9}  # left for Django to report
    settings.ANYMAIL = {"TINY_LIMIT": 7, "LIMIT": 8}
    assert get_positive_int(ONLY_IN_SETTINGS) == 8  # global: no ESP prefix
    assert is_setting_set(TOKEN, "Tiny") and not is_setting_set(REGION, "Tiny")


def test_get_setting_checks_the_declared_type(settings: Any) -> None:
    settings.ANYMAIL = {"TINY_TOKEN": "two words", "TINY_REGION": ""}
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_credential(TOKEN, "Tiny")
    assert str(excinfo.value) == (
        "Invalid Anymail setting TINY_TOKEN: expected a Tiny API token: a non-empty string "
        "without spaces or line breaks."
    )
    with pytest.raises(AnymailImproperlyConfigured, match="TINY_REGION: expected a non-empty"):
        get_text(REGION, "Tiny")
    assert get_setting(TOKEN, "Tiny", check=False) == "two words"


def test_missing_declared_setting_is_required(settings: Any) -> None:
    with pytest.raises(AnymailImproperlyConfigured, match="Missing required Anymail setting"):
        get_credential(TOKEN, "Tiny")
    assert TOKEN.required and not REGION.required


def test_typed_getter_must_match_the_declared_type() -> None:
    with pytest.raises(TypeError):
        get_bool(REGION, "Tiny")


# --- the global settings ------------------------------------------------------


@pytest.mark.parametrize("setting", [IGNORE_RECIPIENT_STATUS, IGNORE_UNSUPPORTED_FEATURES])
def test_bool_settings(settings: Any, setting: Setting) -> None:
    name = setting.name
    assert get_bool(setting) is False
    settings.ANYMAIL = {name.upper(): True}
    assert get_bool(setting) is True
    assert get_bool(setting, kwargs={name: False}) is False


def test_bool_setting_rejects_non_bool(settings: Any) -> None:
    settings.ANYMAIL = {"DEBUG_API_REQUESTS": "yes"}
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_bool(DEBUG_API_REQUESTS)
    assert str(excinfo.value) == (
        "Invalid Anymail setting DEBUG_API_REQUESTS: expected True or False, got 'yes'."
    )


def test_requests_timeout_default_is_30_seconds() -> None:
    assert DEFAULT_REQUESTS_TIMEOUT == 30.0
    assert get_requests_timeout() == 30.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5.0), (2.5, 2.5), ((3.05, 27), (3.05, 27)), ([1, None], (1, None)), (None, None)],
)
def test_requests_timeout_values(settings: Any, value: Any, expected: Any) -> None:
    settings.ANYMAIL = {"REQUESTS_TIMEOUT": value}
    assert get_requests_timeout() == expected


@pytest.mark.parametrize("value", [0, -1, "30", True, (1, 2, 3), ("1", 2)])
def test_requests_timeout_rejects_nonsense(settings: Any, value: Any) -> None:
    settings.ANYMAIL = {"REQUESTS_TIMEOUT": value}
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_requests_timeout()
    assert str(excinfo.value).startswith(
        "Invalid Anymail setting REQUESTS_TIMEOUT: expected seconds as a number, a "
        "(connect, read) tuple, or None; got "
    )


def test_requests_timeout_prefixed_setting(settings: Any) -> None:
    settings.ANYMAIL_REQUESTS_TIMEOUT = 12
    assert get_requests_timeout() == 12.0


def test_webhook_secret_string_or_list(settings: Any) -> None:
    assert get_webhook_secrets() == []
    settings.ANYMAIL = {"WEBHOOK_SECRET": "abc:def"}
    assert get_webhook_secrets() == ["abc:def"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": ("abc:def", "ghi:jkl")}
    assert get_webhook_secrets() == ["abc:def", "ghi:jkl"]
    assert get_webhook_secrets({"webhook_secret": "kw:arg"}) == ["kw:arg"]


#: The end of the message refusing an empty or blank webhook secret.
TURNS_AUTH_OFF = (
    "which would turn webhook basic auth off. Use 'random:random' credentials, or remove "
    "the setting."
)


@pytest.mark.parametrize(
    ("secret", "argument", "message"),
    [
        *(
            pytest.param(
                blank,
                None,
                f"Invalid Anymail setting WEBHOOK_SECRET: it is empty or blank, {TURNS_AUTH_OFF}",
                id=f"blank setting {blank!r}",
            )
            for blank in ["", "   ", ":", " : ", "\t\n"]
        ),
        pytest.param(
            ["abc:def", " "],
            None,
            f"Invalid Anymail setting WEBHOOK_SECRET: entry 2 is empty or blank, {TURNS_AUTH_OFF}",
            id="blank entry in a rotation list",
        ),
        pytest.param(
            [],
            None,
            "Invalid Anymail setting WEBHOOK_SECRET: the list is empty, which would turn "
            "webhook basic auth off. Add a 'random:random' secret, or remove the setting.",
            id="empty rotation list",
        ),
        pytest.param(
            "abc:def",
            {"webhook_secret": ""},
            f"Invalid webhook_secret argument of as_view(): it is empty or blank, {TURNS_AUTH_OFF}",
            id="empty as_view() argument",
        ),
    ],
)
def test_empty_or_blank_webhook_secret_is_an_error_not_auth_off(
    settings: Any, secret: Any, argument: dict[str, str] | None, message: str
) -> None:
    """(The message never quotes a good secret given with the blank one.)"""
    settings.ANYMAIL = {"WEBHOOK_SECRET": secret}
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_webhook_secrets(argument)
    assert str(excinfo.value) == message
    assert "abc:def" not in str(excinfo.value)


def test_webhook_secret_argument_none_means_the_setting(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": "abc:def"}
    kwargs: dict[str, Any] = {"webhook_secret": None}
    assert get_webhook_secrets(kwargs) == ["abc:def"]
    assert kwargs == {}


@pytest.mark.parametrize("where", ["dict", "prefixed"])
def test_pre_2_0_webhook_authorization_says_to_rename_it(settings: Any, where: str) -> None:
    if where == "dict":
        settings.ANYMAIL = {"WEBHOOK_AUTHORIZATION": "abc:def"}
    else:
        settings.ANYMAIL_WEBHOOK_AUTHORIZATION = "abc:def"
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_webhook_secrets()
    assert str(excinfo.value) == (
        "The Anymail setting WEBHOOK_AUTHORIZATION is an old name of WEBHOOK_SECRET and is "
        "no longer read: rename it to WEBHOOK_SECRET."
    )


# --- the timeout option (Django's name for REQUESTS_TIMEOUT) ------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(5, 5.0), ((3.05, 27), (3.05, 27)), ([1, None], (1, None))]
)
def test_timeout_option_means_requests_timeout_and_wins(
    settings: Any, value: Any, expected: Any
) -> None:
    settings.ANYMAIL = {"REQUESTS_TIMEOUT": 60}
    kwargs = {"timeout": value, "other": 1}
    assert get_requests_timeout(kwargs) == expected
    assert kwargs == {"other": 1}  # consumed: Django must not see it as unknown


def test_timeout_option_none_turns_the_timeout_off(settings: Any) -> None:
    settings.ANYMAIL = {"REQUESTS_TIMEOUT": 60}
    assert get_requests_timeout({"timeout": None}) is None


def test_timeout_and_requests_timeout_options_together_are_an_error() -> None:
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_requests_timeout({"timeout": 5, "requests_timeout": 6})
    assert str(excinfo.value) == (
        "Both timeout and requests_timeout options were given to the email backend. "
        "They mean the same: keep only timeout."
    )


@pytest.mark.parametrize("value", [0, "30", True, (1, 2, 3)])
def test_timeout_option_rejects_nonsense(value: Any) -> None:
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_timeout_option({"timeout": value})
    assert str(excinfo.value).startswith(
        "Invalid timeout option for the email backend: expected seconds as a number, a "
        "(connect, read) tuple, or None; got "
    )


def test_timeout_option_absent_is_unset() -> None:
    assert get_timeout_option({}) is UNSET


# --- Django 6.1 MAILERS ------------------------------------------------------------


def test_missing_required_option_of_a_mailer_names_alias_and_option() -> None:
    # Django 6.1 passes alias= to a backend made from MAILERS[alias].
    kwargs = {"alias": "transactional"}
    with pytest.raises(AnymailInvalidMailer) as excinfo:
        get_anymail_setting("server_token", esp_name="Postmark", kwargs=kwargs, allow_bare=True)
    assert str(excinfo.value) == (
        "MAILERS['transactional']: OPTIONS must define 'server_token' (or set "
        'ANYMAIL["POSTMARK_SERVER_TOKEN"] for all Postmark mailers).'
    )
    assert isinstance(excinfo.value, AnymailImproperlyConfigured)


def test_missing_setting_without_an_alias_is_the_settings_error() -> None:
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_anymail_setting("api_key", esp_name="Tiny", kwargs={"alias": None})
    assert not isinstance(excinfo.value, AnymailInvalidMailer)
    assert str(excinfo.value).startswith("Missing required Anymail setting TINY_API_KEY.")


def test_invalid_mailer_is_djangos_invalid_mailer_where_that_exists() -> None:
    if django.VERSION >= (6, 1):
        from django.core.mail import InvalidMailer

        assert issubclass(AnymailInvalidMailer, InvalidMailer)
    assert issubclass(AnymailInvalidMailer, AnymailImproperlyConfigured)
    assert str(AnymailInvalidMailer("Bad.", alias="x")) == "MAILERS['x']: Bad."
    assert str(AnymailInvalidMailer("Bad.")) == "Bad."


def test_send_defaults_esp_keys_replace_global_keys(settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {"tags": ["myapp", "version3"], "track_opens": True},
        "POSTMARK_SEND_DEFAULTS": {"tags": ["version3"]},
    }
    assert get_send_defaults("Postmark") == {"tags": ["version3"], "track_opens": True}
    assert get_send_defaults("Mailgun") == {"tags": ["myapp", "version3"], "track_opens": True}
    assert get_send_defaults(None) == {"tags": ["myapp", "version3"], "track_opens": True}


def test_send_defaults_from_prefixed_settings(settings: Any) -> None:
    settings.ANYMAIL_SEND_DEFAULTS = {"tags": ["myapp"]}
    settings.ANYMAIL_TINY_SEND_DEFAULTS = {"metadata": {"a": "1"}}
    assert get_send_defaults("Tiny") == {"tags": ["myapp"], "metadata": {"a": "1"}}


def test_send_defaults_must_be_a_dict(settings: Any) -> None:
    settings.ANYMAIL = {"TINY_SEND_DEFAULTS": ["tags"]}
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        get_send_defaults("Tiny")
    assert str(excinfo.value) == (
        "Invalid Anymail setting TINY_SEND_DEFAULTS: expected a dict, got list."
    )


def test_utils_reexports_for_extenders() -> None:
    from anymail import addresses, conf, utils

    assert utils.get_anymail_setting is conf.get_anymail_setting
    assert utils.EmailAddress is addresses.EmailAddress
    assert utils.parse_address_list is addresses.parse_address_list
    assert utils.parse_single_address is addresses.parse_single_address


def test_markers_show_their_names() -> None:
    # As help() and the docs show a default: "required", "from your settings".
    assert repr(UNSET) == "UNSET"
    assert "basic_auth: 'str | None' = FROM_SETTINGS" in str(
        inspect.signature(json_webhook_request)
    )
