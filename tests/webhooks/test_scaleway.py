"""Scaleway TEM tracking webhook: every fixture posted signed, the exact events, the SNS side.

Posts are signed by the ``anymail.testing`` builder (a test CA standing in for
Scaleway's trust chain), or re-signed fixture envelopes. Tamper, trust chain,
subscription and replay cases follow the mapping tests.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import responses
from django.core.cache import caches
from django.test import Client

from anymail._testing_scaleway import (
    DEFAULT_TOPIC_ARN,
    cert_url,
    make_signer,
    scaleway_test_ca,
    scaleway_test_trust_chain,
    scaleway_webhook_request,
)
from anymail.exceptions import (
    AnymailImproperlyConfigured,
    AnymailImproperlyInstalled,
    AnymailInsecureWebhookWarning,
)
from anymail.signals import AnymailTrackingEvent
from anymail.testing import WebhookRequest, captured_events, json_webhook_request
from anymail.webhooks._signers import SnsTestSigner, make_certificate
from anymail.webhooks._sns_certs import (
    DEFAULT_CERT_CACHE,
    DEFAULT_TRUST_CHAINS,
    SCALEWAY_TRUST_CHAIN_URL,
)
from anymail.webhooks.scaleway import ScalewayTrackingWebhookView

from .contract.fuzz import mutations
from .scaleway_support import (
    EVENT_FIXTURES,
    FIXTURE_TIME,
    SECRET,
    URL,
    fixture,
    fixture_signer,
    pinned_clock,
    scaleway_test_context,
)
from .support import assert_refused, sent_order

MESSAGE_ID = "655c27f2-b2a3-4a9f-8e1f-3e6dc268b1c1"  # send_success.json's first emails[].id
SUBSCRIBE_URL = fixture("webhook_sns_subscription_confirmation.json")["SubscribeURL"]
FIXTURE_CERT_URL = fixture("webhook_sns_notification.json")["SigningCertURL"]
TRUST_CHAIN_URL = "https://messaging.s3.fr-par.scw.cloud/fr-par/sns/sns-trust-chain.pem"


@pytest.fixture(autouse=True)
def scaleway_webhook_settings(settings: Any) -> Iterator[None]:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    with scaleway_test_context():
        yield


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def post(request: WebhookRequest) -> Any:
    return request.post(Client(), URL)


def fixture_post(name: str, signer: SnsTestSigner | None = None, **changes: Any) -> WebhookRequest:
    """Fixture envelope ``name`` with ``changes``, signed at its own URL, which serves
    a certificate of the test CA (in the views' cache; the CA as Scaleway's chain)."""
    signer = signer or fixture_signer()
    envelope = {**fixture(name), **changes}
    DEFAULT_CERT_CACHE.put(envelope["SigningCertURL"], signer.certificate)
    DEFAULT_TRUST_CHAINS.put(TRUST_CHAIN_URL, [scaleway_test_ca()[0]])
    signed = signer.sign(envelope, cert_url=envelope["SigningCertURL"])
    return json_webhook_request(signed, content_type="text/plain; charset=utf-8")


# --- every TEM event type, as the sheet maps it -----------------------------------------

ORDER = {"tags": ["order"], "metadata": {"order_id": "1234"}}

EXPECTED: dict[str, dict[str, Any]] = {
    "webhook_event_email_queued.json": {
        "event_type": "queued",
        "reject_reason": None,
        "timestamp": at("2026-03-04T05:06:09Z"),
        "event_id": "9a8b7c6d-0000-4000-8000-000000000001",
        "message_id": MESSAGE_ID,
        "recipient": "alice@example.com",
        "description": None,
        "mta_response": None,
        **ORDER,
    },
    "webhook_event_email_delivered.json": {
        "event_type": "delivered",
        "reject_reason": None,
        "timestamp": at("2026-03-04T05:06:09Z"),
        "event_id": "9a8b7c6d-0000-4000-8000-000000000002",
        "message_id": MESSAGE_ID,
        "recipient": "alice@example.com",
        "description": None,
        "mta_response": "250 2.0.0 Ok: queued as FAKE123",
        **ORDER,
    },
    "webhook_event_email_deferred.json": {
        "event_type": "deferred",
        "reject_reason": None,
        "timestamp": at("2026-03-04T05:06:09Z"),
        "event_id": "9a8b7c6d-0000-4000-8000-000000000003",
        "message_id": MESSAGE_ID,
        "recipient": "alice@example.com",
        "description": "451 4.7.1 Greylisted",
        "mta_response": "451 4.7.1 Greylisted, please try again later",
        **ORDER,
    },
    "webhook_event_email_dropped.json": {
        "event_type": "failed",
        "reject_reason": None,
        "timestamp": at("2026-03-04T05:06:09Z"),
        "event_id": "9a8b7c6d-0000-4000-8000-000000000004",
        "message_id": MESSAGE_ID,
        "recipient": "alice@example.com",
        "description": "550 5.7.1 Message rejected",
        "mta_response": "550 5.7.1 Message rejected as spam by content filtering",
        **ORDER,
    },
    "webhook_event_email_spam.json": {
        "event_type": "bounced",
        "reject_reason": "spam",
        "timestamp": at("2026-03-04T05:06:09Z"),
        "event_id": "9a8b7c6d-0000-4000-8000-000000000005",
        "message_id": MESSAGE_ID,
        "recipient": "alice@example.com",
        "description": None,
        "mta_response": "550 5.7.1 Message rejected as spam",
        **ORDER,
    },
    "webhook_event_email_mailbox_not_found.json": {
        "event_type": "bounced",
        "reject_reason": "bounced",
        "timestamp": at("2026-03-04T05:06:09Z"),
        "event_id": "9a8b7c6d-0000-4000-8000-000000000006",
        "message_id": MESSAGE_ID,
        "recipient": "alice@example.com",
        "description": None,
        "mta_response": "550 5.1.1 <alice@example.com>: Recipient address rejected: User unknown",
        **ORDER,
    },
    "webhook_event_email_blocklisted.json": {
        "event_type": "rejected",
        "reject_reason": "blocked",
        "timestamp": at("2026-03-04T05:06:09Z"),
        "event_id": "9a8b7c6d-0000-4000-8000-000000000007",
        "message_id": None,  # TEM's blocklisted event names no email
        "recipient": "alice@example.com",
        "description": "mailbox not found",
        "mta_response": None,
        **ORDER,
    },
    "webhook_event_blocklist_created.json": {
        "event_type": "unknown",
        "reject_reason": None,
        "timestamp": at("2026-03-04T05:06:10Z"),
        "event_id": "9a8b7c6d-0000-4000-8000-000000000008",
        "message_id": None,
        "recipient": "alice@example.com",
        "description": "mailbox not found",
        "mta_response": None,
        "tags": [],
        "metadata": {},
    },
}


def event_fields(event: AnymailTrackingEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in EXPECTED[EVENT_FIXTURES[0]]}


def test_every_event_fixture_is_expected() -> None:
    assert sorted(EXPECTED) == sorted(EVENT_FIXTURES)


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_tem_event(name: str, events: list[AnymailTrackingEvent]) -> None:
    response = post(scaleway_webhook_request(fixture(name)))
    assert response.status_code == 200, response.content
    assert len(events) == 1
    event = events[0]
    assert event_fields(event) == EXPECTED[name]
    assert event.timestamp is not None and event.timestamp.tzinfo is not None
    assert event.esp_event == fixture(name)
    assert (event.click_url, event.user_agent) == (None, None)


def test_the_sns_notification_fixture(events: list[AnymailTrackingEvent]) -> None:
    """The captured envelope, re-signed at its own certificate URL and posted at its time."""
    with pinned_clock(FIXTURE_TIME):
        response = post(fixture_post("webhook_sns_notification.json"))
    assert response.status_code == 200, response.content
    assert [event_fields(event) for event in events] == [
        EXPECTED["webhook_event_email_delivered.json"]
    ]
    assert events[0].esp_event == fixture("webhook_event_email_delivered.json")


def test_unknown_and_future_event_types(events: list[AnymailTrackingEvent]) -> None:
    for tem_type in ("unknown_type", "email_opened_some_day"):
        tem_event = {"id": f"evt-{tem_type}", "type": tem_type, "email_to": "bob@example.com"}
        assert post(scaleway_webhook_request(tem_event)).status_code == 200
    assert [(event.event_type, event.recipient, event.tags) for event in events] == [
        ("unknown", "bob@example.com", []),
        ("unknown", "bob@example.com", []),
    ]


def test_event_without_a_type_is_refused(events: list[AnymailTrackingEvent]) -> None:
    response = post(scaleway_webhook_request({"id": "evt", "email_to": "bob@example.com"}))
    assert response.status_code == 400
    assert response.content == b"Malformed Scaleway webhook payload: body.Message.type is missing."
    assert events == []


def test_a_message_that_is_not_json_is_refused(events: list[AnymailTrackingEvent]) -> None:
    response = post(scaleway_webhook_request("Your webhook is set up."))
    assert_refused(response, events, b"body.Message is not valid JSON")


@pytest.mark.parametrize(
    ("headers", "tags", "metadata"),
    [
        # Header names are case-insensitive; the first of a name counts.
        (
            [
                {"key": "x-tags", "value": '["a", "b"]'},
                {"key": "X-TAGS", "value": '["c"]'},
                {"key": "X-Metadata", "value": '{"n": 1, "nested": {"k": "v"}}'},
            ],
            ["a", "b"],
            {"n": 1, "nested": {"k": "v"}},
        ),
        # Set by hand, not Anymail's JSON: the event still arrives, without them.
        (
            [{"key": "X-Tags", "value": "order"}, {"key": "X-Metadata", "value": "[1, 2]"}],
            [],
            {},
        ),
        ([{"key": "X-Tags", "value": '["ok", 7]'}, {"key": "X-Metadata", "value": "{"}], [], {}),
        ([], [], {}),
    ],
)
def test_tags_and_metadata_headers(
    headers: list[dict[str, str]], tags: list[str], metadata: dict[str, Any], events: list[Any]
) -> None:
    tem_event = {**fixture("webhook_event_email_delivered.json"), "email_headers": headers}
    assert post(scaleway_webhook_request(tem_event)).status_code == 200
    assert (events[0].tags, events[0].metadata) == (tags, metadata)


@pytest.mark.parametrize(
    ("fields", "mta_response"),
    [
        (
            {"email_response_code": 421, "email_response_message": "4.4.2 Timeout"},
            "421 4.4.2 Timeout",
        ),
        ({"email_response_message": "connection refused"}, "connection refused"),
        ({"email_response_code": 554}, "554"),
        # Older events: only the deprecated email_error.
        ({"email_error": "554 5.7.1 Relay denied"}, "554 5.7.1 Relay denied"),
        ({}, None),
    ],
)
def test_mta_response_shapes(
    fields: dict[str, Any], mta_response: str | None, events: list[AnymailTrackingEvent]
) -> None:
    tem_event = {"id": "evt-1", "type": "email_deferred", "email_to": "bob@example.com", **fields}
    assert post(scaleway_webhook_request(tem_event)).status_code == 200
    assert events[0].mta_response == mta_response
    assert events[0].description == fields.get("email_error")


def test_events_join_what_the_backend_sent(
    settings: Any, mocked_responses: responses.RequestsMock, events: list[AnymailTrackingEvent]
) -> None:
    """message_id is anymail_status's, and tags and metadata come back as they were sent."""
    from django.core.mail import get_connection

    mocked_responses.post(
        "https://api.scaleway.com/transactional-email/v1alpha1/regions/fr-par/emails",
        json=fixture("send_success.json"),
    )
    message = sent_order(
        tags=["order", "café"],
        metadata={"order_id": 1234, "items": ["a", "b"]},
        connection=get_connection(
            "anymail.backends.scaleway.EmailBackend",
            secret_key="11111111-2222-4333-8444-555555555555",
            project_id="00000000-0000-4000-8000-00000000abcd",
        ),
    )
    message.send()
    sent_headers = json.loads(mocked_responses.calls[0].request.body)["additional_headers"]
    status = message.anymail_status.recipients["cc@example.com"]

    tem_event = {
        **fixture("webhook_event_email_delivered.json"),
        "email_id": status.message_id,
        "email_to": "cc@example.com",
        "email_headers": [{"key": "Message-Id", "value": "<x@example.com>"}, *sent_headers],
    }
    assert post(scaleway_webhook_request(tem_event)).status_code == 200
    assert events[0].message_id == status.message_id == "655c27f2-b2a3-4a9f-8e1f-3e6dc268b1c2"
    assert events[0].tags == ["order", "café"]
    assert events[0].metadata == {"order_id": 1234, "items": ["a", "b"]}


