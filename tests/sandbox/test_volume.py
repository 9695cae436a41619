"""Coalesced and split sends against the sandbox's emulators: every message arrives,
with the id the emulator gave it. (The Postmark and Resend emulators refuse a call
over the ESP's limit, 500 and 100 messages, as the ESPs do.)"""

from __future__ import annotations

import pytest
from django.core.mail import get_connection
from django.test import override_settings

from anymail.message import AnymailMessage
from anymail.sandbox import Sandbox
from tests.sandbox.messages import order


def message(index: int, to: list[str] | None = None) -> AnymailMessage:
    sent = order(
        subject=f"Order {index}",
        body=f"Your order {index} has shipped.",
        to=to or [f"customer{index}@example.com"],
    )
    sent.attach_alternative(f"<p>Order {index}</p>", "text/html")
    return sent


@pytest.mark.parametrize(("esp", "count"), [("postmark", 1201), ("resend", 250), ("mailjet", 120)])
def test_coalesced_and_split_sends_stay_within_the_esp_limits(
    sandbox: Sandbox, esp: str, count: int
) -> None:
    singles = [message(index) for index in range(count)]
    batch = message(count, to=[f"r{index}@example.com" for index in range(count)])
    batch.merge_metadata = {}  # a batch send: one message per "to"

    with override_settings(ANYMAIL=sandbox.settings(esp)):
        backend = get_connection(sandbox.backend(esp), send_concurrency=3)
        assert backend.send_messages([*singles, batch]) == count + 1

    received = sandbox.messages()
    assert len(received) == 2 * count
    ids = {address: str(i) for r in received for address, i in r.message.ids.items()}
    for sent in singles:
        [(address, status)] = sent.anymail_status.recipients.items()
        assert str(status.message_id) == ids[address]
    assert {a: str(s.message_id) for a, s in batch.anymail_status.recipients.items()} == {
        f"r{index}@example.com": ids[f"r{index}@example.com"] for index in range(count)
    }
