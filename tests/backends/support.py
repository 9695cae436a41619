"""What the backends' own tests share: the short test message, sending through a
backend class, the ESP's answer at a URL, and the status of a message sent to one
recipient."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
import responses

from anymail.message import AnymailRecipientStatus
from tests.utils import add_response, make_message

#: The shared test message, with the short texts and named recipient these tests show.
short_message = functools.partial(
    make_message, subject="Subject", body="Body", to=["Recipient Name <to@example.com>"]
)

_UNSET: Any = object()


def anymail_settings(**values: Any) -> Any:
    """An autouse fixture: the ANYMAIL setting is ``values`` in every test of the module
    that assigns it (e.g. ``esp_settings = anymail_settings(POSTMARK_SERVER_TOKEN=...)``)."""

    @pytest.fixture(autouse=True)
    def esp_settings(settings: Any) -> None:
        settings.ANYMAIL = dict(values)

    return esp_settings


def sender(backend_class: type) -> Callable[..., int]:
    """``send(message, **backend_kwargs)``: sends one message through a new backend."""

    def send(message: Any, **backend_kwargs: Any) -> int:
        return int(backend_class(**backend_kwargs).send_messages([message]))

    return send


def answerer(
    default_url: str, default_body: Callable[[], Any], default_status: int = 200, **defaults: Any
) -> Callable[..., None]:
    """``mock(mocked, body=None, status=..., url=..., **kwargs)``: the ESP answering at
    ``url`` with ``body`` (by default ``default_body()``). ``defaults`` are more
    ``responses`` keywords (e.g. content_type)."""

    def mock(
        mocked: responses.RequestsMock,
        body: Any = None,
        status: int = default_status,
        url: str = default_url,
        **kwargs: Any,
    ) -> None:
        body = default_body() if body is None else body
        add_response(mocked, url, body, status, **{**defaults, **kwargs})

    return mock


def endpoint_answerer(
    api: str, default_endpoint: str, default_body: Callable[[str], Any]
) -> Callable[..., None]:
    """``mock(mocked, endpoint=..., body=None, status=200, **kwargs)``: the ESP answering
    at ``api + endpoint`` with ``body`` (by default ``default_body(endpoint)``)."""

    def mock(
        mocked: responses.RequestsMock,
        endpoint: str = default_endpoint,
        body: Any = None,
        status: int = 200,
        **kwargs: Any,
    ) -> None:
        body = default_body(endpoint) if body is None else body
        add_response(mocked, api + endpoint, body, status, **kwargs)

    return mock


def assert_sent(
    message: Any,
    status: str,
    message_id: Any,
    esp_response: Any = _UNSET,
    recipients: tuple[str, ...] = ("to@example.com",),
) -> None:
    """The message's anymail_status after a send in which every recipient got
    ``message_id`` and ``status`` (and the ESP's answer was the JSON ``esp_response``)."""
    sent = message.anymail_status
    assert sent.status == {status}
    assert sent.message_id == message_id
    assert sent.recipients == {
        address: AnymailRecipientStatus(message_id, status) for address in recipients
    }
    if esp_response is not _UNSET:
        assert sent.esp_response.json() == esp_response
