"""Mailjet: basic auth only. Tracking posts grouped events (no ids: deduplicated by
digest); inbound (Parse API) posts one parsed message."""

import json
from dataclasses import replace
from functools import partial
from typing import Any

from ..fuzz import Mutation, mutations
from ..registry import BASIC_AUTH_ONLY, inbound_case, webhook_case


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


TRACKING = webhook_case(
    "mailjet",
    "Mailjet",
    "tracking_grouped_batch.json",
    event_count=3,
    fuzz=partial(mailjet_mutations, grouped=True),
    fuzz_fixtures="tracking_*",
    **BASIC_AUTH_ONLY,
)
CASES = [
    TRACKING,
    inbound_case(
        TRACKING,
        "inbound_parse_attachments.json",
        event_count=1,
        fuzz=mailjet_mutations,
        fuzz_fixtures="inbound_*",
    ),
]
