"""SendGrid backend: the exact v3 Mail Send request, and the statuses and errors it yields."""

from __future__ import annotations

import base64
import functools
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from email.mime.text import MIMEText
from typing import Any

import pytest
import requests
import responses
from django.core import mail
from django.test import override_settings

from anymail.backends.sendgrid import EmailBackend
from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailError,
    AnymailImproperlyConfigured,
    AnymailRecipientsRefused,
    AnymailSerializationError,
    AnymailWarning,
)
from anymail.message import AnymailMessage, AnymailRecipientStatus
from tests.backends.support import (
    anymail_settings,
    api_error,
    attach_logo,
    http_fixture,
    order_message,
    refused,
)
from tests.utils import (
    add_response,
    fixture_text,
    only_request,
    only_request_json,
    request_json,
    requires_mailers,
)
from tests.utils import fixture_json as shared_fixture_json

BACKEND = "anymail.backends.sendgrid.EmailBackend"
API_URL = "https://api.sendgrid.com/v3/mail/send"
API_KEY = "SG.test-api-key-not-real"


fixture_json = functools.partial(shared_fixture_json, "sendgrid")


def success_headers() -> dict[str, str]:
    """The headers of SendGrid's recorded 202 answer."""
    return http_fixture("sendgrid", "send_success.http.txt")[1]


esp_settings = anymail_settings(SENDGRID_API_KEY=API_KEY)


@pytest.fixture
def sendgrid(mocked_responses: responses.RequestsMock) -> responses.RequestsMock:
    """SendGrid answering 202 Accepted with an empty body, as it does."""
    add_response(mocked_responses, API_URL, "", status=202, headers=success_headers())
    return mocked_responses


