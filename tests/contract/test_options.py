"""How every backend is configured: credentials, options, MAILERS, timeouts, debugging.

Run against every registered backend (see ``registry.py``).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.mail import get_connection
from django.utils.module_loading import import_string

from anymail.checks import declared_options
from anymail.exceptions import AnymailImproperlyConfigured, AnymailInvalidMailer

from ..utils import assert_missing_setting, requires_mailers
from .registry import Credential
from .support import Esp, mailer, make_message


def without(options: dict[str, Any], credential: Credential) -> dict[str, Any]:
    return {name: value for name, value in options.items() if name != credential.option}


def each_credential(esp: Esp) -> list[Credential]:
    if not esp.case.credentials:
        pytest.skip("backend has no credentials")
    return list(esp.case.credentials)


# --- credentials -------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["ANYMAIL dict", "ANYMAIL_ prefixed", "bare", "kwarg"])
def test_credential_from_each_place(esp: Esp, settings: Any, where: str) -> None:
    for credential in each_credential(esp):
        settings.ANYMAIL = {}
        for name in (f"ANYMAIL_{credential.setting}", credential.setting):
            if hasattr(settings, name):
                delattr(settings, name)
        kwargs = without(esp.case.options, credential)
        value = f"{credential.option}-from-{where.split()[0].lower()}"
        if where == "ANYMAIL dict":
            settings.ANYMAIL = {credential.setting: value}
        elif where == "ANYMAIL_ prefixed":
            setattr(settings, f"ANYMAIL_{credential.setting}", value)
        elif where == "bare":
            setattr(settings, credential.setting, value)
        else:
            kwargs[credential.option] = value
        if where == "bare" and not credential.bare_setting:
            with pytest.raises(AnymailImproperlyConfigured) as excinfo:
                get_connection(esp.case.backend, **kwargs)
            text = str(excinfo.value)
            assert f"Missing required Anymail setting {credential.setting}" in text
            assert f" or {credential.setting}" not in text  # not offered as a bare setting
            continue
        esp.mock_success()
        get_connection(esp.case.backend, **kwargs).send_messages([make_message()])
        assert credential.sent(esp.last_request) == value


def test_credential_precedence(esp: Esp, settings: Any) -> None:
    # ANYMAIL dict, then ANYMAIL_ prefixed, then bare; a keyword argument beats them all.
    for credential in each_credential(esp):
        kwargs = without(esp.case.options, credential)
        settings.ANYMAIL = {credential.setting: "from-dict"}
        setattr(settings, f"ANYMAIL_{credential.setting}", "from-prefixed")
        setattr(settings, credential.setting, "from-bare")
        esp.mock_success()
        for extra_kwargs, expected in [
            ({}, "from-dict"),
            ({credential.option: "from-kwarg"}, "from-kwarg"),
        ]:
            connection = get_connection(esp.case.backend, **kwargs, **extra_kwargs)
            connection.send_messages([make_message()])
            assert credential.sent(esp.last_request) == expected
        settings.ANYMAIL = {}
        get_connection(esp.case.backend, **kwargs).send_messages([make_message()])
        assert credential.sent(esp.last_request) == "from-prefixed"


def test_missing_credential_says_where_to_set_it(esp: Esp) -> None:
    for credential in each_credential(esp):
        with pytest.raises(AnymailImproperlyConfigured) as excinfo:
            get_connection(esp.case.backend, **without(esp.case.options, credential))
        text = str(excinfo.value)
        assert_missing_setting(text, credential.setting, credential.option, credential.bare_setting)
        for other in esp.case.credentials:
            if other.secret:
                assert str(esp.case.options[other.option]) not in text


@pytest.mark.parametrize("source", ["setting", "kwarg"])
def test_invalid_credential_is_refused_unquoted(esp: Esp, settings: Any, source: str) -> None:
    # Checked when the backend is made (not an API error at send time, which
    # fail_silently would hide), and the error never shows the value.
    for credential in each_credential(esp):
        kwargs = {**without(esp.case.options, credential), "fail_silently": True}
        for value in credential.invalid:
            if source == "setting":
                settings.ANYMAIL = {credential.setting: value}
            else:
                kwargs[credential.option] = value
            with pytest.raises(AnymailImproperlyConfigured) as excinfo:
                get_connection(esp.case.backend, **kwargs)
            text = str(excinfo.value)
            assert text.startswith(f"Invalid Anymail setting {credential.setting}"), value
            if value is not None and str(value).strip():
                assert str(value).strip() not in text
    assert esp.request_count == 0


@pytest.mark.parametrize("source", ["setting", "kwarg"])
def test_debug_api_requests_hides_the_credentials(
    esp: Esp, settings: Any, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    if not esp.case.uses_requests:
        pytest.skip("backend does not use requests")
    esp.mock_success()
    if source == "setting":
        settings.ANYMAIL = {"DEBUG_API_REQUESTS": True}
        connection = esp.connection()
    else:
        connection = esp.connection(debug_api_requests=True)
    assert connection.send_messages([make_message()]) == 1
    out = capsys.readouterr().out
    request = esp.last_request
    assert f"===== Anymail API request: POST {request.url}\n" in out
    assert "\n----- Response " in out
    for credential in esp.case.credentials:
        if not credential.secret:
            continue
        assert str(esp.case.options[credential.option]) not in out
        if credential.header is not None:
            assert f"{credential.header}: [REDACTED]" in out
            for part in request.headers[credential.header].split():
                if len(part) > len("Bearer"):  # the value, and basic auth's base64 token
                    assert part not in out


# --- options -----------------------------------------------------------------------------


def test_options_reach_the_esp(esp: Esp, settings: Any) -> None:
    """Backend options (MAILERS OPTIONS on Django 6.1; get_connection() keywords before)."""
    example = esp.case.options_example
    if example is None:
        pytest.skip("no options example")
    options = {**esp.case.options, **example.options, "send_defaults": {"tags": ["mailers"]}}
    connection = mailer(esp.case, settings, "transactional", options)
    esp.mock_success(url=example.url)
    assert connection.send_messages([make_message()]) == 1
    request = esp.last_request
    assert request.url == example.url
    for credential in esp.case.credentials:
        assert credential.sent(request) == options[credential.option]
    assert esp.case.sent_tags is not None
    assert esp.case.sent_tags(request) == ["mailers"]
    for name, value in example.attributes.items():
        assert getattr(connection, name) == value, name
        assert type(getattr(connection, name)) is type(value), name
    for name, value in example.headers.items():
        assert request.headers[name] == value, name


def test_send_defaults_kwarg(esp: Esp) -> None:
    assert esp.case.sent_tags is not None, "a case says where its requests carry the tags"
    esp.mock_success()
    connection = esp.connection(send_defaults={"tags": ["from-kwarg"]})
    assert connection.send_messages([make_message()]) == 1
    assert esp.case.sent_tags(esp.last_request) == ["from-kwarg"]


def test_requests_timeout_setting(esp: Esp, settings: Any) -> None:
    if not esp.case.uses_requests:
        pytest.skip("backend does not use requests")
    settings.ANYMAIL = {"REQUESTS_TIMEOUT": 5}
    esp.mock_success()
    assert esp.connection().send_messages([make_message()]) == 1
    assert esp.mock.calls[0].request.req_kwargs["timeout"] == 5.0


@pytest.mark.parametrize("timeout", [7, (3.5, 20), None], ids=["seconds", "pair", "none"])
def test_every_http_backend_accepts_a_timeout_option(esp: Esp, settings: Any, timeout: Any) -> None:
    if not esp.case.uses_requests and esp.case.client_timeouts is None:
        pytest.skip("not an HTTP backend")
    settings.ANYMAIL = {"REQUESTS_TIMEOUT": 60}  # the option wins over the setting
    connection = mailer(
        esp.case, settings, "transactional", {**esp.case.options, "timeout": timeout}
    )
    expected = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    if esp.case.client_timeouts is not None:
        assert esp.case.client_timeouts(connection) == expected
        return
    esp.mock_success()
    assert connection.send_messages([make_message()]) == 1
    assert esp.mock.calls[0].request.req_kwargs["timeout"] == timeout


# --- MAILERS (Django 6.1) ----------------------------------------------------------------


@requires_mailers
def test_missing_required_mailers_option_names_alias_and_option(esp: Esp, settings: Any) -> None:
    from django.core.mail import InvalidMailer

    declared = declared_options(import_string(esp.case.backend))
    assert declared is not None
    names, required = declared
    assert set(esp.case.options) <= names  # the declaration covers what the backend reads
    if esp.case.options_example is not None:
        assert set(esp.case.options_example.options) <= names
    assert mailer(esp.case, settings, "transactional", esp.case.options) is not None
    if not required:
        pytest.skip("backend has no required options")
    for name in sorted(required):
        options = {key: value for key, value in esp.case.options.items() if key != name}
        with pytest.raises(AnymailInvalidMailer) as excinfo:
            mailer(esp.case, settings, "transactional", options)
        assert isinstance(excinfo.value, InvalidMailer)
        assert str(excinfo.value).startswith(
            f"MAILERS['transactional']: OPTIONS must define {name!r} (or set ANYMAIL["
        )


@requires_mailers
def test_unknown_mailers_option_is_an_invalid_mailer(esp: Esp, settings: Any) -> None:
    from django.core.mail import InvalidMailer

    with pytest.raises(InvalidMailer, match="sever_region"):
        mailer(esp.case, settings, "transactional", {**esp.case.options, "sever_region": "eu"})


def test_options_example_from_the_anymail_setting(esp: Esp, settings: Any) -> None:
    """The same options as settings (ANYMAIL = {"<ESP>_<OPTION>": ...}) reach the ESP too."""
    example = esp.case.options_example
    if example is None:
        pytest.skip("no options example")
    settings.ANYMAIL = {
        f"{esp.case.id.upper()}_{name.upper()}": value for name, value in example.options.items()
    }
    options = {k: v for k, v in esp.case.options.items() if k not in example.options}
    esp.mock_success(url=example.url)
    connection = get_connection(esp.case.backend, **options)
    assert connection.send_messages([make_message()]) == 1
    assert esp.last_request.url == example.url
