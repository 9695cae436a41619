"""Coalescing (backends/_coalesce.py): several messages of one send_messages() in
one batch call -- Postmark email/batch and email/batchWithTemplates, Resend
emails/batch, Mailjet Messages[] -- with each message's own status and signals.

The requests are checked as the ESP receives them (``responses``), and against
the ESP's published request schema.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from django.core.mail import get_connection

from anymail.backends._coalesce import shares
from anymail.exceptions import (
    AnymailAPIError,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
    AnymailUnsupportedFeature,
)

from .esp_wire import FIXTURES, answer_like, assert_valid_request, bodies, connection, message
from .utils import recorded_sends

POSTMARK = "https://api.postmarkapp.com/"
RESEND = "https://api.resend.com/"
MAILJET = "https://api.mailjet.com/v3.1/send"


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


@pytest.fixture
def signals() -> Iterator[list[tuple[str, str, int]]]:
    """(signal, subject, thread) for every pre_send and post_send, in order."""
    with recorded_sends() as events:
        yield events


def postmark_results(*codes: int) -> Any:
    """A batch answer: ErrorCode per message (0: accepted)."""
    texts = {
        0: "OK",
        406: "You tried to send to recipient(s) that have been marked as inactive. "
        "Found inactive addresses: customer1@example.com. Inactive recipients are ones that "
        "have generated a hard bounce, a spam complaint, or a manual suppression.",
        300: "Invalid 'From' address: 'shop@'.",
    }
    results = []
    for index, code in enumerate(codes):
        result: dict[str, Any] = {"ErrorCode": code, "Message": texts[code]}
        if code == 0:
            result.update(MessageID=f"id-{index}", To=f"customer{index}@example.com")
        results.append(result)
    return results


# --- Postmark --------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
def test_postmark_messages_share_one_batch_call(
    mock: responses.RequestsMock, signals: list[tuple[str, str, int]], concurrency: int
) -> None:
    mock.add_callback("POST", f"{POSTMARK}email/batch", callback=answer_like("postmark"))
    sent = [message(index, tags=[f"tag{index}"]) for index in range(3)]

    assert connection("postmark", send_concurrency=concurrency).send_messages(sent) == 3

    assert len(mock.calls) == 1
    body = bodies(mock)[0]
    assert_valid_request("postmark", "/email/batch", body)
    assert [(m["To"], m["Subject"], m["Tag"]) for m in body] == [
        (f"Customer {i} <customer{i}@example.com>", f"Order {i}", f"tag{i}") for i in range(3)
    ]
    for index, sent_message in enumerate(sent):
        status = sent_message.anymail_status
        assert status.status == {"sent"}
        assert status.message_id == f"b7bc2f4a-e38e-4336-af7d-{index + 1:012d}"
        assert status.esp_response is mock.calls[0].response  # the shared call's answer
    me = threading.get_ident()
    assert signals == [
        *[("pre_send", f"Order {i}", me) for i in range(3)],
        *[("post_send", f"Order {i}", me) for i in range(3)],
    ]


def test_postmark_one_message_is_sent_as_before(mock: responses.RequestsMock) -> None:
    mock.add_callback("POST", f"{POSTMARK}email", callback=answer_like("postmark"))
    assert connection("postmark").send_messages([message()]) == 1
    assert isinstance(bodies(mock)[0], dict)


def test_postmark_templates_use_batch_with_templates(mock: responses.RequestsMock) -> None:
    for path in ("email/batch", "email/batchWithTemplates"):
        mock.add_callback("POST", f"{POSTMARK}{path}", callback=answer_like("postmark"))
    sent = [message(0), message(1)]
    for index in (2, 3):
        # (A numeric TemplateId: the schema, older than template aliases, requires one.)
        templated = message(index, template_id=8172, merge_global_data={"n": index})
        templated.subject = ""
        templated.body = ""
        sent.append(templated)

    # (One call at a time, so the calls are recorded in message order.)
    assert connection("postmark", send_concurrency=1).send_messages(sent) == 4

    assert [call.request.url for call in mock.calls] == [
        f"{POSTMARK}email/batch",
        f"{POSTMARK}email/batchWithTemplates",
    ]
    plain, templated_body = bodies(mock)
    assert_valid_request("postmark", "/email/batch", plain)
    # The schema requires both TemplateId and TemplateAlias, where its own text (and
    # the fact sheet) say "one or the other": that one disagreement is let through.
    assert_valid_request(
        "postmark",
        "/email/batchWithTemplates",
        templated_body,
        allow="'TemplateAlias' is a required property",
    )
    assert [m["TemplateModel"] for m in templated_body["Messages"]] == [{"n": 2}, {"n": 3}]
    assert all("TextBody" not in m for m in templated_body["Messages"])


def test_postmark_mixed_results_fail_only_their_message(
    mock: responses.RequestsMock, signals: list[tuple[str, str, int]]
) -> None:
    mock.add("POST", f"{POSTMARK}email/batch", json=postmark_results(0, 406, 300, 0))
    sent = [message(index) for index in range(4)]

    with pytest.raises(AnymailRecipientsRefused) as excinfo:
        connection("postmark").send_messages(sent)

    # The first failure in message order is raised, after every message was reported.
    assert excinfo.value.email_message is sent[1]
    assert sent[0].anymail_status.status == {"sent"}
    assert sent[1].anymail_status.recipients["customer1@example.com"].status == "rejected"
    assert sent[2].anymail_status.status is None  # its error: a request problem
    assert sent[3].anymail_status.status == {"sent"}
    assert sent[3].anymail_status.message_id == "id-3"
    assert [s for s in signals if s[0] == "post_send"] == [
        ("post_send", subject, threading.get_ident())
        for subject in ("Order 0", "Order 1", "Order 3")
    ]


def test_postmark_mixed_results_with_fail_silently(mock: responses.RequestsMock) -> None:
    mock.add("POST", f"{POSTMARK}email/batch", json=postmark_results(0, 300, 0))
    sent = [message(index) for index in range(3)]
    assert connection("postmark", fail_silently=True).send_messages(sent) == 2
    assert [m.anymail_status.status for m in sent] == [{"sent"}, None, {"sent"}]


def test_postmark_request_error_in_batch_names_its_message(mock: responses.RequestsMock) -> None:
    mock.add("POST", f"{POSTMARK}email/batch", json=postmark_results(0, 300))
    sent = [message(0), message(1)]
    with pytest.raises(AnymailRequestsAPIError, match=r"ErrorCode 300: Invalid 'From'"):
        connection("postmark").send_messages(sent)
    assert sent[0].anymail_status.status == {"sent"}


def test_postmark_whole_call_failure_sends_nothing(mock: responses.RequestsMock) -> None:
    mock.add("POST", f"{POSTMARK}email/batch", status=500, body="Internal Server Error")
    sent = [message(index) for index in range(3)]
    with pytest.raises(AnymailAPIError) as excinfo:
        connection("postmark").send_messages(sent)
    assert excinfo.value.email_message is sent[0]
    assert all(m.anymail_status.esp_response.status_code == 500 for m in sent)
    assert all(m.anymail_status.status is None for m in sent)
    assert connection("postmark", fail_silently=True).send_messages(sent) == 0


def test_postmark_calls_hold_at_most_500_messages(mock: responses.RequestsMock) -> None:
    mock.add_callback("POST", f"{POSTMARK}email/batch", callback=answer_like("postmark"))
    sent = [message(index) for index in range(1201)]
    assert connection("postmark", send_concurrency=1).send_messages(sent) == 1201
    assert [len(body) for body in bodies(mock)] == [500, 500, 201]
    assert [m["Subject"] for body in bodies(mock) for m in body] == [m.subject for m in sent]
    assert all(m.anymail_status.status == {"sent"} for m in sent)


def test_postmark_batch_sends_coalesce_by_their_message_count(
    mock: responses.RequestsMock,
) -> None:
    """A merge batch's messages count against the limit: 498 singles + a batch of 3: 2 calls."""
    mock.add_callback("POST", f"{POSTMARK}email/batch", callback=answer_like("postmark"))
    singles = [message(index) for index in range(498)]
    batch = message(498, to=["a@example.com", "b@example.com", "c@example.com"])
    batch.merge_metadata = {"a@example.com": {"n": "1"}}
    assert connection("postmark", send_concurrency=1).send_messages([*singles, batch]) == 499
    assert [len(body) for body in bodies(mock)] == [498, 3]
    assert batch.anymail_status.recipients.keys() == {
        "a@example.com",
        "b@example.com",
        "c@example.com",
    }