# --- signatures, trust chain, authentication, replays -----------------------------------


def test_trust_chain_is_downloaded_from_scaleway_once(
    mocked_responses: responses.RequestsMock, events: list[AnymailTrackingEvent]
) -> None:
    """No chain configured: Scaleway's published chain for the topic's region, over HTTPS."""
    signer = make_signer()
    request = scaleway_webhook_request(fixture("webhook_event_email_queued.json"), signer=signer)
    DEFAULT_TRUST_CHAINS.clear()  # as a new process: nothing downloaded yet
    DEFAULT_CERT_CACHE.clear()
    envelope = json.loads(request.body)
    assert envelope["SigningCertURL"] == cert_url(signer, "fr-par")
    mocked_responses.get(TRUST_CHAIN_URL, body=scaleway_test_trust_chain())
    mocked_responses.get(envelope["SigningCertURL"], body=signer.cert_pem)

    assert post(request).status_code == 200
    second = scaleway_webhook_request(fixture("webhook_event_email_delivered.json"), signer=signer)
    assert post(second).status_code == 200
    assert [call.request.url for call in mocked_responses.calls] == [
        envelope["SigningCertURL"],
        TRUST_CHAIN_URL,
    ]
    assert SCALEWAY_TRUST_CHAIN_URL.format(region="fr-par") == TRUST_CHAIN_URL
    for call in mocked_responses.calls:
        kwargs = call.request.req_kwargs  # type: ignore[attr-defined]
        # verify=True (requests may swap in the CA bundle path), 5 s.
        assert kwargs["verify"] not in (False, None, "")
        assert kwargs["timeout"] == 5.0
    assert len(events) == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 404, "body": "NoSuchKey"},
        {"body": requests.ConnectionError("unreachable")},
        {"body": "<html>not a certificate</html>"},
    ],
)
def test_trust_chain_download_failure_is_503_and_retried(
    answer: dict[str, Any],
    mocked_responses: responses.RequestsMock,
    events: list[AnymailTrackingEvent],
) -> None:
    request = scaleway_webhook_request(fixture("webhook_event_email_queued.json"))
    DEFAULT_TRUST_CHAINS.clear()
    mocked_responses.get(TRUST_CHAIN_URL, **answer)
    response = post(request)
    assert response.status_code == 503  # Topics and Events should retry
    assert b"trust chain" in response.content
    assert events == []
    # Not remembered: the next post downloads again.
    mocked_responses.replace(responses.GET, TRUST_CHAIN_URL, body=scaleway_test_trust_chain())
    assert post(request).status_code == 200
    assert len(events) == 1


