"""Amazon SES in the contract suite, against moto's emulated AWS (no network).

The backend calls SES through boto3, not ``requests``, so the answers come from
moto's ``mock_aws``: a sender identity verified there makes sends succeed; an
unverified one makes SES (moto) refuse them with ``MessageRejected``.
"""

from __future__ import annotations

import email
import email.policy
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from ...aws_environment import AWS_ENVIRONMENT_TO_CLEAR, AWS_TEST_ENVIRONMENT, REGION
from ..registry import ContractCase


@contextmanager
def emulated_aws() -> Iterator[None]:
    with mock.patch.dict(os.environ, AWS_TEST_ENVIRONMENT), mock_aws():
        for name in AWS_ENVIRONMENT_TO_CLEAR:
            os.environ.pop(name, None)
        yield


def sent_count() -> int:
    return len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def _sent_mime() -> list[Any]:
    """Every raw message SES (moto) accepted."""
    messages = []
    for sent in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages:
        raw = sent.raw_data
        raw = raw if isinstance(raw, bytes) else raw.encode()
        messages.append(email.message_from_bytes(raw, policy=email.policy.default))
    return messages


def sent_text() -> str:
    """The decoded text parts of every message sent."""
    return "\n".join(
        part.get_content()
        for mime in _sent_mime()
        for part in mime.walk()
        if part.get_content_maintype() == "text"
    )


def sent_tags(request: Any) -> list[str]:
    return [str(tag) for tag in _sent_mime()[-1].get_all("X-Tag", [])]


def accept() -> None:
    # The contract messages come from ...@example.com: verify the whole domain.
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="example.com")


def client_timeouts(connection: Any) -> tuple[Any, Any]:
    config = connection.create_client().meta.config
    return config.connect_timeout, config.read_timeout


CASE = ContractCase(
    id="amazon_ses",
    backend="anymail.backends.amazon_ses.EmailBackend",
    esp_name="Amazon SES",
    options={"client_params": {"region_name": REGION}},
    uses_requests=False,
    accept=accept,
    # No verified identity: SES refuses the sender.
    error=(400, None, "Did not have authority to send from email"),
    context=emulated_aws,
    count_calls=sent_count,
    sent_text=sent_text,
    sent_tags=sent_tags,
    # moto doesn't implement send_bulk_email (template sends); the backend's own
    # tests cover those with botocore's Stubber.
    features_not_mocked=frozenset({"template_id"}),
    client_timeouts=client_timeouts,
)
