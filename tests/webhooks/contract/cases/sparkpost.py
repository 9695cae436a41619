"""SparkPost's event webhook: a batch of every event family (basic auth only)."""

from typing import Any

from anymail.signals import tracking
from anymail.testing import json_webhook_request
from tests.utils import fixture_json

from ..registry import NOT_SECURED, WebhookContractCase, fixture_payloads


def payload() -> Any:
    return fixture_json("sparkpost", "tracking_batch.json")


CASE = WebhookContractCase(
    id="sparkpost",
    esp_name="SparkPost",
    url_name="sparkpost_tracking_webhook",
    signal=tracking,
    payload=payload,
    event_count=19,
    request=json_webhook_request,
    fuzz_payloads=fixture_payloads("sparkpost", "tracking*.json"),
    warning_without_secret=NOT_SECURED,
)
