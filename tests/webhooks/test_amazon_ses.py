"""Amazon SES webhooks through their URLs: SNS posts in, signals and AWS calls out.

Real SNS bodies (``tests/fixtures/amazon_ses``) are re-signed by real RSA with a
test certificate (amazon_ses_support.py explains why), or posted as they are and
verified with the fixtures' own certificate, served locally.
"""

from __future__ import annotations

import json
import logging
import warnings
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
import responses
from django.core import checks
from django.test import Client

from anymail._testing_amazon_ses import sns_timestamp, sns_webhook_request, trust_signer
from anymail.checks import check_amazon_ses_webhooks
from anymail.exceptions import (
    AnymailImproperlyConfigured,
    AnymailInsecureWebhookWarning,
)
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from anymail.testing import captured_events, json_webhook_request, webhook_request
from anymail.webhooks._signers import SnsTestSigner
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView, AmazonSESTrackingWebhookView
from anymail.webhooks.signing import utc_now
from tests.utils import FIXTURES_DIR

from .amazon_ses_support import (
    EXPECTATIONS,
    INBOUND_URL,
    SECRET,
    TRACKING_URL,
    AwsStub,
    add_s3_object,
    fixture,
    just_after,
    make_signer,
    post,
    post_fixture,
    sns_headers,
)
from .support import assert_refused

pytestmark = pytest.mark.usefixtures("ses_webhook_environment")

FIXTURE_CERT = (
    FIXTURES_DIR / "amazon_ses" / "SimpleNotificationService-77a6c7533e50bed7fac7e9df571e806b.pem"
)
SNS_FIXTURES = sorted(
    name
    for name in EXPECTATIONS
    if name not in {"tracking_bad_signature.json", "tracking_untrusted_cert_url.json"}
)
TRACKING_FIELDS = (
    "event_type",
    "recipient",
    "message_id",
    "event_id",
    "timestamp",
    "tags",
    "metadata",
    "reject_reason",
    "description",
    "mta_response",
    "user_agent",
    "click_url",
)
TRACKING_DEFAULTS: dict[str, Any] = {"tags": [], "metadata": {}}


def tracking_fields(event: AnymailTrackingEvent) -> dict[str, Any]:
    return {field: getattr(event, field) for field in TRACKING_FIELDS}


def expected_tracking_fields(expected: dict[str, Any]) -> dict[str, Any]:
    fields = {field: expected.get(field, TRACKING_DEFAULTS.get(field)) for field in TRACKING_FIELDS}
    fields["timestamp"] = datetime.fromisoformat(expected["timestamp"])
    return fields


def inbound_fields(event: AnymailInboundEvent) -> dict[str, Any]:
    message = event.message
    return {
        "event_type": event.event_type,
        "event_id": event.event_id,
        "timestamp": event.timestamp,
        "envelope_sender": message.envelope_sender,
        "envelope_recipient": message.envelope_recipient,
        "from_email": str(message.from_email),
        "to": [str(address) for address in message.to],
        "cc": [str(address) for address in message.cc],
        "subject": message.subject,
        "text (stripped)": message.text.strip(),
        "html (stripped)": message.html.strip(),
        "spam_detected": message.spam_detected,
        "spam_score": message.spam_score,
    }


def assert_events_as_expected(name: str, events: list[Any]) -> None:
    expected = EXPECTATIONS[name]["expect"]
    esp_event = json.loads(fixture(name)["Message"]) if expected else None
    if EXPECTATIONS[name]["url"] == INBOUND_URL:
        assert [inbound_fields(event) for event in events] == [
            {**item, "timestamp": datetime.fromisoformat(item["timestamp"])} for item in expected
        ]
    else:
        assert [tracking_fields(event) for event in events] == [
            expected_tracking_fields(item) for item in expected
        ]
    assert all(event.esp_event == esp_event for event in events)


# --- every fixture, as SNS posts it -----------------------------------------------------


@pytest.mark.parametrize("name", SNS_FIXTURES)
def test_fixture_dispatches_the_expected_events(
    name: str, signer: SnsTestSigner, aws: AwsStub
) -> None:
    if name == "inbound_s3_action.json":
        add_s3_object(aws)
    if name == "sns_subscription_confirmation.json":
        aws.add("sns", "confirm_subscription", {"SubscriptionArn": "arn:aws:sns:x"})
    signal = inbound if EXPECTATIONS[name]["url"] == INBOUND_URL else tracking
    with captured_events(signal) as events:
        response = post_fixture(name, signer)
    assert response.status_code == 200, response.content
    assert_events_as_expected(name, events)


