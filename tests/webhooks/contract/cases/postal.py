"""Postal's tracking webhook, RSA-signed (SHA-256 and SHA-1 headers)."""

from typing import Any

from anymail._testing_postal import postal_webhook_request, webhook_key
from anymail.signals import tracking
from anymail.testing import WebhookRequest
from anymail.webhooks._signers import RsaTestSigner
from tests.utils import fixture_json

from ..registry import WebhookContractCase, fixture_payloads


def payload() -> Any:
    return fixture_json("postal", "tracking_message_bounced.json")


def forge(payload: Any) -> WebhookRequest:
    return postal_webhook_request(payload, signer=RsaTestSigner())


CASE = WebhookContractCase(
    id="postal",
    esp_name="Postal",
    url_name="postal_tracking_webhook",
    signal=tracking,
    payload=payload,
    event_count=1,
    request=postal_webhook_request,
    settings={"POSTAL_WEBHOOK_KEY": webhook_key()},
    forge=forge,
    fuzz_payloads=fixture_payloads("postal", "tracking*.json"),
)