def test_configured_trust_chain_is_used_without_download(
    settings: Any, mocked_responses: responses.RequestsMock, events: list[AnymailTrackingEvent]
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "SCALEWAY_SNS_TRUST_CHAIN": scaleway_test_trust_chain()}
    request = scaleway_webhook_request(fixture("webhook_event_email_queued.json"))
    DEFAULT_TRUST_CHAINS.clear()  # the configured chain needs no download
    assert post(request).status_code == 200
    assert len(mocked_responses.calls) == 0
    assert len(events) == 1


def test_configured_trust_chain_refuses_other_cas(
    settings: Any, events: list[AnymailTrackingEvent]
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    other_ca = make_certificate(key, "Other CA", now - timedelta(days=1), now + timedelta(days=9))
    pem = other_ca.public_bytes(serialization.Encoding.PEM).decode()
    settings.ANYMAIL = {**settings.ANYMAIL, "SCALEWAY_SNS_TRUST_CHAIN": pem}
    response = post(scaleway_webhook_request(fixture("webhook_event_email_queued.json")))
    assert_refused(response, events, b"not issued by Scaleway's trust chain")


@pytest.mark.parametrize("value", ["not a certificate", 42, ""])
def test_trust_chain_setting_must_be_pem(settings: Any, value: Any) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "SCALEWAY_SNS_TRUST_CHAIN": value}
    request = scaleway_webhook_request(fixture("webhook_event_email_queued.json"))
    with pytest.raises(AnymailImproperlyConfigured, match="SCALEWAY_SNS_TRUST_CHAIN"):
        post(request)


