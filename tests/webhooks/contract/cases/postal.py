"""Postal's tracking webhook and inbound HTTP endpoint (JSON, raw message), RSA-signed
(SHA-256 and SHA-1 headers)."""

from functools import partial
from typing import Any

from anymail._testing_postal import postal_webhook_request, webhook_key
from anymail.signals import tracking
from anymail.testing import WebhookRequest
from anymail.webhooks._signers import RsaTestSigner
from tests.utils import fixture_json

from ..registry import WebhookContractCase, fixture_payloads, inbound_case


def forge(payload: Any) -> WebhookRequest:
    return postal_webhook_request(payload, signer=RsaTestSigner())


TRACKING = WebhookContractCase(
    id="postal",
    esp_name="Postal",
    url_name="postal_tracking_webhook",
    signal=tracking,
    payload=partial(fixture_json, "postal", "tracking_message_bounced.json"),
    event_count=1,
    request=postal_webhook_request,
    settings={"POSTAL_WEBHOOK_KEY": webhook_key()},
    forge=forge,
    fuzz_payloads=fixture_payloads("postal", "tracking*.json"),
)
CASES = [
    TRACKING,
    inbound_case(
        TRACKING,
        payload=partial(fixture_json, "postal", "inbound_raw_message.json"),
        fuzz_payloads=fixture_payloads("postal", "inbound*.json"),
    ),
]
