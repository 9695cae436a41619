"""Every HTTP backend sends through the sandbox, pointed at it by its API-URL setting."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from django.test import override_settings

from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailMessage
from anymail.sandbox import EMULATORS, Sandbox
from tests.utils import make_message

ESPS = sorted(EMULATORS)


def send_through(sandbox: Sandbox, esp: str, message: AnymailMessage, **settings: object) -> None:
    # Some ESPs lack metadata or tags: the message keeps them for the others.
    anymail = {**sandbox.settings(esp), "IGNORE_UNSUPPORTED_FEATURES": True, **settings}
    # The Sendinblue backend warns that it is deprecated (it works all the same).
    warns = pytest.warns(DeprecationWarning) if esp == "sendinblue" else nullcontext()
    with override_settings(EMAIL_BACKEND=sandbox.backend(esp), ANYMAIL=anymail), warns:
        message.send()


def order_message() -> AnymailMessage:
    message = make_message(
        subject="Your order 1234 has shipped",
        body="Hi Ana, order 1234 is on its way.",
        to=["Ana García <ana@example.com>"],
        cc=["jo@example.net"],
        headers={"X-Campaign": "shipping"},
        metadata={"order_id": "1234"},
        tags=["order"],
    )
    message.attach_alternative("<p>Hi Ana, order <b>1234</b> is on its way.</p>", "text/html")
    message.attach("invoice.csv", "item,qty\nAnvil,1\n", "text/csv")
    return message


@pytest.mark.parametrize("esp", ESPS)
def test_send_through_every_backend(sandbox: Sandbox, esp: str) -> None:
    message = order_message()
    send_through(sandbox, esp, message)

    [received] = sandbox.messages()
    assert received.esp == esp
    assert received.message.subject == "Your order 1234 has shipped"
    # (In a raw MIME message, as Amazon SES gets, Django 6.1 ends each text part with CRLF.)
    assert (received.message.text or "").rstrip("\r\n") == "Hi Ana, order 1234 is on its way."
    assert (received.message.html or "").rstrip("\r\n") == (
        "<p>Hi Ana, order <b>1234</b> is on its way.</p>"
    )
    # (...and carries a text attachment's lines with CRLF.)
    assert [
        a.content.replace(b"\r\n", b"\n")
        for a in received.message.attachments
        if a.filename == "invoice.csv"
    ] == [b"item,qty\nAnvil,1\n"]
    assert "ana@example.com" in received.message.recipients
    assert "jo@example.net" in received.message.recipients
    # The backend parsed the emulator's answer: the ids it reports are the sandbox's.
    status = message.anymail_status
    assert str(status.recipients["ana@example.com"].message_id) == str(
        received.message.ids["ana@example.com"]
    )
    assert status.recipients["ana@example.com"].status in {"sent", "queued"}


@pytest.mark.parametrize("esp", ESPS)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the Sendinblue backend
def test_wrong_key_gets_the_esps_refusal(sandbox: Sandbox, esp: str) -> None:
    wrong = Sandbox(api_key="not-the-sandbox-key")
    wrong.port = sandbox.port
    settings = {
        **wrong.settings(esp),
        **{k: v for k, v in sandbox.settings(esp).items() if k.endswith("_API_URL")},
        "IGNORE_UNSUPPORTED_FEATURES": True,
    }
    with (
        pytest.raises(AnymailAPIError) as info,
        override_settings(EMAIL_BACKEND=sandbox.backend(esp), ANYMAIL=settings),
    ):
        order_message().send()
    assert sandbox.messages() == []
    [refused] = sandbox.store.rejected
    assert refused.response.status == info.value.status_code
    assert refused.response.status in {401, 403, 500, 200}
    assert "not-the-sandbox-key" not in str(info.value)
