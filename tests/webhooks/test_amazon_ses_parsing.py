"""Amazon SES tracking payloads, parsed without a request; and hostile SNS envelopes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookPayloadError
from anymail.signals import AnymailTrackingEvent, EventType
from anymail.testing import captured_events, json_webhook_request
from anymail.webhooks._payload import JsonObject
from anymail.webhooks.amazon_ses import parse_tracking_message, tags_and_metadata
from tests.utils import FIXTURES_DIR

from .amazon_ses_support import SECRET, TRACKING_URL, fixture, just_after, post
from .contract.fuzz import mutations

WHEN = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:SES_Tracking_Events"


pytestmark = pytest.mark.usefixtures("ses_webhook_environment")


def parse(ses: dict[str, Any]) -> list[AnymailTrackingEvent]:
    return parse_tracking_message(
        JsonObject(ses, "body.Message"), event_id="sns-1", timestamp=WHEN, topic_arn=TOPIC
    )


def mail(**fields: Any) -> dict[str, Any]:
    return {"messageId": "ses-1", "destination": ["a@example.org", "b@example.org"], **fields}


def headers(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


# --- tags and metadata ------------------------------------------------------------------


def test_tags_and_metadata_from_the_original_headers() -> None:
    found = tags_and_metadata(
        JsonObject(
            mail(
                headers=headers(
                    ("Subject", "Hi"),
                    ("X-Tag", "first"),
                    ("x-tag", "=?utf-8?q?Caf=C3=A9?= =?utf-8?q?_cr=C3=A8me?="),
                    ("X-METADATA", '{"user": "u-1",\r\n "n": 2}'),
                    ("X-Tag", "folded\r\n tag"),
                    ("X-Metadata", '{"ignored": "only the first counts"}'),
                ),
                tags={"ses:operation": ["SendEmail"], "Campaign": ["welcome"]},
            )
        )
    )
    assert found == (["first", "Café crème", "folded tag"], {"user": "u-1", "n": 2})


@pytest.mark.parametrize(
    "value", ["{not json", "[1, 2]", '"text"', "null", "[" * 100 + "]" * 100, ""]
)
def test_unusable_metadata_is_empty(value: str) -> None:
    assert tags_and_metadata(JsonObject(mail(headers=headers(("X-Metadata", value))))) == ([], {})


def test_without_headers_no_tags_or_metadata() -> None:
    # SES Notifications without "Include original headers", DeliveryDelay, ...
    assert tags_and_metadata(JsonObject(mail(headersTruncated=False))) == ([], {})


@pytest.mark.parametrize(
    ("value", "tag"),
    [("=?x-unknown?q?a?=", "a"), ("=?utf-8?q?=FF?=", "\ufffd"), ("=?utf-8?q?", "=?utf-8?q?")],
)
def test_broken_encoded_words_decode_leniently(value: str, tag: str) -> None:
    assert tags_and_metadata(JsonObject(mail(headers=headers(("X-Tag", value))))) == ([tag], {})


# --- event mapping ----------------------------------------------------------------------


def test_bounce_with_several_recipients() -> None:
    events = parse(
        {
            "notificationType": "Bounce",
            "mail": mail(),
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "NoEmail",
                "bouncedRecipients": [
                    {"emailAddress": "a@example.org", "diagnosticCode": "smtp; 550 no"},
                    {"emailAddress": "b@example.org"},
                ],
            },
        }
    )
    assert [(e.recipient, e.mta_response, e.description) for e in events] == [
        ("a@example.org", "smtp; 550 no", "Permanent: NoEmail"),
        ("b@example.org", None, "Permanent: NoEmail"),
    ]
    assert {(e.event_type, e.reject_reason, e.event_id, e.timestamp) for e in events} == {
        (EventType.BOUNCED, "bounced", "sns-1", WHEN)
    }


def test_complaint_without_feedback_report() -> None:
    [event] = parse(
        {
            "eventType": "Complaint",
            "mail": mail(),
            "complaint": {"complainedRecipients": [{"emailAddress": "b@example.org"}]},
        }
    )
    assert (event.event_type, event.reject_reason, event.recipient) == (
        "complained",
        "spam",
        "b@example.org",
    )
    assert event.description is None and event.user_agent is None


def news(status: str) -> dict[str, Any]:
    """Topic preferences without a list-wide opt-out, ``status`` for the News topic."""
    return {
        "unsubscribeAll": False,
        "topicSubscriptionStatus": [{"topicName": "News", "subscriptionStatus": status}],
    }


@pytest.mark.parametrize(
    ("new", "old", "event_type"),
    [
        ({"unsubscribeAll": True}, {"unsubscribeAll": False}, EventType.UNSUBSCRIBED),
        (news("OptOut"), news("OptIn"), EventType.UNSUBSCRIBED),
        (news("OptIn"), news("OptOut"), EventType.SUBSCRIBED),
        (news("OptIn"), None, EventType.SUBSCRIBED),
        (news("OptIn"), news("OptIn"), EventType.UNKNOWN),
    ],
)
def test_subscription_events(new: Any, old: Any, event_type: str) -> None:
    subscription = {"contactList": "Customers", "source": "SubscriptionPage"}
    subscription["newTopicPreferences"] = new
    if old is not None:
        subscription["oldTopicPreferences"] = old
    events = parse({"eventType": "Subscription", "mail": mail(), "subscription": subscription})
    assert [(e.event_type, e.recipient, e.description) for e in events] == [
        (event_type, "a@example.org", "SubscriptionPage"),
        (event_type, "b@example.org", "SubscriptionPage"),
    ]


@pytest.mark.parametrize("key", ["eventType", "notificationType"])
def test_unknown_event_type(key: str) -> None:
    events = parse({key: "Quarantine", "mail": mail(), "quarantine": {"x": 1}})
    assert [(e.event_type, e.recipient, e.description, e.reject_reason) for e in events] == [
        ("unknown", "a@example.org", f"Unknown SES {key} 'Quarantine'", None),
        ("unknown", "b@example.org", f"Unknown SES {key} 'Quarantine'", None),
    ]


def test_missing_event_type_is_malformed() -> None:
    with pytest.raises(AnymailWebhookPayloadError, match=r"body\.Message\.notificationType"):
        parse({"mail": mail()})


def test_received_is_a_configuration_error() -> None:
    with pytest.raises(AnymailConfigurationError, match="receipt rule"):
        parse({"notificationType": "Received", "mail": mail(), "receipt": {}})


def test_esp_event_is_the_ses_message_and_events_do_not_share_lists() -> None:
    ses = {
        "eventType": "Open",
        "mail": mail(headers=headers(("X-Tag", "t"), ("X-Metadata", '{"k": "v"}'))),
        "open": {"userAgent": "UA", "ipAddress": "192.0.2.1", "timestamp": "2026-11-21T09:30Z"},
    }
    first, second = parse(ses)
    assert first.esp_event is ses and second.esp_event is ses
    first.tags.append("changed")
    first.metadata["k"] = "changed"
    assert (second.tags, second.metadata) == (["t"], {"k": "v"})


# --- hostile SNS envelopes --------------------------------------------------------------

ENVELOPE = fixture("tracking_event_click.json")
FIXTURE_CERT = FIXTURES_DIR / "amazon_ses" / ENVELOPE["SigningCertURL"].rsplit("/", 1)[1]


@pytest.mark.parametrize("verify", [True, False], ids=["verifying", "not-verifying"])
@pytest.mark.parametrize("mutation", mutations(ENVELOPE), ids=lambda mutation: mutation.id)
def test_hostile_envelope_is_refused_or_accepted_never_an_error(
    mutation: Any, verify: bool, settings: Any, mocked_responses: Any
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "AMAZON_SES_VERIFY_SNS_SIGNATURES": verify}
    mocked_responses.get(ENVELOPE["SigningCertURL"], body=FIXTURE_CERT.read_bytes())
    body = (
        mutation.payload
        if isinstance(mutation.payload, bytes)
        else json.dumps(mutation.payload).encode()
    )
    request = json_webhook_request(body, basic_auth=SECRET, content_type="text/plain")
    with captured_events() as events:
        # Client() raises whatever the view lets out: nothing may escape.
        response = post(request, TRACKING_URL, just_after(ENVELOPE))
    assert response.status_code in ((400,) if mutation.strict else (200, 400)), response.content
    if response.status_code != 200:
        assert events == []
        assert b"\n" not in response.content and len(response.content) <= 300