def test_certificate_outside_the_chain_is_refused(events: list[AnymailTrackingEvent]) -> None:
    """A self-signed certificate at a Scaleway-looking URL (e.g. an attacker's bucket)."""
    impostor = SnsTestSigner(name="sns.mnq.scaleway.com")
    request = scaleway_webhook_request(fixture("webhook_event_email_queued.json"))
    envelope = json.loads(request.body)
    DEFAULT_CERT_CACHE.put(envelope["SigningCertURL"], impostor.certificate)
    forged = impostor.sign(envelope, cert_url=envelope["SigningCertURL"])
    response = post(request.with_body(json.dumps(forged).encode()))
    assert_refused(response, events, b"not issued by Scaleway's trust chain")


def test_one_flipped_byte_is_refused(events: list[AnymailTrackingEvent]) -> None:
    request = scaleway_webhook_request(fixture("webhook_event_email_delivered.json"))
    tampered = request.body.replace(b"alice@example.com", b"alicf@example.com", 1)
    assert tampered != request.body
    response = post(request.with_body(tampered))
    assert_refused(response, events, b"incorrect SNS message signature")


def test_wrong_key_is_refused(events: list[AnymailTrackingEvent]) -> None:
    """Signed by another key of the same CA's family, naming the trusted certificate."""
    request = scaleway_webhook_request(fixture("webhook_event_email_delivered.json"))
    envelope = json.loads(request.body)
    forged = make_signer().sign(envelope, cert_url=envelope["SigningCertURL"])
    response = post(request.with_body(json.dumps(forged).encode()))
    assert response.status_code == 400
    assert events == []


