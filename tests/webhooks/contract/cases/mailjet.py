"""Mailjet: basic auth only. Tracking posts grouped events (no ids: deduplicated by
digest); inbound (Parse API) posts one parsed message."""

import json
from dataclasses import replace
from functools import partial
from typing import Any

from anymail.signals import tracking
from anymail.testing import json_webhook_request

from ....utils import fixture_json
from ..fuzz import Mutation, mutations
from ..registry import NOT_SECURED, WebhookContractCase, fixture_payloads, inbound_case


def mailjet_mutations(payload: Any, *, grouped: bool = False) -> list[Mutation]:
    """The JSON mutations, less strict where Mailjet's format makes a variant valid."""
    found = []
    unchanged = json.dumps(payload).encode()
    for mutation in mutations(payload):
        if mutation.payload == unchanged:
            mutation = replace(mutation, strict=False)  # "[]" has no text to spoil
        if grouped and mutation.id == "top-level-list" and isinstance(payload, dict):
            mutation = replace(mutation, strict=False)  # [event] is a valid grouped post
        found.append(mutation)
    return found


TRACKING = WebhookContractCase(
    id="mailjet_tracking",
    esp_name="Mailjet",
    url_name="mailjet_tracking_webhook",
    signal=tracking,
    payload=partial(fixture_json, "mailjet", "tracking_grouped_batch.json"),
    event_count=3,
    request=json_webhook_request,
    fuzz=partial(mailjet_mutations, grouped=True),
    fuzz_payloads=fixture_payloads("mailjet", "tracking_*"),
    warning_without_secret=NOT_SECURED,
)
CASES = [
    TRACKING,
    inbound_case(
        TRACKING,
        payload=partial(fixture_json, "mailjet", "inbound_parse_attachments.json"),
        event_count=1,
        fuzz=mailjet_mutations,
        fuzz_payloads=fixture_payloads("mailjet", "inbound_*"),
    ),
]
