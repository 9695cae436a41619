"""Brevo: tracking posts batched (a JSON array of events); inbound, an email with two
attachments downloaded from Brevo's API (stubbed); and the deprecated SendinBlue
tracking route (Brevo's view under its old name). Basic auth only.
"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from anymail.exceptions import AnymailDeprecationWarning

from ...brevo_support import API_KEY, any_attachment_api
from ..fuzz import Mutation, mutations
from ..registry import BASIC_AUTH_ONLY, webhook_case


def brevo_mutations(payload: Any) -> list[Mutation]:
    """The JSON mutations; [event] is a valid (batched) post of one event."""
    return [
        replace(mutation, strict=False)
        if mutation.id == "top-level-list" and isinstance(payload, dict)
        else mutation
        for mutation in mutations(payload)
    ]


@contextmanager
def deprecation_expected() -> Iterator[None]:
    # (Its warning has its own test, in test_brevo.py.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnymailDeprecationWarning)
        yield


TRACKING = webhook_case(
    "brevo",
    "Brevo",
    "tracking_batched.json",
    event_count=2,
    fuzz=brevo_mutations,
    fuzz_fixtures="tracking_*.json",
    fuzz_sample=16,
    **BASIC_AUTH_ONLY,
)
CASES = [
    TRACKING,
    webhook_case(
        "brevo",
        "Brevo",
        "inbound_attachments.json",
        kind="inbound",
        event_count=1,
        settings={"BREVO_API_KEY": API_KEY},
        context=any_attachment_api,
        **BASIC_AUTH_ONLY,
    ),
    webhook_case(
        "sendinblue",
        "SendinBlue",
        TRACKING.payload,
        event_count=TRACKING.event_count,
        context=deprecation_expected,
        **BASIC_AUTH_ONLY,
    ),
]