def test_postmark_other_server_token_gets_its_own_call(mock: responses.RequestsMock) -> None:
    for path in ("email", "email/batch"):
        mock.add_callback("POST", f"{POSTMARK}{path}", callback=answer_like("postmark"))
    other = message(2, esp_extra={"server_token": "other-server-token"})
    sent = [message(0), message(1), other]
    assert connection("postmark", send_concurrency=1).send_messages(sent) == 3
    tokens = [call.request.headers["X-Postmark-Server-Token"] for call in mock.calls]
    assert tokens == ["POSTMARK_API_TEST", "other-server-token"]
    assert [call.request.url for call in mock.calls] == [
        f"{POSTMARK}email/batch",
        f"{POSTMARK}email",
    ]


@pytest.mark.parametrize("off", [{"coalesce_sends": False}, {}], ids=["option", "setting"])
def test_coalescing_can_be_turned_off(
    mock: responses.RequestsMock, settings: Any, off: dict[str, Any]
) -> None:
    if not off:
        settings.ANYMAIL = {"COALESCE_SENDS": False}
    mock.add_callback("POST", f"{POSTMARK}email", callback=answer_like("postmark"))
    sent = [message(index) for index in range(3)]
    assert connection("postmark", send_concurrency=1, **off).send_messages(sent) == 3
    assert len(mock.calls) == 3


