"""Mandrill's combined webhook: a batch of every tracking event fixture, and an inbound
message (to the inbound signal)."""

from dataclasses import replace
from typing import Any

from anymail._testing_mandrill import mandrill_webhook_request
from anymail.signals import inbound
from tests.utils import fixture_json

from ..registry import signed_by, webhook_case

WEBHOOK_KEY = "TEST-mandrill-webhook-key-NOT-REAL"
EVENTS = (
    *("send", "deferral", "hard_bounce", "soft_bounce", "delivered", "open", "click"),
    *("spam", "unsub", "reject", "blacklist", "whitelist"),
)


def payload() -> list[Any]:
    return [fixture_json("mandrill", f"tracking_{name}.json") for name in EVENTS]


def inbound_payload() -> list[Any]:
    return [fixture_json("mandrill", "inbound.json")]


TRACKING = webhook_case(
    "mandrill",
    "Mandrill",
    payload,
    event_count=len(EVENTS),
    settings={"MANDRILL_WEBHOOK_KEY": WEBHOOK_KEY},
    **signed_by(mandrill_webhook_request, {"webhook_key": "some-other-webhook-key"}),
    url_name="mandrill_webhook",  # one view for both signals
)
CASES = [
    TRACKING,
    replace(
        TRACKING, id="mandrill_inbound", signal=inbound, payload=inbound_payload, event_count=1
    ),
]
