"""SendGrid's Inbound Parse in raw mode ("POST the raw, full MIME message")."""

from __future__ import annotations

from typing import Any

from anymail._testing_sendgrid import sendgrid_inbound_webhook_request
from anymail.signals import inbound
from tests.webhooks.sendgrid_fixtures import inbound_form_fields

from ..registry import NOT_SECURED, WebhookContractCase
from .sendgrid_inbound import form_mutations


def payload() -> list[tuple[str, Any]]:
    return inbound_form_fields("inbound_raw.form.json")


CASE = WebhookContractCase(
    id="sendgrid_inbound_raw",
    esp_name="SendGrid",
    url_name="sendgrid_inbound_webhook",
    signal=inbound,
    payload=payload,
    event_count=1,
    request=sendgrid_inbound_webhook_request,
    fuzz=form_mutations,
    warning_without_secret=NOT_SECURED,
)