@pytest.mark.parametrize("name", SNS_FIXTURES)
def test_fixture_original_signature_verifies_with_its_certificate(
    name: str, aws: AwsStub, mocked_responses: responses.RequestsMock
) -> None:
    # As posted, signed with the fixtures' throwaway certificate (served here, not
    # fetched from Amazon), checked at the time the fixture was signed.
    envelope = fixture(name)
    mocked_responses.get(envelope["SigningCertURL"], body=FIXTURE_CERT.read_bytes())
    if name == "inbound_s3_action.json":
        add_s3_object(aws)
    if name == "sns_subscription_confirmation.json":
        aws.add("sns", "confirm_subscription", {})
    signal = inbound if EXPECTATIONS[name]["url"] == INBOUND_URL else tracking
    request = json_webhook_request(
        envelope, basic_auth=SECRET, headers=sns_headers(name), content_type="text/plain"
    )
    with captured_events(signal) as events:
        response = post(request, EXPECTATIONS[name]["url"], just_after(envelope))
    assert response.status_code == 200, response.content
    assert_events_as_expected(name, events)
    assert [call.request.url for call in mocked_responses.calls] == [envelope["SigningCertURL"]]


@pytest.mark.parametrize(
    "name", ["tracking_bad_signature.json", "tracking_untrusted_cert_url.json"]
)
def test_fixture_negative_cases_are_refused(
    name: str, aws: AwsStub, mocked_responses: responses.RequestsMock
) -> None:
    envelope = fixture(name)
    mocked_responses.get(envelope["SigningCertURL"], body=FIXTURE_CERT.read_bytes())
    request = json_webhook_request(envelope, basic_auth=SECRET, headers=sns_headers(name))
    with captured_events() as events:
        response = post(request, TRACKING_URL, just_after(envelope))
    assert response.status_code == 400
    assert events == []
    if name == "tracking_untrusted_cert_url.json":
        assert b"untrusted SNS SigningCertURL" in response.content
        assert len(mocked_responses.calls) == 0  # refused before any fetch


def test_signature_version_2_and_1(signer: SnsTestSigner) -> None:
    envelope = fixture("tracking_event_delivery.json")
    for version in ("2", "1"):
        envelope["MessageId"] = f"delivery-v{version}"
        with captured_events() as events:
            response = post_fixture(
                "tracking_event_delivery.json",
                signer,
                envelope=envelope,
                signature_version=version,
                headers={"x-amz-sns-message-id": envelope["MessageId"]},
            )
        assert response.status_code == 200
        assert [event.event_id for event in events] == [envelope["MessageId"]]


# --- authentication: basic auth, topic allow-list -------------------------------------


def test_basic_auth_challenge_comes_before_anything_else(aws: AwsStub) -> None:
    # Not even valid JSON, no signature: SNS must first be asked for its credentials.
    for body in (b"not json", json.dumps(fixture("sns_subscription_confirmation.json")).encode()):
        request = json_webhook_request(body, basic_auth=None)
        with captured_events() as events:
            response = request.post(Client(), TRACKING_URL)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Basic realm="Anymail WEBHOOK_SECRET"'
        assert events == []
    assert aws.created == []


def test_wrong_basic_auth_is_refused(signer: SnsTestSigner, aws: AwsStub) -> None:
    with captured_events() as events:
        response = post_fixture(
            "sns_subscription_confirmation.json", signer, basic_auth="sns-webhook-user:guess"
        )
    assert response.status_code == 400
    assert events == []
    assert aws.created == []  # not confirmed


def test_topic_allow_list(settings: Any, signer: SnsTestSigner) -> None:
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SECRET,
        "AMAZON_SES_SNS_TOPIC_ARNS": ["arn:aws:sns:us-east-1:123456789012:SES_Tracking_Events"],
    }
    with captured_events() as events:
        assert post_fixture("tracking_event_delivery.json", signer).status_code == 200
        ours = fixture("tracking_event_open.json")
        theirs = {**ours, "TopicArn": "arn:aws:sns:us-east-1:999999999999:SES_Tracking_Events"}
        response = post_fixture(
            "tracking_event_open.json",
            signer,
            envelope=theirs,
            headers={"x-amz-sns-topic-arn": theirs["TopicArn"]},
        )
    assert response.status_code == 400
    assert b"is not in ANYMAIL AMAZON_SES_SNS_TOPIC_ARNS" in response.content
    assert [event.event_type for event in events] == ["delivered"]


