"""The web UI, over HTTP: pages, escaping of hostile content, event buttons, inbound form."""

from __future__ import annotations

import re

import pytest
import requests
from django.test import override_settings

from anymail.message import AnymailMessage
from anymail.sandbox import EMULATORS, Sandbox
from anymail.signals import inbound
from anymail.testing import captured_events
from tests.sandbox.messages import order

HOSTILE = "<script>alert('x')</script>"
HOSTILE_FILENAME = '"><img src=x onerror=alert(1)>.html'


def send_hostile(sandbox: Sandbox) -> AnymailMessage:
    message = order(subject=f"Hi {HOSTILE}", body=f"Text {HOSTILE}", headers={"X-Note": HOSTILE})
    message.attach_alternative(f'<p onclick="alert(2)">Hi</p>{HOSTILE}"&quot;', "text/html")
    message.attach(HOSTILE_FILENAME, f"<html>{HOSTILE}</html>", "text/html")
    with override_settings(
        EMAIL_BACKEND=sandbox.backend("postmark"), ANYMAIL=sandbox.settings("postmark")
    ):
        message.send()
    return message


def test_hostile_content_is_escaped(sandbox: Sandbox) -> None:
    send_hostile(sandbox)
    listing = requests.get(sandbox.url, timeout=10)
    assert listing.status_code == 200
    assert "script-src" not in listing.headers["Content-Security-Policy"]
    assert "default-src 'none'" in listing.headers["Content-Security-Policy"]
    assert "<script" not in listing.text.lower()
    assert "Hi &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in listing.text

    page = requests.get(f"{sandbox.url}messages/1", timeout=10)
    assert page.status_code == 200
    assert "<script" not in page.text.lower()
    assert "<img" not in page.text.lower()
    assert 'onclick="' not in page.text
    # The HTML body is shown only in a sandboxed iframe, as an escaped srcdoc.
    [iframe] = re.findall(r"<iframe[^>]*>", page.text)
    assert 'sandbox=""' in iframe
    assert 'srcdoc="&lt;p onclick=&quot;alert(2)&quot;&gt;Hi&lt;/p&gt;&lt;script&gt;' in iframe
    assert "&quot;&amp;quot;" in iframe
    assert "Text &lt;script&gt;" in page.text
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.html" in page.text
    # The exact request, with the server token hidden.
    assert "POST /postmark/email" in page.text
    assert "X-Postmark-Server-Token: (hidden)" in page.text
    assert sandbox.api_key not in page.text


#: Mandrill's key is in the JSON body, which the page shows as it was sent.
KEY_IN_HEADERS = sorted(set(EMULATORS) - {"mandrill"})


@pytest.mark.parametrize("esp", KEY_IN_HEADERS)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the Sendinblue backend
def test_message_page_hides_the_key_header(sandbox: Sandbox, esp: str) -> None:
    settings = {**sandbox.settings(esp), "IGNORE_UNSUPPORTED_FEATURES": True}
    with override_settings(EMAIL_BACKEND=sandbox.backend(esp), ANYMAIL=settings):
        order(subject="Your order 1234", body="Your order has shipped.").send()
    [received] = sandbox.messages()
    page = requests.get(f"{sandbox.url}messages/{received.id}", timeout=10)
    assert page.status_code == 200
    for header in sandbox.emulator(esp).secret_headers or ("Authorization",):
        assert re.search(rf"^{header}: \(hidden\)$", page.text, re.MULTILINE | re.IGNORECASE)
    assert sandbox.api_key not in page.text


def test_attachment_download(sandbox: Sandbox) -> None:
    send_hostile(sandbox)
    download = requests.get(f"{sandbox.url}messages/1/attachments/0", timeout=10)
    assert download.status_code == 200
    assert download.content == f"<html>{HOSTILE}</html>".encode()
    # Never rendered by the browser: opaque bytes, as a download.
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert "<" not in download.headers["Content-Disposition"]
    assert requests.get(f"{sandbox.url}messages/1/attachments/5", timeout=10).status_code == 404
    assert requests.get(f"{sandbox.url}messages/9", timeout=10).status_code == 404


def test_event_button_posts_and_shows_the_apps_answer(sandbox: Sandbox) -> None:
    with override_settings(ANYMAIL=sandbox.settings("postmark")), captured_events() as events:
        send_hostile(sandbox)
        response = requests.post(
            f"{sandbox.url}messages/1/events",
            data={"event": "bounced", "recipient": "ana@example.com"},
            timeout=30,
            allow_redirects=False,
        )
    assert response.status_code == 303
    assert response.headers["Location"] == "/messages/1"
    assert [event.event_type for event in events] == ["bounced"]
    page = requests.get(f"{sandbox.url}messages/1", timeout=10).text
    assert re.search(r'<tr class="event">.*bounced.*ana@example.com.*"ok status">200<', page)
    assert "bounced" in requests.get(sandbox.url, timeout=10).text


def test_inbound_form(sandbox: Sandbox) -> None:
    with (
        override_settings(ANYMAIL=sandbox.settings("postmark")),
        captured_events(inbound) as events,
    ):
        response = requests.post(
            f"{sandbox.url}inbound",
            data={
                "esp": "postmark",
                "from": "ana@example.net",
                "to": "inbox@example.com",
                "subject": HOSTILE,
                "text": "Hello",
            },
            timeout=30,
            allow_redirects=False,
        )
    assert response.status_code == 303
    [event] = events
    assert event.message.subject == HOSTILE
    assert event.message.text == "Hello"
    listing = requests.get(sandbox.url, timeout=10).text
    assert '"ok status">200<' in listing


def test_messages_json(sandbox: Sandbox) -> None:
    send_hostile(sandbox)
    [summary] = requests.get(f"{sandbox.url}api/messages", timeout=10).json()
    assert summary["esp"] == "postmark"
    assert summary["subject"] == f"Hi {HOSTILE}"
    assert summary["status"] == "accepted"
