"""What the backends' own tests share: the short test message, sending through a
backend class, the ESP's answer at a URL, and the status of a message sent to one
recipient."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.mime.image import MIMEImage
from typing import Any

import pytest
import responses
from django.core.mail import EmailMessage

from anymail.exceptions import AnymailRequestsAPIError
from anymail.message import AnymailMessage, AnymailRecipientStatus
from tests.utils import add_response, fixture_text, make_message

#: The shared test message, with the short texts and named recipient these tests show.
short_message = functools.partial(
    make_message, subject="Subject", body="Body", to=["Recipient Name <to@example.com>"]
)

#: The shared test message with the short texts these tests show (to to@example.com).
plain_message = functools.partial(make_message, subject="Subject", body="Body")


def django_message(from_email: str = "from@example.com", **kwargs: Any) -> EmailMessage:
    """Django's own EmailMessage (no Anymail attributes) with the short texts, from
    ``from_email`` to to@example.com (``kwargs``: EmailMessage's, e.g. headers)."""
    return EmailMessage("Subject", "Body", from_email, ["to@example.com"], **kwargs)


_UNSET: Any = object()


def anymail_settings(**values: Any) -> Any:
    """An autouse fixture: the ANYMAIL setting is ``values`` in every test of the module
    that assigns it (e.g. ``esp_settings = anymail_settings(POSTMARK_SERVER_TOKEN=...)``)."""

    @pytest.fixture(autouse=True)
    def esp_settings(settings: Any) -> None:
        settings.ANYMAIL = dict(values)

    return esp_settings


def http_fixture(esp: str, name: str) -> tuple[int, dict[str, str], str]:
    """A recorded raw HTTP answer in tests/fixtures/<esp>/: (status, headers, body)."""
    head, _, body = fixture_text(esp, name).partition("\n\n")
    status_line, *header_lines = head.strip().splitlines()
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


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


def answering(mock: Callable[[responses.RequestsMock], None]) -> Any:
    """A fixture: the ESP giving ``mock``'s default answer (its success), and the
    ``responses`` mock to read the requests from (e.g. ``resend = answering(mock_resend)``)."""

    @pytest.fixture
    def esp(mocked_responses: responses.RequestsMock) -> responses.RequestsMock:
        mock(mocked_responses)
        return mocked_responses

    return esp


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


@contextmanager
def refused(
    mocked: responses.RequestsMock, error: type[BaseException], match: str | None = None
) -> Iterator[pytest.ExceptionInfo[BaseException]]:
    """The block raises ``error`` (its message matching ``match``), and no request has
    reached the ESP: the backend refused the message before sending it."""
    with pytest.raises(error, match=match) as excinfo:
        yield excinfo
    assert len(mocked.calls) == 0


def api_error(
    send: Callable[[Any], Any], message: Any, status: int, *secrets: str
) -> AnymailRequestsAPIError:
    """The error ``send(message)`` raises when the ESP refuses it with HTTP ``status``,
    after the checks every such error passes: it carries the status and the ESP's
    response, quotes none of the ``secrets``, and the message has no send status."""
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        send(message)
    error = excinfo.value
    assert error.status_code == status
    assert error.response is not None and error.response.status_code == status
    for secret in secrets:
        assert secret not in str(error)
    assert message.anymail_status.status is None
    assert message.anymail_status.recipients == {}
    return error


# --- the fact sheets' sample messages ------------------------------------------------------


def order_message(**kwargs: Any) -> AnymailMessage:
    """The "Your order" message behind the Postmark, SparkPost and SendGrid fact sheets'
    request_single.json samples (``kwargs`` replace its attributes), without its inline
    logo (see attach_logo)."""
    params: dict[str, Any] = {
        "subject": "Your order",
        "body": "Thanks for your order.",
        "from_email": '"Example Shop" <shop@example.com>',
        "to": ['"Recipient Name" <to@example.com>', "other@example.com"],
        "cc": ["cc@example.com"],
        "bcc": ["bcc@example.com"],
        "reply_to": ['"Help Desk" <help@example.com>'],
        "headers": {"X-Custom": "custom value"},
        "metadata": {"order_id": "12345"},
        "tags": ["order-confirmation"],
        **kwargs,
    }
    message = AnymailMessage(**params)
    message.attach_alternative(
        '<p>Thanks for your order.</p><img src="cid:logo@example.com">', "text/html"
    )
    message.attach("receipt.txt", "Total: 10 €\n", "text/plain")
    return message


def invoice_message(html: str = "<p>Thanks for your order.</p>", **kwargs: Any) -> AnymailMessage:
    """The "Your order 1234" message behind the Brevo, Scaleway, Resend and Postal fact
    sheets' samples (``kwargs`` replace its attributes): an html body and a PDF invoice."""
    params: dict[str, Any] = {
        "subject": "Your order 1234",
        "body": "Thanks for your order.",
        "from_email": '"Example Shop" <shop@example.com>',
        "to": ["Alice Example <alice@example.com>"],
        "cc": ["cc@example.com"],
        "bcc": ["bcc@example.com"],
        "reply_to": ["Support <support@example.com>"],
        **kwargs,
    }
    message = AnymailMessage(**params)
    message.attach_alternative(html, "text/html")
    message.attach("invoice.pdf", b"%PDF-1.4\n% fake pdf for tests\n", "application/pdf")
    return message


def display_names_message(**kwargs: Any) -> AnymailMessage:
    """A message whose every address has a display name: non-ASCII names with specials
    (which need quoting, or encoding), an ASCII name with a special, a non-ASCII name
    without one; and IDN domains (``kwargs`` replace its attributes)."""
    params: dict[str, Any] = {
        "subject": "Subject",
        "body": "Body",
        "from_email": '"Müller, Jörg" <from@bücher.example>',
        "to": [
            '"Müller, Jörg" <to@example.com>',
            '"Smith, Jo" <jo@example.com>',
            "Zoë <zoe@exämple.com>",
        ],
        "cc": ['"Ana (García)" <cc@example.com>'],
        "bcc": ['"Zoë @ Shop" <bcc@example.com>'],
        "reply_to": ['"Müller, Jörg" <reply@example.com>'],
        **kwargs,
    }
    return AnymailMessage(**params)


#: The recipients of display_names_message, as its status names them (IDN domains in
#: their ASCII form).
DISPLAY_NAMES_RECIPIENTS = (
    "to@example.com",
    "jo@example.com",
    "zoe@xn--exmple-cua.com",
    "cc@example.com",
    "bcc@example.com",
)


def assert_display_names_recipients(message: AnymailMessage) -> None:
    """A sent display_names_message's status names each of its recipients."""
    assert set(message.anymail_status.recipients) == set(DISPLAY_NAMES_RECIPIENTS)


#: The fact sheets' sample logo.png: only the PNG signature (their requests carry it in base64).
SAMPLE_LOGO = b"\x89PNG\r\n\x1a\n"


def attach_logo(
    message: AnymailMessage, content: bytes = SAMPLE_LOGO, cid: str = "logo@example.com"
) -> None:
    """The samples' inline logo.png (the bytes their requests carry), as Content-ID ``cid``."""
    logo = MIMEImage(content, "png")
    logo["Content-ID"] = f"<{cid}>"
    logo.add_header("Content-Disposition", "inline", filename="logo.png")
    message.attachments.append(logo)
