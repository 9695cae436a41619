"""SendGrid's Event Webhook, signed (Signed Event Webhook, ECDSA)."""

import time
from typing import Any

from anymail._testing_sendgrid import sendgrid_webhook_request, verification_key
from anymail.signals import tracking
from anymail.testing import WebhookRequest
from anymail.webhooks._signers import EcdsaTestSigner
from tests.utils import fixture_json

from ..registry import WebhookContractCase


def payload() -> Any:
    return fixture_json("sendgrid", "tracking_batch.json")


def forge(payload: Any) -> WebhookRequest:
    return sendgrid_webhook_request(payload, signer=EcdsaTestSigner())


def stale(payload: Any) -> WebhookRequest:
    # SendGrid retries for 24 hours: the default window is 25.
    return sendgrid_webhook_request(payload, timestamp=int(time.time()) - 26 * 3600)


CASE = WebhookContractCase(
    id="sendgrid",
    esp_name="SendGrid",
    url_name="sendgrid_tracking_webhook",
    signal=tracking,
    payload=payload,
    event_count=17,
    request=sendgrid_webhook_request,
    settings={"SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": verification_key()},
    forge=forge,
    stale=stale,
)
