"""Amazon SES: SES messages inside SNS envelopes, signed with a test certificate.

The payload is the SES message (the SNS ``Message``); the builder wraps it in a
``Notification`` signed now, so the fuzz mutates what SES sends. Raw bytes are
posted as the whole body (a JSON string can't carry them unchanged). Inbound: a
receipt notification with the message inline (SNS action).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import pytest

from anymail._testing_amazon_ses import sns_webhook_request
from anymail.webhooks._signers import SnsTestSigner
from anymail.webhooks._sns_certs import DEFAULT_CERT_CACHE

from ...amazon_ses_support import fixture, use_aws_test_environment
from ..registry import inbound_case, sns_case


def ses_message(name: str) -> dict[str, Any]:
    return json.loads(fixture(name)["Message"])


def tracking_payload() -> dict[str, Any]:
    # A bounce for two recipients, one of them to@example.com (the suite alters it).
    message = ses_message("tracking_event_bounce_permanent.json")
    message["bounce"]["bouncedRecipients"].append(
        {"emailAddress": "to@example.com", "action": "failed", "status": "5.1.1"}
    )
    return message


def inbound_payload() -> dict[str, Any]:
    message = ses_message("inbound_sns_base64.json")
    message["mail"]["destination"] = ["to@example.com"]
    return message


@contextmanager
def aws_test_context() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        use_aws_test_environment(patch)
        DEFAULT_CERT_CACHE.clear()
        yield
    DEFAULT_CERT_CACHE.clear()


TRACKING = sns_case(
    "amazon_ses",
    "Amazon SES",
    tracking_payload,
    event_count=2,
    request=sns_webhook_request,
    forger=cache(SnsTestSigner),
    context=aws_test_context,
)
CASES = [TRACKING, inbound_case(TRACKING, inbound_payload, event_count=1)]
