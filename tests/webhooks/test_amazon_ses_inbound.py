"""Amazon SES inbound webhook: receipt notifications by SNS content or by S3 object."""

from __future__ import annotations

import base64
import importlib
import io
import json
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.response import StreamingBody
from django.test import Client
from moto import mock_aws

from anymail._testing_amazon_ses import sns_webhook_request
from anymail.exceptions import AnymailConfigurationError, AnymailImproperlyInstalled
from anymail.signals import inbound
from anymail.testing import captured_events
from anymail.webhooks._signers import SnsTestSigner
from tests.utils import without_boto3

from .amazon_ses_support import (
    INBOUND_URL,
    RAW_MESSAGE,
    S3_BUCKET,
    S3_KEY,
    TRACKING_URL,
    AwsStub,
    add_s3_object,
    fixture,
    just_after,
    pinned_clock,
    post,
    post_fixture,
)
from .support import assert_refused

pytestmark = pytest.mark.usefixtures("ses_webhook_environment")

LATIN1_MESSAGE = (
    b"From: =?iso-8859-1?q?Ren=E9e?= <renee@example.net>\r\n"
    b"To: support@inbound.example.com\r\n"
    b"Subject: 8-bit\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: text/plain; charset="iso-8859-1"\r\n'
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Caf\xe9 cr\xe8me\r\n"
)


def receipt(name: str = "inbound_sns_base64.json", **changes: Any) -> dict[str, Any]:
    """The fixture's envelope with changes to its SES message (``content``, ``receipt``...)."""
    envelope = fixture(name)
    message = json.loads(envelope["Message"])
    message.update(changes)
    envelope["Message"] = json.dumps(message)
    return envelope


def post_receipt(signer: SnsTestSigner, envelope: dict[str, Any], url: str = INBOUND_URL) -> Any:
    return post(sns_webhook_request(envelope, signer=signer), url, just_after(envelope))


def received(signer: SnsTestSigner, envelope: dict[str, Any]) -> Any:
    """The one inbound event dispatched for ``envelope``."""
    with captured_events(inbound) as events:
        response = post_receipt(signer, envelope)
    assert response.status_code == 200, response.content
    [event] = events
    return event


# --- SNS action ------------------------------------------------------------------------


def test_base64_content_is_parsed_as_bytes(signer: SnsTestSigner) -> None:
    # Wrapped base64 (whitespace is tolerated); 8-bit Latin-1 survives.
    content = base64.encodebytes(LATIN1_MESSAGE).decode()
    event = received(signer, receipt(content=content))
    assert event.message.text == "Café crème\n"
    assert str(event.message.from_email) == "Renée <renee@example.net>"


def test_utf8_content(signer: SnsTestSigner) -> None:
    message = received(signer, fixture("inbound_sns_utf8.json")).message
    assert message.subject == "Order 12345 — question"
    assert message.html == "<p>Hello — where is my order?</p>\n"


@pytest.mark.parametrize(
    ("content", "encoding", "reason"),
    [
        ("not base64!", "BASE64", b"is not valid base64"),
        ("SGVsbG8", "BASE64", b"is not valid base64"),  # bad padding
        ("Subject: x\n\nhi", "QUOTED-PRINTABLE", b"is not BASE64 or UTF8"),
    ],
)
def test_bad_content_is_refused(
    content: str, encoding: str, reason: bytes, signer: SnsTestSigner
) -> None:
    message = json.loads(fixture("inbound_sns_base64.json")["Message"])
    message["receipt"]["action"]["encoding"] = encoding
    with captured_events(inbound) as events:
        response = post_receipt(signer, receipt(content=content, receipt=message["receipt"]))
    assert_refused(response, events, reason)


def test_message_over_the_inbound_size_limit_is_refused(
    settings: Any, signer: SnsTestSigner
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "INBOUND_MAX_SIZE": 1000}
    with captured_events(inbound) as events:
        response = post_receipt(signer, fixture("inbound_sns_base64.json"))
    assert response.status_code == 400
    assert events == []


