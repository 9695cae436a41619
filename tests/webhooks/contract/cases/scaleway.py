"""Scaleway TEM: TEM events inside Topics and Events (SNS) envelopes, signed by a test CA.

The payload is the TEM event (the SNS ``Message``); the builder wraps it in a
``Notification`` signed now, so the fuzz mutates what TEM sends. Raw bytes are
posted as the whole body (a JSON string can't carry them unchanged).
"""

from __future__ import annotations

import contextlib
from functools import cache
from typing import Any

from anymail._testing_scaleway import make_signer, scaleway_webhook_request

from ...scaleway_support import EVENT_FIXTURES, fixture, scaleway_test_context
from ..fuzz import Mutation, mutations
from ..registry import sns_case


def payload() -> dict[str, Any]:
    return {**fixture("webhook_event_email_delivered.json"), "email_to": "to@example.com"}


def tem_mutations(payload: Any) -> list[Mutation]:
    """The JSON mutations; raw bytes that are text also go as the SNS Message."""
    found = mutations(payload)
    for mutation in list(found):
        if isinstance(mutation.payload, bytes):
            with contextlib.suppress(UnicodeDecodeError):
                text = mutation.payload.decode("utf-8")
                found.append(Mutation(f"{mutation.id}-as-message", text, mutation.strict))
    return found


CASES = [
    sns_case(
        "scaleway",
        "Scaleway",
        payload,
        event_count=1,
        request=scaleway_webhook_request,
        # Another key of the same test CA.
        forger=cache(make_signer),
        context=scaleway_test_context,
        fuzz=tem_mutations,
        fuzz_payloads=lambda: {name: fixture(name) for name in EVENT_FIXTURES},
        fuzz_each_field_once=True,
    ),
]
