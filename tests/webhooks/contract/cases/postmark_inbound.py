"""Postmark inbound: basic auth only, one parsed message per post."""

from functools import partial

from anymail.signals import inbound
from anymail.testing import json_webhook_request

from ....utils import fixture_json
from ..registry import NOT_SECURED, WebhookContractCase, fixture_payloads

CASE = WebhookContractCase(
    id="postmark_inbound",
    esp_name="Postmark",
    url_name="postmark_inbound_webhook",
    signal=inbound,
    payload=partial(fixture_json, "postmark", "inbound_parsed.json"),
    event_count=1,
    request=json_webhook_request,
    fuzz_payloads=fixture_payloads("postmark", "inbound_*"),
    warning_without_secret=NOT_SECURED,
)