@pytest.mark.parametrize("value", [[], "", [""], 42, [42]])
def test_topic_allow_list_setting_must_list_topics(settings: Any, value: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "AMAZON_SES_SNS_TOPIC_ARNS": value}
    with pytest.raises(AnymailImproperlyConfigured, match="AMAZON_SES_SNS_TOPIC_ARNS"):
        Client().post(TRACKING_URL, b"{}", content_type="text/plain")


def test_warns_when_any_topic_can_post(settings: Any) -> None:
    settings.ANYMAIL = {}
    with pytest.warns(AnymailInsecureWebhookWarning, match="any SNS topic"):
        AmazonSESTrackingWebhookView()
    for protected in (
        {"WEBHOOK_SECRET": SECRET},
        {"AMAZON_SES_SNS_TOPIC_ARNS": ["arn:aws:sns:us-east-1:123456789012:SES_Events"]},
    ):
        settings.ANYMAIL = protected
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            AmazonSESInboundWebhookView()


# --- subscription confirmation --------------------------------------------------------

CONFIRMATION = "sns_subscription_confirmation.json"


def test_subscription_is_confirmed_in_the_topic_region(signer: SnsTestSigner, aws: AwsStub) -> None:
    envelope = fixture(CONFIRMATION)
    aws.add(
        "sns",
        "confirm_subscription",
        {"SubscriptionArn": envelope["TopicArn"] + ":1f3c"},
        {
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:SES_Tracking_Events",
            "Token": envelope["Token"],
            "AuthenticateOnUnsubscribe": "true",
        },
    )
    with captured_events() as events:
        response = post_fixture(CONFIRMATION, signer)
    assert response.status_code == 200
    assert events == []
    [(service, params)] = aws.created
    assert service == "sns"
    assert params["region_name"] == "us-west-2"  # the topic's, whatever is configured
    assert aws.closed == ["sns"]


def test_subscription_client_is_made_like_the_backend_s(
    settings: Any, signer: SnsTestSigner
) -> None:
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SECRET,
        "AMAZON_SES_SESSION_PARAMS": {"profile_name": "anymail"},
        "AMAZON_SES_CLIENT_PARAMS": {"region_name": "eu-west-1", "config": {"read_timeout": 9}},
    }
    with mock.patch("anymail.backends.amazon_ses.boto3.session.Session", autospec=True) as session:
        response = post_fixture(CONFIRMATION, signer)
    assert response.status_code == 200
    session.assert_called_once_with(profile_name="anymail")
    session.return_value.client.assert_called_once_with(
        "sns", region_name="us-west-2", config=mock.ANY
    )
    config = session.return_value.client.call_args.kwargs["config"]
    assert config.read_timeout == 9
    assert "django-anymail/" in config.user_agent_extra
    client = session.return_value.client.return_value
    client.confirm_subscription.assert_called_once_with(
        TopicArn="arn:aws:sns:us-west-2:123456789012:SES_Tracking_Events",
        Token=fixture(CONFIRMATION)["Token"],
        AuthenticateOnUnsubscribe="true",
    )
    client.close.assert_called_once_with()
    # The settings' own dicts are left alone.
    assert settings.ANYMAIL["AMAZON_SES_CLIENT_PARAMS"]["region_name"] == "eu-west-1"


def test_subscription_without_secret_is_refused_with_the_token(
    settings: Any, signer: SnsTestSigner, aws: AwsStub, caplog: pytest.LogCaptureFixture
) -> None:
    settings.ANYMAIL = {}
    envelope = fixture(CONFIRMATION)
    with pytest.warns(AnymailInsecureWebhookWarning):
        response = post_fixture(CONFIRMATION, signer, basic_auth=None)
    assert response.status_code == 400
    expected = (
        "Anymail received an unexpected SubscriptionConfirmation request for Amazon SNS topic "
        "'arn:aws:sns:us-west-2:123456789012:SES_Tracking_Events'. (Anymail can automatically "
        "confirm SNS subscriptions if you set a WEBHOOK_SECRET and use that in your SNS "
        "notification url. Or you can manually confirm this subscription in the SNS dashboard "
        f"with token '{envelope['Token']}'.)"
    )
    assert expected in caplog.messages
    assert response.content.decode().startswith(expected[:100])
    assert aws.created == []