def test_message_that_cannot_be_built_stops_the_send_after_the_earlier_ones(
    mock: responses.RequestsMock, signals: list[tuple[str, str, int]]
) -> None:
    mock.add_callback("POST", f"{POSTMARK}email/batch", callback=answer_like("postmark"))
    sent = [message(index) for index in range(5)]
    sent[2].send_at = datetime.now(UTC) + timedelta(hours=1)  # Postmark can't schedule
    with pytest.raises(AnymailUnsupportedFeature):
        connection("postmark").send_messages(sent)
    assert [m["Subject"] for m in bodies(mock)[0]] == ["Order 0", "Order 1"]
    assert [s[:2] for s in signals] == [
        ("pre_send", "Order 0"),
        ("pre_send", "Order 1"),
        ("pre_send", "Order 2"),
        ("post_send", "Order 0"),
        ("post_send", "Order 1"),
    ]
    assert sent[3].anymail_status.status is None and sent[4].anymail_status.status is None


# --- Resend ----------------------------------------------------------------------------


def test_resend_messages_share_one_permissive_batch_call(mock: responses.RequestsMock) -> None:
    mock.add_callback("POST", f"{RESEND}emails/batch", callback=answer_like("resend"))
    sent = [message(index, cc=["boss@example.com"]) for index in range(3)]

    assert connection("resend").send_messages(sent) == 3

    assert len(mock.calls) == 1
    request = mock.calls[0].request
    assert request.headers["x-batch-validation"] == "permissive"
    body = json.loads(request.body)
    assert_valid_request("resend", "/emails/batch", body)
    assert [item["to"] for item in body] == [
        [f"Customer {i} <customer{i}@example.com>"] for i in range(3)
    ]
    for index, sent_message in enumerate(sent):
        status = sent_message.anymail_status
        assert status.message_id == f"5e4c8f5a-7a3e-4c1b-9f0d-{index + 1:012d}"
        assert status.recipients["boss@example.com"].status == "queued"


