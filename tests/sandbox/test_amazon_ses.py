"""Amazon SES in the sandbox: boto3's sesv2 client, pointed at it by AMAZON_SES_CLIENT_PARAMS
(endpoint_url), talks to an emulation that checks its SigV4 signature and answers as SES does
(the fact sheet's error fixtures); events come back as SNS notifications, signed."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from django.test import override_settings

from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailMessage
from anymail.sandbox import Sandbox
from anymail.sandbox.esps.amazon_ses import ACCESS_KEY, CONFIGURATION_SET
from anymail.testing import captured_events
from tests.sandbox.messages import order
from tests.utils import fixture_json

pytest.importorskip("boto3")


def ses_settings(sandbox: Sandbox, **client_params: Any) -> dict[str, Any]:
    settings = sandbox.settings("amazon_ses")
    settings["AMAZON_SES_CLIENT_PARAMS"] = {**settings["AMAZON_SES_CLIENT_PARAMS"], **client_params}
    return settings


def send(sandbox: Sandbox, message: AnymailMessage, **settings: Any) -> None:
    with override_settings(
        EMAIL_BACKEND=sandbox.backend("amazon_ses"),
        ANYMAIL={**ses_settings(sandbox), **settings},
    ):
        message.send()


def test_settings_point_boto3_at_the_sandbox(sandbox: Sandbox) -> None:
    settings = sandbox.settings("amazon_ses")
    assert settings["AMAZON_SES_CLIENT_PARAMS"] == {
        "endpoint_url": f"{sandbox.url}amazon_ses/",
        "region_name": "us-east-1",
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": sandbox.api_key,
    }
    assert settings["AMAZON_SES_CONFIGURATION_SET_NAME"] == CONFIGURATION_SET


def test_raw_send_keeps_metadata_and_tags_for_the_events(sandbox: Sandbox) -> None:
    message = order(metadata={"order_id": "1234"}, tags=["receipt"])
    send(sandbox, message)
    [received] = sandbox.messages()
    assert received.request.path == "/amazon_ses/v2/email/outbound-emails"
    assert received.message.metadata == {"order_id": "1234"}
    assert received.message.tags == ["receipt"]
    assert message.anymail_status.message_id == received.message.ids["ana@example.com"]

    with override_settings(ANYMAIL=ses_settings(sandbox)), captured_events() as events:
        record = sandbox.fire(received, "bounced")
    assert record.status == 200
    [event] = events
    assert (event.event_type, event.recipient) == ("bounced", "ana@example.com")
    assert event.metadata == {"order_id": "1234"}
    assert event.tags == ["receipt"]
    assert event.mta_response == "smtp; 550 5.1.1 <ana@example.com>: user unknown"


def test_template_batch_send_is_one_message_per_recipient(sandbox: Sandbox) -> None:
    message = AnymailMessage(
        from_email="shop@example.com",
        to=["ana@example.com", "jo@example.net"],
        template_id="OrderShipped",
        merge_data={"ana@example.com": {"name": "Ana"}, "jo@example.net": {"name": "Jo"}},
        merge_metadata={"ana@example.com": {"customer": "c-17"}},
    )
    send(sandbox, message)
    received = sandbox.messages()
    assert [item.request.path for item in received] == [
        "/amazon_ses/v2/email/outbound-bulk-emails"
    ] * 2
    assert {item.message.template for item in received} == {"OrderShipped"}
    by_recipient = {item.message.to[0]: item for item in received}
    assert by_recipient["ana@example.com"].message.metadata == {"customer": "c-17"}
    status = message.anymail_status.recipients
    assert (
        status["jo@example.net"].message_id
        == by_recipient["jo@example.net"].message.ids["jo@example.net"]
    )
    assert {r.status for r in status.values()} == {"queued"}


def test_events_are_signed_by_the_sandboxs_own_sns_certificate(sandbox: Sandbox) -> None:
    """The view checks the SNS signature against the certificate handed over for the
    sandbox's certificate URL: the sandbox's own, not anymail.testing's default signer."""
    from anymail._testing_amazon_ses import default_signer
    from anymail.webhooks._sns_certs import DEFAULT_CERT_CACHE

    send(sandbox, order())
    with override_settings(ANYMAIL=ses_settings(sandbox)), captured_events() as events:
        record = sandbox.fire(sandbox.messages()[0], "delivered")
    assert record.status == 200 and len(events) == 1
    signer = sandbox.keys.sns
    assert signer is not default_signer()
    assert DEFAULT_CERT_CACHE.get(signer.cert_url("us-east-1")) == signer.certificate


def test_unknown_configuration_set(sandbox: Sandbox) -> None:
    fixture = fixture_json("amazon_ses", "send_error_not_found.json")
    with pytest.raises(AnymailAPIError) as info:
        send(sandbox, order(), AMAZON_SES_CONFIGURATION_SET_NAME="TrackingConfigSet")
    assert fixture["str"] in str(info.value)
    response = info.value.response
    assert response["Error"] == fixture["response"]["Error"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert sandbox.messages() == []


@pytest.mark.parametrize(
    ("client_params", "code"),
    [
        ({"aws_secret_access_key": "not-the-secret"}, "SignatureDoesNotMatch"),
        ({"aws_access_key_id": "AKIAOTHERKEY"}, "UnrecognizedClientException"),
    ],
)
def test_credentials_are_checked(
    sandbox: Sandbox, client_params: dict[str, str], code: str
) -> None:
    with (
        pytest.raises(AnymailAPIError) as info,
        override_settings(
            EMAIL_BACKEND=sandbox.backend("amazon_ses"),
            ANYMAIL=ses_settings(sandbox, **client_params),
        ),
    ):
        order().send()
    assert info.value.response["Error"]["Code"] == code
    assert info.value.status_code == 403
    assert "not-the-secret" not in str(info.value)
    [refused] = sandbox.store.rejected
    assert refused.response.headers["x-amzn-ErrorType"] == code


def test_unsigned_request(sandbox: Sandbox) -> None:
    answer = requests.post(f"{sandbox.url}amazon_ses/v2/email/outbound-emails", json={}, timeout=5)
    assert answer.status_code == 403
    assert answer.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert answer.json() == {"message": "Missing Authentication Token"}


def test_recipient_limit(sandbox: Sandbox) -> None:
    message = order()
    message.to = [f"user{n}@example.com" for n in range(51)]
    with pytest.raises(AnymailAPIError) as info:
        send(sandbox, message)
    assert info.value.response["Error"] == {
        "Code": "MessageRejected",
        "Message": "Recipient count exceeds 50.",
    }