def test_subscription_with_topic_allow_list_and_no_secret_is_confirmed(
    settings: Any, signer: SnsTestSigner, aws: AwsStub
) -> None:
    envelope = fixture(CONFIRMATION)
    settings.ANYMAIL = {"AMAZON_SES_SNS_TOPIC_ARNS": [envelope["TopicArn"]]}
    aws.add("sns", "confirm_subscription", {})
    response = post_fixture(CONFIRMATION, signer, basic_auth=None)
    assert response.status_code == 200
    assert [service for service, _params in aws.created] == ["sns"]


def test_subscription_auto_confirm_off(
    settings: Any, signer: SnsTestSigner, aws: AwsStub, caplog: pytest.LogCaptureFixture
) -> None:
    # The spec's behaviour: refused, with the token to confirm by hand in the log.
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SECRET,
        "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False,
    }
    response = post_fixture(CONFIRMATION, signer)
    assert response.status_code == 400
    assert b"AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS is False" in response.content
    assert any(fixture(CONFIRMATION)["Token"] in message for message in caplog.messages)
    assert aws.created == []


def test_subscription_confirm_failure_is_retried(
    signer: SnsTestSigner, aws: AwsStub, caplog: pytest.LogCaptureFixture
) -> None:
    aws.add_error("sns", "confirm_subscription", "AuthorizationError", "Not authorized", 403)
    with caplog.at_level(logging.ERROR, "anymail"):
        response = post_fixture(CONFIRMATION, signer)
    assert response.status_code == 503  # SNS tries again
    assert b"couldn't confirm the SNS subscription" in response.content
    assert b"AuthorizationError" in response.content
    assert aws.closed == ["sns"]


@pytest.mark.parametrize(
    "name", ["sns_unsubscribe_confirmation.json", "sns_notification_topic_validated.json"]
)
def test_ignored_sns_messages(name: str, signer: SnsTestSigner, aws: AwsStub) -> None:
    with captured_events() as events:
        response = post_fixture(name, signer)
    assert response.status_code == 200
    assert events == []
    assert aws.created == []  # an unsubscribe is never undone with its token


# --- signature verification -----------------------------------------------------------

SIGNED_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn")
SIGNED_CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token")


def flip_one_byte(text: str) -> str:
    """``text`` with one character changed, keeping its shape (a digit stays a digit)."""
    index = max(
        (i for i, char in enumerate(text) if char.isdigit()),
        default=max(i for i, char in enumerate(text) if char.isalpha()),
    )
    char = text[index]
    changed = str((int(char) + 1) % 10) if char.isdigit() else ("b" if char == "a" else "a")
    return text[:index] + changed + text[index + 1 :]


def assert_refused_without_outbound_calls(
    request: Any, url: str, at: datetime, aws: AwsStub, mocked: responses.RequestsMock
) -> bytes:
    with captured_events(tracking) as tracked, captured_events(inbound) as received:
        response = post(request, url, at)
    assert response.status_code == 400, response.content
    assert tracked == [] and received == []
    assert aws.created == []  # no confirmation, no S3 download
    assert len(mocked.calls) == 0  # no certificate fetched
    return response.content


@pytest.mark.parametrize(
    ("name", "field"),
    [("tracking_event_bounce_permanent.json", field) for field in SIGNED_NOTIFICATION_FIELDS]
    + [(CONFIRMATION, "TopicArn")]
    + [("inbound_s3_action.json", "Message"), ("inbound_sns_base64.json", "Message")]
    + [(CONFIRMATION, field) for field in SIGNED_CONFIRMATION_FIELDS],
)
def test_one_flipped_byte_in_a_signed_field_is_refused(
    name: str,
    field: str,
    signer: SnsTestSigner,
    aws: AwsStub,
    mocked_responses: responses.RequestsMock,
) -> None:
    valid = sns_webhook_request(fixture(name), signer=signer)
    signed = json.loads(valid.body)
    signed[field] = flip_one_byte(signed[field])
    request = valid.with_body(json.dumps(signed).encode()).with_headers(
        {"x-amz-sns-message-id": None, "x-amz-sns-topic-arn": None}
    )
    at = just_after(signed)
    content = assert_refused_without_outbound_calls(
        request, EXPECTATIONS[name]["url"], at, aws, mocked_responses
    )
    assert b"incorrect SNS message signature" in content