@pytest.mark.parametrize(
    ("verdict", "spam_detected"),
    [
        ({"status": "PASS"}, False),
        ({"status": "FAIL"}, True),
        ({"status": "GRAY"}, None),
        ({"status": "PROCESSING_FAILED"}, None),
        ({"status": "DISABLED"}, None),
        (None, None),
    ],
)
def test_spam_verdict(verdict: Any, spam_detected: bool | None, signer: SnsTestSigner) -> None:
    message = json.loads(fixture("inbound_sns_base64.json")["Message"])
    if verdict is None:
        del message["receipt"]["spamVerdict"]
    else:
        message["receipt"]["spamVerdict"] = verdict
    event = received(signer, receipt(receipt=message["receipt"]))
    assert event.message.spam_detected is spam_detected
    assert event.message.spam_score is None


def test_envelope_fields(signer: SnsTestSigner) -> None:
    message = json.loads(fixture("inbound_sns_base64.json")["Message"])
    message["receipt"]["recipients"] = ["team@inbound.example.com", "support@inbound.example.com"]
    event = received(signer, receipt(receipt=message["receipt"]))
    # One notification covers every matched recipient; the spec has one field.
    assert event.message.envelope_recipient == "team@inbound.example.com"
    assert event.message.envelope_sender == "bounces+c7a1@mail.example.net"
    assert event.esp_event["receipt"]["recipients"] == message["receipt"]["recipients"]


# --- S3 action -------------------------------------------------------------------------


def test_s3_object_is_downloaded_with_the_configured_client(
    signer: SnsTestSigner, aws: AwsStub
) -> None:
    add_s3_object(aws)
    message = received(signer, fixture("inbound_s3_action.json")).message
    assert message.subject == "Order 12345 — question"
    [(service, params)] = aws.created
    assert service == "s3"
    assert "region_name" not in params  # S3 finds the bucket's region itself
    assert aws.closed == ["s3"]


def test_s3_client_is_made_like_the_backend_s(settings: Any, signer: SnsTestSigner) -> None:
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "AMAZON_SES_CLIENT_PARAMS": {"aws_access_key_id": "AKIAEXAMPLE", "config": {}},
    }
    with mock.patch("anymail.backends.amazon_ses.boto3.session.Session", autospec=True) as session:
        client = session.return_value.client.return_value
        body = StreamingBody(io.BytesIO(RAW_MESSAGE), len(RAW_MESSAGE))
        client.get_object.return_value = {"Body": body, "Metadata": {}}
        event = received(signer, fixture("inbound_s3_action.json"))
    session.assert_called_once_with()
    session.return_value.client.assert_called_once_with(
        "s3", aws_access_key_id="AKIAEXAMPLE", config=mock.ANY
    )
    client.get_object.assert_called_once_with(Bucket=S3_BUCKET, Key=S3_KEY)
    client.close.assert_called_once_with()
    assert event.message.from_email.addr_spec == "renee@example.net"


@pytest.mark.parametrize(
    ("code", "status"), [("NoSuchKey", 404), ("AccessDenied", 403), ("SlowDown", 503)]
)
def test_s3_failure_is_retried(code: str, status: int, signer: SnsTestSigner, aws: AwsStub) -> None:
    aws.add_error("s3", "get_object", code, "nope", status)
    with captured_events(inbound) as events:
        response = post_fixture("inbound_s3_action.json", signer)
    assert response.status_code == 503  # SNS tries again; a 4xx would lose the mail
    assert response.content.startswith(
        b"Anymail AmazonSESInboundWebhookView couldn't download S3 object "
        b"'example-inbound-mail:inbound/7qe3kq0ab5n2v1c8d4u6mrd2u9o3f1t7hjg4ks01'"
    )
    assert code.encode() in response.content
    assert events == []
    assert aws.closed == ["s3"]


def test_client_side_encrypted_object_is_a_configuration_error(
    signer: SnsTestSigner, aws: AwsStub
) -> None:
    add_s3_object(
        aws, b"\x93\x01ciphertext", {"x-amz-key-v2": "AQIDAHh...", "x-amz-cek-alg": "AES"}
    )
    with pytest.raises(AnymailConfigurationError, match="encrypted by the SES receipt rule"):
        post_fixture("inbound_s3_action.json", signer)
    assert aws.closed == ["s3"]


