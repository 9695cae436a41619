"""Mailjet inbound (Parse API): basic auth only, one parsed message per post."""

from functools import partial

from anymail.signals import inbound
from anymail.testing import json_webhook_request

from ....utils import fixture_json
from ..registry import NOT_SECURED, WebhookContractCase, fixture_payloads
from .mailjet_tracking import mailjet_mutations

CASE = WebhookContractCase(
    id="mailjet_inbound",
    esp_name="Mailjet",
    url_name="mailjet_inbound_webhook",
    signal=inbound,
    payload=partial(fixture_json, "mailjet", "inbound_parse_attachments.json"),
    event_count=1,
    request=json_webhook_request,
    fuzz=mailjet_mutations,
    fuzz_payloads=fixture_payloads("mailjet", "inbound_*"),
    warning_without_secret=NOT_SECURED,
)