def test_wrong_key_is_refused(
    signer: SnsTestSigner, aws: AwsStub, mocked_responses: responses.RequestsMock
) -> None:
    # Signed by another key, naming the trusted certificate's URL.
    envelope = fixture("inbound_s3_action.json")
    cert_url = trust_signer(signer, "us-east-1")
    forged = make_signer().sign(envelope, cert_url=cert_url)
    request = json_webhook_request(forged, basic_auth=SECRET)
    content = assert_refused_without_outbound_calls(
        request, INBOUND_URL, just_after(envelope), aws, mocked_responses
    )
    assert b"incorrect SNS message signature" in content


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-{id}.pem",
        "https://s3.amazonaws.com/SimpleNotificationService-{id}.pem",
        "https://s3.amazonaws.com/evil-bucket/SimpleNotificationService-{id}.pem",
        "https://evil-bucket.s3.us-east-1.amazonaws.com/SimpleNotificationService-{id}.pem",
        "https://sns.eu-north-1.amazonaws.com/SimpleNotificationService-{id}.pem",  # not the region
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-{id}.pem",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-{id}.pem",
        "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-{id}.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-{id}.pem?x=1",
        "https://sns.us-east-1.amazonaws.com/evil/SimpleNotificationService-{id}.pem",
    ],
)
@pytest.mark.parametrize(
    "name", ["tracking_event_delivery.json", CONFIRMATION, "inbound_s3_action.json"]
)
def test_attacker_certificate_url_is_refused_before_any_fetch(
    cert_url: str,
    name: str,
    aws: AwsStub,
    mocked_responses: responses.RequestsMock,
) -> None:
    # The attacker's own key, and a certificate that would verify it, at their URL.
    attacker = make_signer()
    url = cert_url.format(id=attacker.cert_id)
    mocked_responses.get(url, body=attacker.cert_pem)
    envelope = fixture(name)
    forged = attacker.sign(envelope, cert_url=url)
    request = json_webhook_request(forged, basic_auth=SECRET)
    content = assert_refused_without_outbound_calls(
        request, EXPECTATIONS[name]["url"], just_after(envelope), aws, mocked_responses
    )
    assert b"untrusted SNS SigningCertURL" in content


def test_certificate_fetch_failure_is_retried_and_not_cached(
    mocked_responses: responses.RequestsMock,
) -> None:
    envelope = fixture("tracking_event_delivery.json")
    url = envelope["SigningCertURL"]
    mocked_responses.get(url, status=503)
    request = json_webhook_request(envelope, basic_auth=SECRET)
    with captured_events() as events:
        assert post(request, TRACKING_URL, just_after(envelope)).status_code == 503
        mocked_responses.replace(responses.GET, url, body=FIXTURE_CERT.read_bytes())
        assert post(request, TRACKING_URL, just_after(envelope)).status_code == 200
        # Cached now: a second message needs no fetch.
        other = fixture("tracking_event_open.json")
        other_request = json_webhook_request(other, basic_auth=SECRET)
        assert post(other_request, TRACKING_URL, just_after(other)).status_code == 200
    assert len(mocked_responses.calls) == 2
    assert [event.event_type for event in events] == ["delivered", "opened", "opened"]


def test_raw_message_delivery_is_refused_when_verifying(aws: AwsStub) -> None:
    ses_message = fixture("tracking_event_delivery.json")["Message"].encode()
    request = json_webhook_request(
        ses_message, basic_auth=SECRET, headers={"x-amz-sns-rawdelivery": "true"}
    )
    with captured_events() as events:
        response = request.post(Client(), TRACKING_URL)
    assert_refused(response, events, b"raw message delivery")