def test_s3_round_trip_with_moto(signer: SnsTestSigner) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=S3_BUCKET)
        s3.put_object(Bucket=S3_BUCKET, Key=S3_KEY, Body=RAW_MESSAGE)
        event = received(signer, fixture("inbound_s3_action.json"))
        assert s3.list_objects_v2(Bucket=S3_BUCKET)["KeyCount"] == 1  # never deleted
    assert event.event_id == "7qe3kq0ab5n2v1c8d4u6mrd2u9o3f1t7hjg4ks01"
    assert event.message.text == "Hello — where is my order?\n"


def test_s3_missing_object_with_moto(signer: SnsTestSigner) -> None:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=S3_BUCKET)
        response = post_fixture("inbound_s3_action.json", signer)
    assert response.status_code == 503
    assert b"NoSuchKey" in response.content


# --- misrouted posts -------------------------------------------------------------------


def test_other_receipt_actions_are_a_configuration_error(signer: SnsTestSigner) -> None:
    message = json.loads(fixture("inbound_sns_base64.json")["Message"])
    message["receipt"]["action"] = {"type": "Lambda", "functionArn": "arn:aws:lambda:x"}
    with pytest.raises(AnymailConfigurationError, match="only with 'SNS' or 'S3' receipt rule"):
        post_receipt(signer, receipt(receipt=message["receipt"]))


@pytest.mark.parametrize(
    ("name", "url", "expected"),
    [
        (
            "tracking_event_delivery.json",
            INBOUND_URL,
            "You seem to have set an Amazon SES *sending* event or notification to publish to "
            "an SNS Topic that posts to Anymail's *inbound* webhook URL. "
            "(SNS TopicArn arn:aws:sns:us-east-1:123456789012:SES_Tracking_Events)",
        ),
        (
            "inbound_sns_base64.json",
            TRACKING_URL,
            "You seem to have set an Amazon SES *inbound* receipt rule to publish to an SNS "
            "Topic that posts to Anymail's *tracking* webhook URL. "
            "(SNS TopicArn arn:aws:sns:us-east-1:123456789012:SES_Inbound_Events)",
        ),
    ],
    ids=["tracking_event_at_the_inbound_url", "inbound_notification_at_the_tracking_url"],
)
def test_notification_at_the_other_url(
    signer: SnsTestSigner, name: str, url: str, expected: str
) -> None:
    with pytest.raises(AnymailConfigurationError) as error:
        post_receipt(signer, fixture(name), url)
    assert str(error.value) == expected


def test_misrouted_post_answers_500(signer: SnsTestSigner) -> None:
    # Not a 4xx: the error is logged as a server error and SNS retries a few times.
    envelope = fixture("inbound_sns_base64.json")
    request = sns_webhook_request(envelope, signer=signer)
    with pinned_clock(just_after(envelope)), captured_events() as events:
        response = request.post(Client(raise_request_exception=False), TRACKING_URL)
    assert response.status_code == 500
    assert events == []


# --- without boto3 ---------------------------------------------------------------------


def test_views_without_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    # Fresh imports, as in a project without boto3 (all put back after the test).
    without_boto3(
        monkeypatch, "anymail.backends.amazon_ses", "anymail.webhooks.amazon_ses", "anymail.urls"
    )
    urls = importlib.import_module("anymail.urls")  # including the URLs needs no extra
    views = importlib.import_module("anymail.webhooks.amazon_ses")
    assert {pattern.name for pattern in urls.urlpatterns} >= {
        "amazon_ses_tracking_webhook",
        "amazon_ses_inbound_webhook",
    }
    for view in (views.AmazonSESTrackingWebhookView, views.AmazonSESInboundWebhookView):
        with pytest.raises(AnymailImproperlyInstalled, match=r"django-anymail\[amazon-ses\]"):
            view()
