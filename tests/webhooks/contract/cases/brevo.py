"""Brevo tracking: a batched post (a JSON array of events), basic auth only."""

from dataclasses import replace
from typing import Any

from anymail.signals import tracking
from anymail.testing import json_webhook_request

from ...brevo_support import fixture
from ..fuzz import Mutation, mutations
from ..registry import NOT_SECURED, WebhookContractCase, fixture_payloads


def payload() -> Any:
    return fixture("tracking_batched.json")


def brevo_mutations(payload: Any) -> list[Mutation]:
    """The JSON mutations; [event] is a valid (batched) post of one event."""
    return [
        replace(mutation, strict=False)
        if mutation.id == "top-level-list" and isinstance(payload, dict)
        else mutation
        for mutation in mutations(payload)
    ]


CASE = WebhookContractCase(
    id="brevo",
    esp_name="Brevo",
    url_name="brevo_tracking_webhook",
    signal=tracking,
    payload=payload,
    event_count=2,
    request=json_webhook_request,
    warning_without_secret=NOT_SECURED,
    fuzz=brevo_mutations,
    fuzz_payloads=fixture_payloads("brevo", "tracking_*.json"),
    fuzz_sample=16,
)