def test_resend_refused_email_fails_only_its_message(mock: responses.RequestsMock) -> None:
    # Permissive validation: "data" lists the emails sent; "errors" the others, by index.
    answer = {
        "data": [{"id": "sent-0"}, {"id": "sent-2"}],
        "errors": [{"index": 1, "message": "Invalid `to` field."}],
    }
    mock.add("POST", f"{RESEND}emails/batch", json=answer)
    sent = [message(index) for index in range(3)]
    with pytest.raises(AnymailRequestsAPIError, match=r"Invalid `to` field. \(email 2 of the"):
        connection("resend").send_messages(sent)
    assert sent[0].anymail_status.message_id == "sent-0"
    assert sent[1].anymail_status.status is None
    assert sent[2].anymail_status.message_id == "sent-2"
    assert connection("resend", fail_silently=True).send_messages(sent) == 2


def test_resend_attachments_and_scheduled_emails_are_sent_alone(
    mock: responses.RequestsMock,
) -> None:
    for path in ("emails", "emails/batch"):
        mock.add_callback("POST", f"{RESEND}{path}", callback=answer_like("resend"))
    attached = message(2)
    attached.attach("notes.txt", "hello", "text/plain")
    scheduled = message(3, send_at=datetime.now(UTC) + timedelta(hours=1))
    sent = [message(0), message(1), attached, scheduled, message(4), message(5)]

    assert connection("resend", send_concurrency=1).send_messages(sent) == 6

    assert [call.request.url.removeprefix(RESEND) for call in mock.calls] == [
        "emails/batch",
        "emails",
        "emails",
        "emails/batch",
    ]
    for body in bodies(mock):
        assert_valid_request(
            "resend", "/emails/batch" if isinstance(body, list) else "/emails", body
        )
    assert "attachments" in bodies(mock)[1] and "scheduled_at" in bodies(mock)[2]


def test_resend_calls_hold_at_most_100_emails(mock: responses.RequestsMock) -> None:
    mock.add_callback("POST", f"{RESEND}emails/batch", callback=answer_like("resend"))
    sent = [message(index) for index in range(250)]
    assert connection("resend", send_concurrency=1).send_messages(sent) == 250
    assert [len(body) for body in bodies(mock)] == [100, 100, 50]


# --- Mailjet ---------------------------------------------------------------------------


def test_mailjet_messages_share_one_call(mock: responses.RequestsMock) -> None:
    mock.add_callback("POST", MAILJET, callback=answer_like("mailjet"))
    sent = [message(index, cc=["boss@example.com"], metadata={"n": index}) for index in range(3)]

    assert connection("mailjet").send_messages(sent) == 3

    body = bodies(mock)[0]
    assert_valid_request("mailjet", "/v3.1/send", body)
    assert "Globals" not in body  # each message carries its own properties
    assert [(m["To"], m["Cc"], m["Subject"], m["EventPayload"]) for m in body["Messages"]] == [
        (
            [{"Email": f"customer{i}@example.com", "Name": f"Customer {i}"}],
            [{"Email": "boss@example.com"}],
            f"Order {i}",
            json.dumps({"n": i}, separators=(",", ":")),
        )
        for i in range(3)
    ]
    ids = [
        m.anymail_status.recipients[f"customer{i}@example.com"].message_id
        for i, m in enumerate(sent)
    ]
    assert len(set(ids)) == 3 and all(m.anymail_status.status == {"sent"} for m in sent)


