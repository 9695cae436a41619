"""Brevo inbound: an email with two attachments, downloaded from Brevo's API (stubbed)."""

from typing import Any

from anymail.signals import inbound
from anymail.testing import json_webhook_request

from ...brevo_support import API_KEY, any_attachment_api, fixture
from ..registry import NOT_SECURED, WebhookContractCase


def payload() -> Any:
    return fixture("inbound_attachments.json")


CASE = WebhookContractCase(
    id="brevo_inbound",
    esp_name="Brevo",
    url_name="brevo_inbound_webhook",
    signal=inbound,
    payload=payload,
    event_count=1,
    request=json_webhook_request,
    settings={"BREVO_API_KEY": API_KEY},
    context=any_attachment_api,
    warning_without_secret=NOT_SECURED,
)