def test_verification_off_accepts_unsigned_posts_and_raw_delivery(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "AMAZON_SES_VERIFY_SNS_SIGNATURES": False}
    envelope = fixture("tracking_bad_signature.json")  # a signature that doesn't match
    envelope["SigningCertURL"] = "https://anything.example/cert.pem"  # never fetched
    with captured_events() as events:
        response = post(
            json_webhook_request(envelope, basic_auth=SECRET), TRACKING_URL, just_after(envelope)
        )
        assert response.status_code == 200
        raw = json_webhook_request(
            fixture("tracking_event_open.json")["Message"].encode(),
            basic_auth=SECRET,
            headers={
                "x-amz-sns-rawdelivery": "true",
                "x-amz-sns-message-id": "raw-1",
                "x-amz-sns-topic-arn": "arn:aws:sns:us-east-1:123456789012:SES_Tracking_Events",
            },
        )
        assert raw.post(Client(), TRACKING_URL).status_code == 200
    assert [(event.event_type, event.event_id) for event in events] == [
        ("delivered", envelope["MessageId"]),
        ("opened", "raw-1"),
        ("opened", "raw-1"),
    ]
    assert events[-1].timestamp is None  # raw delivery has no SNS Timestamp


@pytest.mark.parametrize(
    ("body", "missing_header", "reason"),
    [
        (b'{"eventType": "Send"}', "x-amz-sns-topic-arn", b"x-amz-sns-topic-arn"),
        (b'{"eventType": "Send"}', "x-amz-sns-message-id", b"x-amz-sns-message-id"),
        (b'{"eventType": "caf\xe9"}', None, b"not valid UTF-8"),
    ],
)
def test_malformed_raw_delivery_is_refused(
    body: bytes, missing_header: str | None, reason: bytes, settings: Any
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "AMAZON_SES_VERIFY_SNS_SIGNATURES": False}
    headers = {
        "x-amz-sns-rawdelivery": "true",
        "x-amz-sns-message-id": "raw-1",
        "x-amz-sns-topic-arn": "arn:aws:sns:us-east-1:123456789012:SES_Tracking_Events",
    }
    if missing_header:
        del headers[missing_header]
    request = json_webhook_request(
        body, basic_auth=SECRET, content_type="text/plain; charset=utf-8", headers=headers
    )
    with captured_events() as events:
        response = request.post(Client(), TRACKING_URL)
    assert_refused(response, events, reason)


def test_verification_off_is_a_loud_system_check_warning(settings: Any) -> None:
    assert check_amazon_ses_webhooks() == []
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "AMAZON_SES_VERIFY_SNS_SIGNATURES": False}
    [warning] = check_amazon_ses_webhooks()
    assert warning.level == checks.WARNING
    assert warning.id == "anymail.W005"
    assert "AMAZON_SES_VERIFY_SNS_SIGNATURES" in warning.msg
    assert "forge" in warning.msg
    registered = checks.registry.registry.get_checks(include_deployment_checks=True)
    assert check_amazon_ses_webhooks in registered


def test_system_check_warns_when_any_topic_can_post(settings: Any) -> None:
    settings.ANYMAIL = {}
    [warning] = check_amazon_ses_webhooks()
    assert warning.id == "anymail.W006"
    assert "any AWS account's SNS topic" in warning.msg
    settings.ANYMAIL = {"AMAZON_SES_SNS_TOPIC_ARNS": ["arn:aws:sns:us-east-1:123456789012:t"]}
    assert check_amazon_ses_webhooks() == []
    settings.ROOT_URLCONF = "tests.webhooks.amazon_ses_unrouted_urls"
    settings.ANYMAIL = {}
    assert check_amazon_ses_webhooks() == []  # SES webhooks not routed: nothing to say


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("x-amz-sns-message-type", "SubscriptionConfirmation"),
        ("x-amz-sns-message-id", "another-id"),
        ("x-amz-sns-topic-arn", "arn:aws:sns:us-east-1:123456789012:Other"),
    ],
)
def test_sns_headers_must_match_the_body(
    header: str, value: str, signer: SnsTestSigner, aws: AwsStub
) -> None:
    with captured_events() as events:
        response = post_fixture("tracking_event_send.json", signer, headers={header: value})
    assert_refused(response, events, header.encode())


def test_sns_headers_are_optional(signer: SnsTestSigner) -> None:
    # moto's SNS (and delivery through some proxies) sends none of them.
    envelope = fixture("tracking_event_send.json")
    request = sns_webhook_request(envelope, signer=signer).with_headers(
        dict.fromkeys(sns_headers("tracking_event_send.json"))
    )
    with captured_events() as events:
        assert post(request, TRACKING_URL, just_after(envelope)).status_code == 200
    assert len(events) == 2


