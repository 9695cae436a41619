"""SparkPost's relay webhook: one received message, its raw MIME base64-encoded."""

from typing import Any

from anymail.signals import inbound
from anymail.testing import json_webhook_request
from tests.utils import fixture_json

from ..registry import NOT_SECURED, WebhookContractCase, fixture_payloads


def payload() -> Any:
    return fixture_json("sparkpost", "inbound_relay_base64.json")


CASE = WebhookContractCase(
    id="sparkpost_inbound",
    esp_name="SparkPost",
    url_name="sparkpost_inbound_webhook",
    signal=inbound,
    payload=payload,
    event_count=1,
    request=json_webhook_request,
    fuzz_payloads=fixture_payloads("sparkpost", "inbound*.json"),
    warning_without_secret=NOT_SECURED,
)
