"""Mandrill's combined webhook, with an inbound message (to the inbound signal)."""

from typing import Any

from anymail._testing_mandrill import mandrill_webhook_request
from anymail.signals import inbound
from anymail.testing import WebhookRequest
from tests.utils import fixture_json

from ..registry import WebhookContractCase
from .mandrill import WEBHOOK_KEY


def payload() -> list[Any]:
    return [fixture_json("mandrill", "inbound.json")]


def forge(payload: Any) -> WebhookRequest:
    return mandrill_webhook_request(payload, webhook_key="some-other-webhook-key")


CASE = WebhookContractCase(
    id="mandrill_inbound",
    esp_name="Mandrill",
    url_name="mandrill_webhook",
    signal=inbound,
    payload=payload,
    event_count=1,
    request=mandrill_webhook_request,
    settings={"MANDRILL_WEBHOOK_KEY": WEBHOOK_KEY},
    forge=forge,
)