@pytest.fixture
def message_ids(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Make the generated anymail_ids those of the fixtures, counting from 1 (or, after
    a call, from the number it gives)."""

    def start_at(first: int) -> None:
        numbers = iter(range(first, first + 100))
        monkeypatch.setattr(
            "anymail.backends.sendgrid.uuid4",
            lambda: uuid.UUID(f"3c2f4b1e-0000-4000-8000-{next(numbers):012d}"),
        )

    start_at(1)
    return start_at


def fixture_id(number: int) -> str:
    return f"3c2f4b1e-0000-4000-8000-{number:012d}"


def connection(**backend_kwargs: Any) -> EmailBackend:
    return EmailBackend(**backend_kwargs)


def send(message: Any, **backend_kwargs: Any) -> int:
    return connection(**backend_kwargs).send_messages([message])


# --- the request --------------------------------------------------------------


def test_minimal_message(sendgrid: responses.RequestsMock, message_ids: Any) -> None:
    message = AnymailMessage(
        subject="Hello", body="Hi there", from_email="from@example.com", to=["to@example.com"]
    )
    assert send(message) == 1

    request = only_request(sendgrid)
    assert request.url == API_URL
    assert only_request_json(sendgrid) == {
        "personalizations": [
            {"to": [{"email": "to@example.com"}], "custom_args": {"anymail_id": fixture_id(1)}}
        ],
        "from": {"email": "from@example.com"},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "Hi there"}],
    }

    status = message.anymail_status
    assert status.status == {"queued"}
    assert status.message_id == fixture_id(1)
    assert status.recipients == {
        "to@example.com": AnymailRecipientStatus(fixture_id(1), "queued"),
    }
    assert isinstance(status.esp_response, requests.Response)
    assert status.esp_response.status_code == 202
    assert status.esp_response.headers["X-Message-Id"] == "0Xf00Aa1Bb2Cc3Dd4Ee5Ff"


def test_every_feature_matches_the_fact_sheet_request(
    sendgrid: responses.RequestsMock, message_ids: Any
) -> None:
    message = order_message(
        headers={"X-Custom": "custom value", "X-Priority-Level": 3},
        metadata={"order_id": "12345", "user_id": 42},
        tags=["order-confirmation", "shop"],
        track_clicks=True,
        track_opens=False,
        # microseconds are dropped: SendGrid schedules in whole seconds
        send_at=datetime(2026, 3, 3, 18, 0, 0, 654321, tzinfo=UTC),
    )
    attach_logo(message)

    assert send(message) == 1
    request = only_request(sendgrid)
    assert request.url == API_URL
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert only_request_json(sendgrid) == fixture_json("request_single.json")

    status = message.anymail_status
    assert status.status == {"queued"}
    assert status.message_id == fixture_id(1)
    assert set(status.recipients) == {
        "to@example.com",
        "other@example.com",
        "cc@example.com",
        "bcc@example.com",
    }
    assert all(r.message_id == fixture_id(1) for r in status.recipients.values())


def test_batch_with_dynamic_template(sendgrid: responses.RequestsMock, message_ids: Any) -> None:
    message_ids(11)
    message = AnymailMessage(
        subject="",  # empty: the template's subject and content are used
        body="",
        from_email="shop@example.com",
        to=["alice@example.com", "Bob <bob@example.com>"],
        cc=["cc@example.com"],
        template_id="d-0123456789abcdef0123456789abcdef",
        merge_global_data={"site": "Example"},
        merge_data={
            "alice@example.com": {"name": "Alice", "items": [{"sku": "A1", "qty": 2}]},
            "bob@example.com": {"name": "Bob"},
        },
        merge_metadata={"alice@example.com": {"order_id": 1}, "bob@example.com": {"order_id": 2}},
        metadata={"batch": "b1"},
    )
    assert send(message) == 1
    assert only_request_json(sendgrid) == fixture_json("request_batch_dynamic_template.json")

    status = message.anymail_status
    assert status.message_id == {fixture_id(11), fixture_id(12)}
    assert status.recipients == {
        "alice@example.com": AnymailRecipientStatus(fixture_id(11), "queued"),
        "bob@example.com": AnymailRecipientStatus(fixture_id(12), "queued"),
        # a cc copied into every personalization gets the last one's id
        "cc@example.com": AnymailRecipientStatus(fixture_id(12), "queued"),
    }


def test_batch_with_legacy_template_and_format_setting(
    settings: Any, sendgrid: responses.RequestsMock, message_ids: Any
) -> None:
    settings.ANYMAIL = {"SENDGRID_API_KEY": API_KEY, "SENDGRID_MERGE_FIELD_FORMAT": "-{}-"}
    message_ids(21)
    message = AnymailMessage(
        from_email="shop@example.com",
        to=["alice@example.com", "Bob <bob@example.com>"],
        template_id="5997fcf6-2b9f-484d-acd5-7e9a99f0dc1f",
        merge_global_data={"site": "Example"},
        merge_data={
            "alice@example.com": {"name": "Alice", "count": 3},
            "bob@example.com": {"name": "Bob"},
        },
    )
    assert send(message) == 1
    assert only_request_json(sendgrid) == fixture_json("request_batch_legacy_template.json")
    assert message.anymail_status.recipients == {
        "alice@example.com": AnymailRecipientStatus(fixture_id(21), "queued"),
        "bob@example.com": AnymailRecipientStatus(fixture_id(22), "queued"),
    }


def test_merge_field_format_in_esp_extra_overrides_setting(
    settings: Any, sendgrid: responses.RequestsMock
) -> None:
    settings.ANYMAIL = {"SENDGRID_API_KEY": API_KEY, "SENDGRID_MERGE_FIELD_FORMAT": "-{}-"}
    message = AnymailMessage(
        subject="Order {{order_no}}",
        body="Dear {{name}}",
        to=["alice@example.com"],
        merge_data={"alice@example.com": {"name": "Alice", "order_no": 12345}},
        merge_global_data={"missing": None},
        esp_extra={"merge_field_format": "{{{{{}}}}}"},
    )
    send(message)
    data = only_request_json(sendgrid)
    assert data["personalizations"][0]["substitutions"] == {
        "{{name}}": "Alice",
        "{{order_no}}": "12345",
        "{{missing}}": None,
    }
    assert "merge_field_format" not in data
    assert "template_id" not in data  # an on-the-fly template: no template_id


def test_merge_field_format_none_in_esp_extra_turns_the_setting_off(
    settings: Any, sendgrid: responses.RequestsMock
) -> None:
    settings.ANYMAIL = {"SENDGRID_API_KEY": API_KEY, "SENDGRID_MERGE_FIELD_FORMAT": "-{}-"}
    message = AnymailMessage(
        to=["alice@example.com"],
        merge_data={"alice@example.com": {"%name%": "Alice"}},
        esp_extra={"merge_field_format": None},
    )
    send(message)
    data = only_request_json(sendgrid)
    assert data["personalizations"][0]["substitutions"] == {"%name%": "Alice"}
    assert "merge_field_format" not in data


def test_undelimited_merge_fields_warn(sendgrid: responses.RequestsMock) -> None:
    message = AnymailMessage(
        to=["alice@example.com"],
        template_id="5997fcf6-2b9f-484d-acd5-7e9a99f0dc1f",
        merge_data={"alice@example.com": {"name": "Alice", "order_no": "1"}},
    )
    with pytest.warns(AnymailWarning, match="delimiters"):
        send(message)
    assert only_request_json(sendgrid)["personalizations"][0]["substitutions"] == {
        "name": "Alice",
        "order_no": "1",
    }


@pytest.mark.filterwarnings("error::anymail.exceptions.AnymailWarning")
def test_delimited_or_dynamic_merge_fields_do_not_warn(sendgrid: responses.RequestsMock) -> None:
    delimited = AnymailMessage(
        to=["alice@example.com"], merge_data={"alice@example.com": {":name": "Alice"}}
    )
    dynamic = AnymailMessage(
        to=["alice@example.com"],
        template_id="d-5a963add2ec84305813ff860db277d7a",
        merge_data={"alice@example.com": {"name": "Alice"}},
    )
    assert connection().send_messages([delimited, dynamic]) == 2


def test_substitution_values_must_be_strings(sendgrid: responses.RequestsMock) -> None:
    message = AnymailMessage(
        to=["alice@example.com"],
        merge_data={"alice@example.com": {"-items-": {"sku": "A1"}}},
    )
    with pytest.raises(AnymailSerializationError, match=r"'-items-'.*dynamic template"):
        send(message)
    message = AnymailMessage(to=["alice@example.com"], merge_global_data={"-total-": Decimal(1)})
    with refused(sendgrid, AnymailSerializationError, match=r"merge_global_data\['-total-'\]"):
        send(message)


def test_use_dynamic_template_overrides_template_id_detection(
    sendgrid: responses.RequestsMock,
) -> None:
    forced_dynamic = AnymailMessage(
        to=["alice@example.com"],
        template_id="5997fcf6-2b9f-484d-acd5-7e9a99f0dc1f",
        merge_global_data={"name": "Alice"},
        esp_extra={"use_dynamic_template": True},
    )
    forced_legacy = AnymailMessage(
        to=["alice@example.com"],
        template_id="d-5a963add2ec84305813ff860db277d7a",
        merge_global_data={"-name-": "Alice"},
        esp_extra={"use_dynamic_template": False},
    )
    assert connection().send_messages([forced_dynamic, forced_legacy]) == 2
    # The two calls may run concurrently: tell them apart by their template ids.
    by_template = {body["template_id"]: body for body in map(request_json, sendgrid.calls)}
    dynamic = by_template["5997fcf6-2b9f-484d-acd5-7e9a99f0dc1f"]
    legacy = by_template["d-5a963add2ec84305813ff860db277d7a"]
    assert dynamic["personalizations"][0]["dynamic_template_data"] == {"name": "Alice"}
    assert "substitutions" not in dynamic["personalizations"][0]
    assert legacy["personalizations"][0]["substitutions"] == {"-name-": "Alice"}
    assert "use_dynamic_template" not in dynamic
    assert "use_dynamic_template" not in legacy


def test_merge_global_data_alone_is_not_a_batch(
    sendgrid: responses.RequestsMock, message_ids: Any
) -> None:
    message = AnymailMessage(
        from_email="shop@example.com",
        to=["alice@example.com", "bob@example.com"],
        template_id="d-5a963add2ec84305813ff860db277d7a",
        merge_global_data={"site": "Example", "nested": {"a": [1, 2]}},
    )
    send(message)
    assert only_request_json(sendgrid) == {
        "personalizations": [
            {
                "to": [{"email": "alice@example.com"}, {"email": "bob@example.com"}],
                "dynamic_template_data": {"site": "Example", "nested": {"a": [1, 2]}},
                "custom_args": {"anymail_id": fixture_id(1)},
            }
        ],
        "from": {"email": "shop@example.com"},
        "template_id": "d-5a963add2ec84305813ff860db277d7a",
    }
    assert message.anymail_status.message_id == fixture_id(1)


def test_batch_merge_metadata_and_merge_headers(
    sendgrid: responses.RequestsMock, message_ids: Any
) -> None:
    message = AnymailMessage(
        subject="Hi",
        body="Body",
        from_email="shop@example.com",
        to=["alice@example.com", "Bob <bob@example.com>", "carol@example.com"],
        bcc=["audit@example.com"],
        merge_metadata={"alice@example.com": {"user_id": 17, "score": 1.5}},
        merge_headers={
            "alice@example.com": {"List-Unsubscribe": "<https://example.com/u/alice>"},
            "bob@example.com": {"X-Rank": 2},
        },
    )
    send(message)
    assert only_request_json(sendgrid) == {
        "personalizations": [
            {
                "to": [{"email": "alice@example.com"}],
                "bcc": [{"email": "audit@example.com"}],
                "custom_args": {"user_id": "17", "score": "1.5", "anymail_id": fixture_id(1)},
                "headers": {"List-Unsubscribe": "<https://example.com/u/alice>"},
            },
            {
                "to": [{"email": "bob@example.com", "name": "Bob"}],
                "bcc": [{"email": "audit@example.com"}],
                "custom_args": {"anymail_id": fixture_id(2)},
                "headers": {"X-Rank": "2"},
            },
            {
                "to": [{"email": "carol@example.com"}],
                "bcc": [{"email": "audit@example.com"}],
                "custom_args": {"anymail_id": fixture_id(3)},
            },
        ],
        "from": {"email": "shop@example.com"},
        "subject": "Hi",
        "content": [{"type": "text/plain", "value": "Body"}],
    }
    assert message.anymail_status.message_id == {fixture_id(1), fixture_id(2), fixture_id(3)}
    assert message.anymail_status.recipients["audit@example.com"].message_id == fixture_id(3)


def test_empty_merge_data_is_still_a_batch(sendgrid: responses.RequestsMock) -> None:
    message = AnymailMessage(
        body="Body", to=["alice@example.com", "bob@example.com"], merge_data={}
    )
    send(message)
    personalizations = only_request_json(sendgrid)["personalizations"]
    assert [p["to"] for p in personalizations] == [
        [{"email": "alice@example.com"}],
        [{"email": "bob@example.com"}],
    ]
    assert not any("substitutions" in p for p in personalizations)
    assert len(message.anymail_status.message_id) == 2


def test_merge_values_that_are_not_strings(sendgrid: responses.RequestsMock) -> None:
    message = AnymailMessage(to=["alice@example.com"], metadata={"cart": ["a", "b"]})
    with pytest.raises(AnymailSerializationError, match=r"metadata\['cart'\]"):
        send(message)
    message = AnymailMessage(
        to=["alice@example.com"], merge_headers={"alice@example.com": {"X-Flag": None}}
    )
    with refused(sendgrid, AnymailSerializationError, match="X-Flag"):
        send(message)


def test_template_with_subject_and_from_unset(sendgrid: responses.RequestsMock) -> None:
    message = AnymailMessage(to=["alice@example.com"], template_id="d-abc")
    message.subject = None
    message.from_email = None
    send(message)
    data = only_request_json(sendgrid)
    assert "subject" not in data
    assert "from" not in data
    assert "content" not in data
    assert data["template_id"] == "d-abc"


def test_content_order_and_other_alternatives(sendgrid: responses.RequestsMock) -> None:
    message = AnymailMessage(body="<p>HTML first</p>", to=["to@example.com"])
    message.content_subtype = "html"
    message.attach_alternative("<html amp4email>AMP</html>", "text/x-amp-html")
    message.attach_alternative("Plain text", "text/plain")
    send(message)
    assert only_request_json(sendgrid)["content"] == [
        {"type": "text/plain", "value": "Plain text"},
        {"type": "text/html", "value": "<p>HTML first</p>"},
        {"type": "text/x-amp-html", "value": "<html amp4email>AMP</html>"},
    ]


def test_multiple_reply_to_and_idna_domains(sendgrid: responses.RequestsMock) -> None:
    message = AnymailMessage(
        body="Body",
        from_email='"Shop, Inc." <shop@exämple.com>',
        to=["Jürgen <jurgen@bücher.example>"],
        reply_to=["one@example.com", "Two <two@example.com>"],
    )
    send(message)
    data = only_request_json(sendgrid)
    assert data["from"] == {"email": "shop@xn--exmple-cua.com", "name": "Shop, Inc."}
    assert data["personalizations"][0]["to"] == [
        {"email": "jurgen@xn--bcher-kva.example", "name": "Jürgen"}
    ]
    assert data["reply_to_list"] == [
        {"email": "one@example.com"},
        {"email": "two@example.com", "name": "Two"},
    ]
    assert "reply_to" not in data
    assert set(message.anymail_status.recipients) == {"jurgen@xn--bcher-kva.example"}


def test_attachments(sendgrid: responses.RequestsMock) -> None:
    message = AnymailMessage(body="Body", to=["to@example.com"])
    message.encoding = "iso-8859-1"
    message.attach("café.txt", "Crème brûlée", "text/plain")
    # bytes added directly (Django's attach() would decode them): no charset known
    message.attachments.append(("data.csv", b"a,b\n1,2\n", "text/csv"))
    legacy = MIMEText("Grüße".encode("cp1252").decode("latin-1"), "plain", "latin-1")
    legacy.set_payload("Grüße".encode("cp1252"))
    legacy.set_charset("windows-1252")
    legacy.add_header("Content-Disposition", "attachment", filename="notes.txt")
    message.attachments.append(legacy)
    message.attach(None, b"\x00\x01", "application/octet-stream")
    send(message)

    def b64(content: bytes) -> str:
        return base64.b64encode(content).decode("ascii")

    assert only_request_json(sendgrid)["attachments"] == [
        {
            # re-encoded from the message's iso-8859-1 to UTF-8, and declared so
            "content": b64("Crème brûlée".encode()),
            "type": 'text/plain; charset="utf-8"',
            "filename": "café.txt",
        },
        {"content": b64(b"a,b\n1,2\n"), "type": "text/csv", "filename": "data.csv"},
        {
            "content": b64("Grüße".encode()),
            "type": 'text/plain; charset="utf-8"',
            "filename": "notes.txt",
        },
        {
            "content": b64(b"\x00\x01"),
            "type": "application/octet-stream",
            "filename": "attachment.bin",
        },
    ]


def test_esp_extra_is_deep_merged(sendgrid: responses.RequestsMock, message_ids: Any) -> None:
    message = AnymailMessage(
        body="Body",
        to=["alice@example.com", "bob@example.com"],
        track_opens=True,
        merge_metadata={},
        esp_extra={
            "asm": {"group_id": 1, "groups_to_display": [1, 2, 3]},
            "tracking_settings": {"open_tracking": {"substitution_tag": "%OPEN%"}},
            "mail_settings": {"sandbox_mode": {"enable": True}},
            "personalizations": {
                "future_feature": {"future": "data"},
                "custom_args": {"campaign": "spring"},
            },
        },
    )
    send(message)
    data = only_request_json(sendgrid)
    assert data["asm"] == {"group_id": 1, "groups_to_display": [1, 2, 3]}
    assert data["tracking_settings"] == {
        "open_tracking": {"enable": True, "substitution_tag": "%OPEN%"}
    }
    assert data["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert data["personalizations"] == [
        {
            "to": [{"email": "alice@example.com"}],
            "future_feature": {"future": "data"},
            "custom_args": {"campaign": "spring", "anymail_id": fixture_id(1)},
        },
        {
            "to": [{"email": "bob@example.com"}],
            "future_feature": {"future": "data"},
            "custom_args": {"campaign": "spring", "anymail_id": fixture_id(2)},
        },
    ]


def test_esp_extra_personalizations_list_replaces_anymails(
    sendgrid: responses.RequestsMock, message_ids: Any
) -> None:
    personalizations = [
        {"to": [{"email": "alice@example.com"}], "subject": "For Alice"},
        {"to": [{"email": "bob@example.com"}], "custom_args": {"anymail_id": "bobs-own-id"}},
    ]
    message = AnymailMessage(
        body="Body", to=["ignored@example.com"], esp_extra={"personalizations": personalizations}
    )
    send(message)
    assert only_request_json(sendgrid)["personalizations"] == [
        {
            "to": [{"email": "alice@example.com"}],
            "subject": "For Alice",
            "custom_args": {"anymail_id": fixture_id(1)},
        },
        {"to": [{"email": "bob@example.com"}], "custom_args": {"anymail_id": "bobs-own-id"}},
    ]
    assert personalizations[0] == {"to": [{"email": "alice@example.com"}], "subject": "For Alice"}
    assert message.anymail_status.recipients == {
        "alice@example.com": AnymailRecipientStatus(fixture_id(1), "queued"),
        "bob@example.com": AnymailRecipientStatus("bobs-own-id", "queued"),
    }


def test_esp_extra_send_defaults_merge_with_message(
    settings: Any, sendgrid: responses.RequestsMock
) -> None:
    settings.ANYMAIL = {
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_SEND_DEFAULTS": {
            "esp_extra": {"asm": {"group_id": 1}, "ip_pool_name": "transactional"},
            "tags": ["default-tag"],
        },
    }
    message = AnymailMessage(
        body="Body", to=["to@example.com"], tags=["own"], esp_extra={"asm": {"group_id": 2}}
    )
    send(message)
    data = only_request_json(sendgrid)
    assert data["asm"] == {"group_id": 2}
    assert data["ip_pool_name"] == "transactional"
    assert data["categories"] == ["default-tag", "own"]


def test_esp_extra_mistakes(sendgrid: responses.RequestsMock) -> None:
    smtpapi = AnymailMessage(to=["to@example.com"], esp_extra={"x-smtpapi": {"category": "x"}})
    with pytest.raises(AnymailConfigurationError, match="x-smtpapi"):
        send(smtpapi)
    bad_personalizations = AnymailMessage(
        to=["to@example.com"], esp_extra={"personalizations": "all"}
    )
    with pytest.raises(AnymailError, match=r"must be a dict .* or a list"):
        send(bad_personalizations)
    bad_format = AnymailMessage(
        to=["to@example.com"],
        merge_global_data={"name": "A"},
        esp_extra={"merge_field_format": "-name-"},
    )
    with refused(sendgrid, AnymailError, match=r"no \{\} placeholder"):
        send(bad_format)


def test_generate_message_id_off(settings: Any, sendgrid: responses.RequestsMock) -> None:
    settings.ANYMAIL = {"SENDGRID_API_KEY": API_KEY, "SENDGRID_GENERATE_MESSAGE_ID": False}
    message = AnymailMessage(
        body="Body", to=["alice@example.com", "bob@example.com"], merge_metadata={}
    )
    send(message)
    assert only_request_json(sendgrid)["personalizations"] == [
        {"to": [{"email": "alice@example.com"}]},
        {"to": [{"email": "bob@example.com"}]},
    ]
    status = message.anymail_status
    assert status.status == {"queued"}
    assert status.message_id is None
    assert status.recipients["bob@example.com"] == AnymailRecipientStatus(None, "queued")


def test_generated_ids_are_distinct_uuids(sendgrid: responses.RequestsMock) -> None:
    message = AnymailMessage(body="Body", to=["a@example.com", "b@example.com"], merge_data={})
    send(message)
    ids = message.anymail_status.message_id
    assert isinstance(ids, set) and len(ids) == 2
    for message_id in ids:
        assert str(uuid.UUID(message_id)) == message_id


# --- unsupported features -----------------------------------------------------


def test_ignored_unsupported_features_are_left_out(sendgrid: responses.RequestsMock) -> None:
    message = AnymailMessage(
        body="Body",
        to=["to@example.com"],
        envelope_sender="bounces@example.com",
        tags=[f"tag{i}" for i in range(12)],
    )
    send(message, ignore_unsupported_features=True)
    data = only_request_json(sendgrid)
    assert data["categories"] == [f"tag{i}" for i in range(10)]
    assert "bounces@example.com" not in json.dumps(data)


# --- responses and errors -----------------------------------------------------

ERROR_FIXTURES = [
    (400, "send_error_400_personalizations_to.json"),
    (400, "send_error_400_duplicate_recipient.json"),
    (400, "send_error_400_cryptic_bad_request.json"),
    (401, "send_error_401.json"),
    (403, "send_error_403_sender_identity.json"),
    (413, "send_error_413.json"),
    (429, "send_error_429.json"),
    (500, "send_error_500.json"),
]


@pytest.mark.parametrize(("status_code", "fixture"), ERROR_FIXTURES)
def test_error_responses(
    mocked_responses: responses.RequestsMock, status_code: int, fixture: str
) -> None:
    body = fixture_text("sendgrid", fixture)
    add_response(mocked_responses, API_URL, body, status_code, content_type="application/json")
    message = AnymailMessage(body="Body", from_email="from@example.com", to=["to@example.com"])
    error = api_error(send, message, status_code, API_KEY)
    assert not isinstance(error, AnymailRecipientsRefused)
    text = str(error)
    assert f"SendGrid API error: HTTP {status_code}" in text
    for item in json.loads(body)["errors"]:
        assert item["message"] in text
    assert only_request(mocked_responses).url == API_URL


def test_rate_limit_headers_stay_reachable(mocked_responses: responses.RequestsMock) -> None:
    add_response(
        mocked_responses,
        API_URL,
        fixture_json("send_error_429.json"),
        status=429,
        headers={
            "X-RateLimit-Limit": "600",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "1772560860",
        },
    )
    with pytest.raises(AnymailAPIError, match="too many requests") as excinfo:
        send(AnymailMessage(body="Body", to=["to@example.com"]))
    assert excinfo.value.response.headers["X-RateLimit-Reset"] == "1772560860"
    assert excinfo.value.response.headers["X-RateLimit-Remaining"] == "0"


def test_non_json_error_body_is_quoted(mocked_responses: responses.RequestsMock) -> None:
    add_response(
        mocked_responses,
        API_URL,
        "<html><body>502 Bad Gateway (upstream proxy)</body></html>",
        status=502,
        content_type="text/html",
    )
    with pytest.raises(AnymailAPIError, match=r"502 Bad Gateway \(upstream proxy\)") as excinfo:
        send(AnymailMessage(body="Body", to=["to@example.com"]))
    assert excinfo.value.status_code == 502


def test_success_body_is_not_parsed(mocked_responses: responses.RequestsMock) -> None:
    # Any 2xx is success, whatever (if anything) the body holds.
    add_response(mocked_responses, API_URL, "not json", status=200)
    message = AnymailMessage(body="Body", to=["to@example.com"], cc=["cc@example.com"])
    assert send(message) == 1
    assert message.anymail_status.status == {"queued"}
    assert set(message.anymail_status.recipients) == {"to@example.com", "cc@example.com"}


# --- settings -------------------------------------------------------------------


def auth_header(mock: responses.RequestsMock) -> str:
    return str(mock.calls[-1].request.headers["Authorization"])


def simple_message() -> AnymailMessage:
    return AnymailMessage(body="Body", from_email="from@example.com", to=["to@example.com"])


@pytest.mark.parametrize(
    "settings_changes",
    [
        {"ANYMAIL": {"SENDGRID_API_KEY": API_KEY, "SENDGRID_USERNAME": "me"}},
        {"ANYMAIL": {"SENDGRID_API_KEY": API_KEY, "SENDGRID_PASSWORD": "hunter2-secret"}},
        {"ANYMAIL": {"SENDGRID_API_KEY": API_KEY}, "SENDGRID_PASSWORD": "hunter2-secret"},
        {"ANYMAIL": {"SENDGRID_API_KEY": API_KEY}, "ANYMAIL_SENDGRID_USERNAME": "me"},
    ],
)
def test_v2_username_password_settings_are_refused(settings_changes: Any) -> None:
    with (
        override_settings(**settings_changes),
        pytest.raises(AnymailConfigurationError, match="SENDGRID_API_KEY") as excinfo,
    ):
        connection()
    assert "hunter2-secret" not in str(excinfo.value)


def test_username_password_arguments(sendgrid: responses.RequestsMock) -> None:
    # Django's send_mail() passes username=None, password=None: not credentials.
    assert send(simple_message(), username=None, password=None) == 1
    with pytest.raises(AnymailConfigurationError, match="password= argument"):
        connection(password="hunter2-secret")


def test_send_mail_shortcut(settings: Any, sendgrid: responses.RequestsMock) -> None:
    settings.EMAIL_BACKEND = BACKEND
    assert mail.send_mail("Subject", "Body", "from@example.com", ["to@example.com"]) == 1
    assert only_request_json(sendgrid)["subject"] == "Subject"


def test_api_url_setting(settings: Any, mocked_responses: responses.RequestsMock) -> None:
    eu_url = "https://api.eu.sendgrid.com/v3/mail/send"
    add_response(mocked_responses, eu_url, status=202)
    settings.ANYMAIL = {
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_API_URL": "https://api.eu.sendgrid.com/v3",  # trailing slash added
    }
    send(simple_message())
    send(simple_message(), api_url="https://api.eu.sendgrid.com/v3/")
    assert [call.request.url for call in mocked_responses.calls] == [eu_url, eu_url]


def test_settings_as_backend_kwargs(settings: Any, sendgrid: responses.RequestsMock) -> None:
    settings.ANYMAIL = {"SENDGRID_API_KEY": API_KEY, "SENDGRID_GENERATE_MESSAGE_ID": True}
    message = AnymailMessage(
        body="Body", to=["to@example.com"], merge_data={"to@example.com": {"name": "A"}}
    )
    send(message, generate_message_id=False, merge_field_format="%{}%")
    personalization = only_request_json(sendgrid)["personalizations"][0]
    assert personalization == {
        "to": [{"email": "to@example.com"}],
        "substitutions": {"%name%": "A"},
    }
    assert message.anymail_status.message_id is None


@pytest.mark.parametrize("bad_format", ["-field-", "{0}{1}", "{", 42])
def test_invalid_merge_field_format_setting(settings: Any, bad_format: Any) -> None:
    settings.ANYMAIL = {"SENDGRID_API_KEY": API_KEY, "SENDGRID_MERGE_FIELD_FORMAT": bad_format}
    with pytest.raises(AnymailImproperlyConfigured, match="SENDGRID_MERGE_FIELD_FORMAT"):
        connection()


def test_invalid_generate_message_id_setting(settings: Any) -> None:
    settings.ANYMAIL = {"SENDGRID_API_KEY": API_KEY, "SENDGRID_GENERATE_MESSAGE_ID": "no"}
    with pytest.raises(AnymailImproperlyConfigured, match="SENDGRID_GENERATE_MESSAGE_ID"):
        connection()


@requires_mailers
def test_mailers_username_option_is_refused(settings: Any) -> None:
    settings.MAILERS = {
        "default": {"BACKEND": BACKEND, "OPTIONS": {"api_key": "SG.x", "username": "me"}}
    }
    with pytest.raises(AnymailConfigurationError, match="username"):
        mail.mailers["default"]