@pytest.mark.parametrize(
    "url",
    [
        "https://messaging.s3.fr-par.scw.cloud.evil.example/fr-par/sns/cert.pem",
        "https://evil.example/fr-par/sns/cert.pem",
        "http://messaging.s3.fr-par.scw.cloud/fr-par/sns/cert.pem",
        "https://messaging.s3.fr-par.scw.cloud:8443/fr-par/sns/cert.pem",
        "https://messaging.s3.fr-par.scw.cloud/fr-par/sns/cert.pem?redirect=evil",
        "https://sns.fr-par.amazonaws.com/SimpleNotificationService-0a1b.pem",
    ],
)
def test_untrusted_certificate_url_is_refused_without_a_fetch(
    url: str, mocked_responses: responses.RequestsMock, events: list[AnymailTrackingEvent]
) -> None:
    signer = make_signer()
    request = scaleway_webhook_request(fixture("webhook_event_email_queued.json"), signer=signer)
    forged = signer.sign(json.loads(request.body), cert_url=url)
    response = post(request.with_body(json.dumps(forged).encode()))
    assert response.status_code == 400
    assert b"untrusted SNS SigningCertURL" in response.content
    assert len(mocked_responses.calls) == 0  # nothing fetched
    assert events == []


def test_aws_topic_is_refused(events: list[AnymailTrackingEvent]) -> None:
    request = scaleway_webhook_request(
        fixture("webhook_event_email_queued.json"),
        topic_arn="arn:aws:sns:us-east-1:123456789012:tem-events",
    )
    response = post(request)
    assert_refused(response, events, b"TopicArn is malformed")