# --- replays and duplicates -----------------------------------------------------------


def test_stale_message_is_refused(signer: SnsTestSigner) -> None:
    envelope = fixture("tracking_event_delivery.json")
    request = sns_webhook_request(envelope, signer=signer)
    with captured_events() as events:
        # SNS retries for up to an hour with the same Timestamp: still fresh.
        retried = post(request, TRACKING_URL, just_after(envelope, timedelta(minutes=90)))
        assert retried.status_code == 200
        stale = post(request, TRACKING_URL, just_after(envelope, timedelta(hours=2, seconds=1)))
    assert stale.status_code == 400
    assert b"window" in stale.content
    assert len(events) == 1


def test_stale_window_setting(settings: Any, signer: SnsTestSigner) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "AMAZON_SES_WEBHOOK_MAX_AGE": 600}
    envelope = fixture("tracking_event_delivery.json")
    request = sns_webhook_request(envelope, signer=signer)
    response = post(request, TRACKING_URL, just_after(envelope, timedelta(minutes=11)))
    assert response.status_code == 400


def test_duplicate_message_is_acknowledged_not_dispatched(signer: SnsTestSigner) -> None:
    with captured_events() as events:
        assert post_fixture("tracking_event_open.json", signer).status_code == 200
        assert post_fixture("tracking_event_open.json", signer).status_code == 200
    assert [event.recipient for event in events] == ["alice@example.org", "bob@example.org"]


def test_duplicate_inbound_message_is_not_downloaded_again(
    signer: SnsTestSigner, aws: AwsStub
) -> None:
    add_s3_object(aws)
    with captured_events(inbound) as events:
        assert post_fixture("inbound_s3_action.json", signer).status_code == 200
        assert post_fixture("inbound_s3_action.json", signer).status_code == 200
    assert len(events) == 1
    assert [service for service, _params in aws.created] == ["s3"]


# --- the test kit (anymail.testing) ---------------------------------------------------


def test_testing_kit_posts_ses_events(client: Client) -> None:
    # As the SES docs page shows it: no fixtures, no pinned clock.
    ses_event = {
        "eventType": "Bounce",
        "mail": {"messageId": "0100019a8c3e5f21-0001", "destination": ["bob@example.org"]},
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "bob@example.org"}],
        },
    }
    for version in ("1", "2"):
        request = webhook_request("amazon_ses", ses_event, signature_version=version)
        with captured_events() as events:
            response = request.post(client, "amazon_ses_tracking_webhook")
        assert response.status_code == 200
        envelope = json.loads(request.body)
        assert envelope["SignatureVersion"] == version
        if version == "1":
            assert [(e.event_type, e.recipient, e.event_id) for e in events] == [
                ("bounced", "bob@example.org", envelope["MessageId"])
            ]
        else:
            assert events == []  # the same message again: an SNS retry
    assert request.content_type == "text/plain; charset=utf-8"
    assert request.headers["x-amz-sns-message-type"] == "Notification"
    assert request.headers["Authorization"].startswith("Basic ")


def test_testing_kit_signs_envelopes_and_raw_bodies(client: Client, aws: AwsStub) -> None:
    aws.add("sns", "confirm_subscription", {})
    confirmation = fixture(CONFIRMATION)
    request = webhook_request("amazon_ses", {**confirmation, "Timestamp": sns_timestamp(utc_now())})
    assert "x-amz-sns-subscription-arn" not in request.headers
    assert request.post(client, "amazon_ses_tracking_webhook").status_code == 200
    assert [service for service, _params in aws.created] == ["sns"]
    unsigned = webhook_request("amazon_ses", b"{}", basic_auth=None)
    assert unsigned.body == b"{}" and "Authorization" not in unsigned.headers


def test_testing_kit_pytest_fixtures(
    anymail_webhook_secret: str, anymail_webhook: Any, anymail_inbound_events: list[Any]
) -> None:
    # The docs' pytest form, with a fresh secret and an inbound receipt notification.
    receipt = json.loads(fixture("inbound_sns_base64.json")["Message"])
    response = anymail_webhook.post("amazon_ses", "amazon_ses_inbound_webhook", receipt)
    assert response.status_code == 200
    [event] = anymail_inbound_events
    assert event.message.subject == "Order 12345 — question"
