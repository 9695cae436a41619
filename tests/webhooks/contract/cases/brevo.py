"""Brevo: tracking posts batched (a JSON array of events); inbound, an email with two
attachments downloaded from Brevo's API (stubbed); and the deprecated SendinBlue
tracking route (Brevo's view under its old name). Basic auth only.
"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import Any

from anymail.exceptions import AnymailDeprecationWarning
from anymail.signals import inbound, tracking
from anymail.testing import json_webhook_request

from ...brevo_support import API_KEY, any_attachment_api, fixture
from ..fuzz import Mutation, mutations
from ..registry import NOT_SECURED, WebhookContractCase, fixture_payloads


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


TRACKING = WebhookContractCase(
    id="brevo",
    esp_name="Brevo",
    url_name="brevo_tracking_webhook",
    signal=tracking,
    payload=partial(fixture, "tracking_batched.json"),
    event_count=2,
    request=json_webhook_request,
    warning_without_secret=NOT_SECURED,
    fuzz=brevo_mutations,
    fuzz_payloads=fixture_payloads("brevo", "tracking_*.json"),
    fuzz_sample=16,
)
CASES = [
    TRACKING,
    WebhookContractCase(
        id="brevo_inbound",
        esp_name="Brevo",
        url_name="brevo_inbound_webhook",
        signal=inbound,
        payload=partial(fixture, "inbound_attachments.json"),
        event_count=1,
        request=json_webhook_request,
        settings={"BREVO_API_KEY": API_KEY},
        context=any_attachment_api,
        warning_without_secret=NOT_SECURED,
    ),
    WebhookContractCase(
        id="sendinblue",
        esp_name="SendinBlue",
        url_name="sendinblue_tracking_webhook",
        signal=tracking,
        payload=TRACKING.payload,
        event_count=TRACKING.event_count,
        request=json_webhook_request,
        context=deprecation_expected,
        warning_without_secret=NOT_SECURED,
    ),
]