def test_missing_basic_auth_is_challenged(events: list[AnymailTrackingEvent]) -> None:
    request = scaleway_webhook_request(fixture("webhook_event_email_queued.json"), basic_auth=None)
    response = post(request)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Anymail WEBHOOK_SECRET"'
    wrong = scaleway_webhook_request(
        fixture("webhook_event_email_queued.json"), basic_auth="scaleway-hook-user:wrong"
    )
    assert post(wrong).status_code == 400
    assert events == []


def test_stale_post_is_refused(events: list[AnymailTrackingEvent]) -> None:
    request = scaleway_webhook_request(
        fixture("webhook_event_email_queued.json"),
        timestamp=datetime.now(UTC) - timedelta(hours=2, minutes=1),
    )
    response = post(request)
    assert_refused(response, events, b"window")


def test_stale_window_setting(settings: Any, events: list[AnymailTrackingEvent]) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "SCALEWAY_WEBHOOK_MAX_AGE": 6 * 3600}
    request = scaleway_webhook_request(
        fixture("webhook_event_email_queued.json"),
        timestamp=datetime.now(UTC) - timedelta(hours=5),
    )
    assert post(request).status_code == 200
    assert len(events) == 1


def test_replay_is_acknowledged_not_dispatched(events: list[AnymailTrackingEvent]) -> None:
    request = scaleway_webhook_request(fixture("webhook_event_email_delivered.json"))
    assert post(request).status_code == 200
    assert post(request).status_code == 200
    # Another SNS delivery of the same TEM event (a new MessageId): still one dispatch.
    again = scaleway_webhook_request(
        fixture("webhook_event_email_delivered.json"), message_id="another-sns-delivery"
    )
    assert post(again).status_code == 200
    assert len(events) == 1


def test_topic_allow_list(settings: Any, events: list[AnymailTrackingEvent]) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "SCALEWAY_SNS_TOPIC_ARNS": [DEFAULT_TOPIC_ARN]}
    assert post(scaleway_webhook_request(fixture("webhook_event_email_queued.json"))).status_code
    other_topic = DEFAULT_TOPIC_ARN.replace("anymail-test-events", "someone-elses")
    request = scaleway_webhook_request(
        fixture("webhook_event_email_delivered.json"), topic_arn=other_topic
    )
    response = post(request)
    assert response.status_code == 400
    assert b"is not in ANYMAIL SCALEWAY_SNS_TOPIC_ARNS" in response.content
    assert [event.event_type for event in events] == ["queued"]


@pytest.mark.parametrize("value", [[], [""], "", 42])
def test_topic_allow_list_setting_is_checked(settings: Any, value: Any) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "SCALEWAY_SNS_TOPIC_ARNS": value}
    request = scaleway_webhook_request(fixture("webhook_event_email_queued.json"))
    with pytest.raises(AnymailImproperlyConfigured, match="SCALEWAY_SNS_TOPIC_ARNS"):
        post(request)