def test_mailjet_partial_failure_fails_only_its_message(mock: responses.RequestsMock) -> None:
    answer = json.loads(
        (FIXTURES / "mailjet" / "send_partial_error_400.json").read_text()
    )  # Messages[0] success, Messages[1] error
    mock.add("POST", MAILJET, json=answer, status=400)
    sent = [message(0, to=["alice@example.com"]), message(1, to=["invalid@123.4"])]
    with pytest.raises(AnymailRequestsAPIError, match=r"mj-0013") as excinfo:
        connection("mailjet").send_messages(sent)
    assert excinfo.value.email_message is sent[1]
    assert sent[0].anymail_status.status == {"sent"}
    assert sent[0].anymail_status.message_id == "576460752303423501"
    assert connection("mailjet", fail_silently=True).send_messages(sent) == 1


def test_mailjet_calls_hold_at_most_50_messages(mock: responses.RequestsMock) -> None:
    mock.add_callback("POST", MAILJET, callback=answer_like("mailjet"))
    batch = message(0, to=[f"r{i}@example.com" for i in range(30)], merge_data={})
    sent = [batch, *[message(index) for index in range(1, 41)]]
    assert connection("mailjet", send_concurrency=1).send_messages(sent) == 41
    # The merge batch's 30 messages and 20 singles; then the other 20 singles.
    assert [len(body["Messages"]) for body in bodies(mock)] == [50, 20]
    assert len(batch.anymail_status.recipients) == 30


def test_backends_without_a_batch_call_send_one_call_per_message(
    mock: responses.RequestsMock,
) -> None:
    mock.add_callback(
        "POST", "https://api.sendgrid.com/v3/mail/send", callback=answer_like("sendgrid")
    )
    backend = get_connection("anymail.backends.sendgrid.EmailBackend", api_key="key")
    assert backend.send_messages([message(index) for index in range(3)]) == 3
    assert len(mock.calls) == 3


def test_coalesced_calls_run_in_worker_threads(
    mock: responses.RequestsMock, signals: list[tuple[str, str, int]]
) -> None:
    """With send_concurrency, batch calls overlap in worker threads (a barrier only the
    two of them together pass); messages, statuses and signals stay in the caller's."""
    barrier = threading.Barrier(2, timeout=30)
    call_threads: list[int] = []

    def overlapping(request: Any) -> Any:
        call_threads.append(threading.get_ident())
        barrier.wait()
        return answer_like("postmark")(request)

    mock.add_callback("POST", f"{POSTMARK}email/batch", callback=overlapping)
    sent = [message(index) for index in range(1000)]

    assert connection("postmark", send_concurrency=2).send_messages(sent) == 1000

    me = threading.get_ident()
    assert len(call_threads) == 2 and me not in call_threads
    assert len(set(call_threads)) == 2
    assert [s[1] for s in signals if s[0] == "post_send"] == [m.subject for m in sent]
    assert {s[2] for s in signals} == {me}
    assert all(m.anymail_status.status == {"sent"} for m in sent)


def test_rate_limited_batch_call_stops_the_send(
    mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    mock.add("POST", f"{POSTMARK}email/batch", status=429, json={"ErrorCode": 429, "Message": ""})
    sent = [message(index) for index in range(1200)]
    backend = connection("postmark", send_concurrency=1, fail_silently=True)

    with caplog.at_level("WARNING", "anymail"):
        assert backend.send_messages(sent) == 0

    assert len(mock.calls) == 1  # the next 500 and 200 were not sent
    assert all(m.anymail_status.esp_response.status_code == 429 for m in sent[:500])
    assert all(m.anymail_status.esp_response is None for m in sent[500:])
    assert "700 of 1200 messages were not sent" in caplog.text


def test_a_calls_results_are_shared_out_in_order_by_each_payloads_size() -> None:
    assert shares(["a", "b", "c", "d", "e"], [2, 1, 2]) == [["a", "b"], ["c"], ["d", "e"]]
    assert shares([], []) == []
