"""The inbound form posts a message in each receiving ESP's own inbound format, signed or
authenticated as that ESP does, to the app's real inbound webhook view over HTTP."""

from __future__ import annotations

import pytest
import requests
from django.test import override_settings

from anymail.sandbox import EMULATORS, Sandbox
from anymail.signals import inbound
from anymail.testing import captured_events

#: The ESPs whose webhooks receive mail (every one with an inbound URL in anymail.urls).
INBOUND_ESPS = [
    "amazon_ses",
    "brevo",
    "mailgun",
    "mailjet",
    "mandrill",
    "postal",
    "postmark",
    "resend",
    "sendgrid",
    "sendinblue",
    "sparkpost",
]
FORM = {
    "from": "Ana García <ana@example.net>",
    "to": "Support <support@example.com>",
    "subject": "Where is order 1234?",
    "text": "Hi, where is my order?\n",
}


def test_every_receiving_esp_has_an_inbound_form() -> None:
    receiving = sorted(esp for esp, cls in EMULATORS.items() if cls.inbound_payload is not None)
    assert receiving == INBOUND_ESPS


@pytest.mark.parametrize("esp", INBOUND_ESPS)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the Sendinblue views
def test_inbound_post_reaches_inbound_receivers(sandbox: Sandbox, esp: str) -> None:
    with (
        override_settings(ANYMAIL=sandbox.settings(esp)),
        captured_events(inbound) as events,
    ):
        record = sandbox.post_inbound({"esp": esp, **FORM})

    assert record.status == 200, record.answer
    assert record.url.startswith(f"{sandbox.webhook_url}{esp}/")
    [event] = events
    message = event.message
    assert message.subject == "Where is order 1234?"
    assert message.from_email is not None
    assert message.from_email.addr_spec == "ana@example.net"
    assert [to.addr_spec for to in message.to] == ["support@example.com"]
    assert (message.text or "").replace("\r\n", "\n").strip() == "Hi, where is my order?"
    assert sandbox.inbound_posts == [record]


@pytest.mark.parametrize("esp", ["mailgun", "mandrill", "postal", "resend"])
def test_inbound_posts_are_really_verified(sandbox: Sandbox, esp: str) -> None:
    """An app that expects another sandbox's keys refuses the post (same WEBHOOK_SECRET)."""
    other = Sandbox(api_key="another-sandbox-key")
    settings = other.settings(esp)
    with override_settings(ANYMAIL=settings), captured_events(inbound) as events:
        record = sandbox.post_inbound({"esp": esp, **FORM})
    assert events == []
    assert record.status in {400, 401, 403}


def test_the_form_lists_every_receiving_esp(sandbox: Sandbox) -> None:
    page = requests.get(sandbox.url, timeout=10).text
    form = page.split('<form method="post" action="/inbound">', 1)[1].split("</form>", 1)[0]
    assert [f'<option value="{esp}">' in form for esp in INBOUND_ESPS] == [True] * len(INBOUND_ESPS)
    assert 'value="scaleway"' not in form  # Scaleway TEM receives no mail


def test_esp_without_inbound_is_refused(sandbox: Sandbox) -> None:
    response = requests.post(f"{sandbox.url}inbound", data={"esp": "scaleway", **FORM}, timeout=10)
    assert response.status_code == 400
    assert "Scaleway TEM receives no mail" in response.text