def test_insecure_warning_without_secret_or_allow_list(settings: Any) -> None:
    settings.ANYMAIL = {}
    with pytest.warns(AnymailInsecureWebhookWarning, match="SCALEWAY_SNS_TOPIC_ARNS"):
        ScalewayTrackingWebhookView()
    settings.ANYMAIL = {"SCALEWAY_SNS_TOPIC_ARNS": [DEFAULT_TOPIC_ARN]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ScalewayTrackingWebhookView()


def test_system_check_warns_when_any_topic_can_post(settings: Any) -> None:
    from django.core import checks

    from anymail.checks import check_scaleway_webhooks

    assert check_scaleway_webhooks() == []  # WEBHOOK_SECRET is set
    settings.ANYMAIL = {}
    [warning] = check_scaleway_webhooks()
    assert (warning.level, warning.id) == (checks.WARNING, "anymail.W006")
    assert warning.msg == (
        "Anymail's Scaleway webhooks are routed, but neither ANYMAIL WEBHOOK_SECRET nor "
        "SCALEWAY_SNS_TOPIC_ARNS is set: any Scaleway account's Topics and Events topic can "
        "post to them."
    )
    settings.ANYMAIL = {"SCALEWAY_SNS_TOPIC_ARNS": [DEFAULT_TOPIC_ARN]}
    assert check_scaleway_webhooks() == []
    settings.ANYMAIL = {}
    settings.ROOT_URLCONF = "tests.webhooks.amazon_ses_unrouted_urls"
    assert check_scaleway_webhooks() == []  # not routed: nothing to say
    registered = checks.registry.registry.get_checks(include_deployment_checks=True)
    assert check_scaleway_webhooks in registered


def test_cryptography_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(AnymailImproperlyInstalled, match=r"django-anymail\[scaleway\]"):
        ScalewayTrackingWebhookView()


# --- subscriptions ----------------------------------------------------------------------


def subscription_post(**changes: Any) -> WebhookRequest:
    return fixture_post("webhook_sns_subscription_confirmation.json", **changes)


def test_subscription_is_confirmed_by_opening_its_url(
    mocked_responses: responses.RequestsMock, events: list[AnymailTrackingEvent]
) -> None:
    mocked_responses.get(SUBSCRIBE_URL, body="<ConfirmSubscriptionResponse/>")
    with pinned_clock(FIXTURE_TIME):
        response = post(subscription_post())
    assert response.status_code == 200, response.content
    assert [call.request.url for call in mocked_responses.calls] == [SUBSCRIBE_URL]
    kwargs = mocked_responses.calls[0].request.req_kwargs  # type: ignore[attr-defined]
    assert kwargs["verify"] not in (False, None, "")
    assert kwargs["timeout"] == 5.0
    assert events == []


def test_subscription_with_allow_list_and_no_secret(
    settings: Any, mocked_responses: responses.RequestsMock
) -> None:
    topic = fixture("webhook_sns_subscription_confirmation.json")["TopicArn"]
    settings.ANYMAIL = {"SCALEWAY_SNS_TOPIC_ARNS": [topic]}
    mocked_responses.get(SUBSCRIBE_URL)
    with pinned_clock(FIXTURE_TIME):
        response = post(subscription_post())
    assert response.status_code == 200, response.content
    assert len(mocked_responses.calls) == 1


def test_unauthenticated_subscription_is_not_confirmed(
    settings: Any, mocked_responses: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    settings.ANYMAIL = {}
    with pytest.warns(AnymailInsecureWebhookWarning), pinned_clock(FIXTURE_TIME):
        response = post(subscription_post())
    assert response.status_code == 400
    assert response.content.startswith(
        b"Anymail received an unexpected SubscriptionConfirmation request for Scaleway "
        b"Topics and Events topic 'arn:scw:sns:fr-par:project-"
    )
    assert len(mocked_responses.calls) == 0
    # The whole text, with the URL to open, is logged.
    assert f"by opening its SubscribeURL once (or in Scaleway's console): {SUBSCRIBE_URL}" in (
        caplog.text
    )


def test_auto_confirm_off(
    settings: Any, mocked_responses: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "SCALEWAY_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False}
    with pinned_clock(FIXTURE_TIME):
        response = post(subscription_post())
    assert response.status_code == 400
    assert b"SCALEWAY_AUTO_CONFIRM_SNS_SUBSCRIPTIONS is False" in response.content
    assert SUBSCRIBE_URL in caplog.text
    assert len(mocked_responses.calls) == 0


@pytest.mark.parametrize(
    ("subscribe_url", "problem"),
    [
        ("https://evil.example/?Action=ConfirmSubscription", "it is not on https://sns.mnq"),
        (SUBSCRIBE_URL.replace("https:", "http:"), "it is not on https://sns.mnq"),
        (SUBSCRIBE_URL.replace("fr-par.scaleway", "nl-ams.scaleway"), "it is not on"),
        (SUBSCRIBE_URL.replace(".com/", ".com:8443/"), "it is not on"),
        (SUBSCRIBE_URL.replace(".com/", ".com/x/"), "it is not on"),
        (SUBSCRIBE_URL.replace("scaleway.com/", "scaleway.com@evil.example/"), "it is not on"),
        (SUBSCRIBE_URL.replace("ConfirmSubscription", "Unsubscribe"), "its Action"),
        (SUBSCRIBE_URL.replace("tem-events&", "other-topic&"), "its TopicArn"),
        (SUBSCRIBE_URL.replace("Token=fake", "Token=other"), "its Token"),
        (SUBSCRIBE_URL + "&Token=second", "its Token"),
        ("https://sns.mnq.fr-par.scaleway.com/", "its Action"),
    ],
)
def test_subscribe_url_must_be_scaleways_for_this_topic(
    subscribe_url: str, problem: str, mocked_responses: responses.RequestsMock
) -> None:
    """Even signed, a SubscribeURL is opened only if it is exactly what the sheet says."""
    with pinned_clock(FIXTURE_TIME):
        response = post(subscription_post(SubscribeURL=subscribe_url))
    assert response.status_code == 400
    assert f"won't open this SubscribeURL ({problem}".encode() in response.content
    assert b"Confirm the subscription in Scaleway's console." in response.content
    assert len(mocked_responses.calls) == 0


@pytest.mark.parametrize(
    "answer", [{"status": 403}, {"status": 302}, {"body": requests.Timeout("slow")}]
)
def test_failed_confirmation_is_503(
    answer: dict[str, Any], mocked_responses: responses.RequestsMock
) -> None:
    mocked_responses.get(SUBSCRIBE_URL, **answer)
    with pinned_clock(FIXTURE_TIME):
        response = post(subscription_post())
    assert response.status_code == 503
    assert b"confirming the subscription to arn:scw:sns:fr-par:" in response.content
    assert len(mocked_responses.calls) == 1


def test_forged_subscription_is_refused_before_any_call(
    mocked_responses: responses.RequestsMock,
) -> None:
    request = subscription_post()
    envelope = json.loads(request.body)
    envelope["SubscribeURL"] = SUBSCRIBE_URL.replace("fake-confirmation", "attacker")
    with pinned_clock(FIXTURE_TIME):
        response = post(request.with_body(json.dumps(envelope).encode()))
    assert response.status_code == 400
    assert b"incorrect SNS message signature" in response.content
    assert len(mocked_responses.calls) == 0


def test_unsubscribe_confirmation_is_ignored(
    mocked_responses: responses.RequestsMock, events: list[AnymailTrackingEvent]
) -> None:
    with pinned_clock(FIXTURE_TIME):
        response = post(subscription_post(Type="UnsubscribeConfirmation"))
    assert response.status_code == 200
    assert len(mocked_responses.calls) == 0
    assert events == []


# --- hostile input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["webhook_sns_notification.json", "webhook_sns_subscription_confirmation.json"]
)
def test_hostile_envelope(name: str, mocked_responses: responses.RequestsMock) -> None:
    """The SNS envelope fixtures, signed, then mutated: 200 (an unsigned field) or 400."""
    mocked_responses.get(SUBSCRIBE_URL)
    signed = json.loads(fixture_post(name).body)
    for mutation in mutations(signed):
        request = json_webhook_request(mutation.payload, content_type="text/plain; charset=utf-8")
        with pinned_clock(FIXTURE_TIME), captured_events() as events:
            response = post(request)
        assert response.status_code in (200, 400), (mutation.id, response.content)
        if response.status_code == 400:
            assert events == [], mutation.id
        caches["default"].clear()  # else a mutation that keeps the event is a duplicate
    # Only the unchanged SubscribeURL may have been opened.
    assert {call.request.url for call in mocked_responses.calls} <= {SUBSCRIBE_URL}
