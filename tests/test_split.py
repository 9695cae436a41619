"""Batch sends cut at an ESP's per-call limit (backends/_split.py): one message
whose "to" recipients don't fit in one call is sent as several, transparently."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
import responses

from anymail.backends._split import BatchLimits
from anymail.exceptions import AnymailAPIError

from .esp_wire import answer_like, assert_valid_request, bodies, connection, message
from .utils import recorded_sends


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


def batch(count: int, **kwargs: Any) -> Any:
    """One message to ``count`` "to" recipients, as a batch send (merge_metadata)."""
    to = [f"r{index}@example.com" for index in range(count)]
    sent = message(0, to=to, **kwargs)
    sent.merge_metadata = {address: {"n": str(index)} for index, address in enumerate(to)}
    return sent


def numbered(answer: Any) -> Any:
    """The ESP's answer with ids unique across calls (the demo's restart at 1 for each)."""
    counter = iter(range(1, 100000))

    def callback(request: Any) -> Any:
        status, headers, body = answer(request)
        text = json.dumps(json.loads(body), separators=(",", ":"))
        for key in ("MessageID", "id"):
            parts = text.split(f'"{key}":"')
            text = parts[0] + "".join(f'"{key}":"n{next(counter)}-' + part for part in parts[1:])
        return status, headers, text

    return callback


def form_fields(request: Any) -> list[tuple[str, str]]:
    """(name, value) of each part of a multipart/form-data request."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    parsed = message_from_bytes(head + request.body)
    return [
        (
            part.get_param("name", header="content-disposition"),
            part.get_payload(decode=True).decode(),
        )
        for part in parsed.get_payload()
    ]


def test_limits_count_cc_and_bcc_copies() -> None:
    class Payload:
        send_params = {"cc": ["a", "b"], "bcc": ["c"]}

    assert BatchLimits(messages=1000, recipients=1000).batch_size(Payload()) == 250  # type: ignore[arg-type]
    assert BatchLimits(messages=50).batch_size(Payload()) == 50  # type: ignore[arg-type]
    assert BatchLimits(messages=10, recipients=3).batch_size(Payload()) == 1  # type: ignore[arg-type]


def test_postmark_batch_of_1201_is_three_calls(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        "POST",
        "https://api.postmarkapp.com/email/batch",
        callback=numbered(answer_like("postmark")),
    )
    sent = batch(1201, cc=["boss@example.com"])
    with recorded_sends() as events:
        assert connection("postmark").send_messages([sent]) == 1

    sent_bodies = bodies(mock)
    assert [len(body) for body in sent_bodies] == [500, 500, 201]
    for body in sent_bodies:
        assert_valid_request("postmark", "/email/batch", body)
    assert [m["To"] for body in sent_bodies for m in body] == sent.to
    assert [m["Metadata"] for body in sent_bodies for m in body] == [
        {"n": str(index)} for index in range(1201)
    ]
    assert all(m["Cc"] == "boss@example.com" for body in sent_bodies for m in body)
    status = sent.anymail_status
    assert len(status.recipients) == 1202 and status.status == {"sent"}
    assert len(status.message_id) == 1201  # one id per message sent (a cc shares the last)
    assert status.esp_response == [call.response for call in mock.calls]
    me = threading.get_ident()
    assert events == [("pre_send", sent.subject, me), ("post_send", sent.subject, me)]


def test_postmark_batch_at_the_limit_is_one_call(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        "POST", "https://api.postmarkapp.com/email/batch", callback=answer_like("postmark")
    )
    sent = batch(500)
    assert connection("postmark").send_messages([sent]) == 1
    assert [len(body) for body in bodies(mock)] == [500]
    assert sent.anymail_status.esp_response is mock.calls[0].response


def test_resend_batch_is_cut_at_100(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        "POST", "https://api.resend.com/emails/batch", callback=numbered(answer_like("resend"))
    )
    sent = batch(250)
    assert connection("resend").send_messages([sent]) == 1
    assert [len(body) for body in bodies(mock)] == [100, 100, 50]
    for body in bodies(mock):
        assert_valid_request("resend", "/emails/batch", body)
    # A batch send keeps Resend's strict validation: all of a call, or none of it.
    assert all("x-batch-validation" not in call.request.headers for call in mock.calls)
    assert len(sent.anymail_status.message_id) == 250


def test_resend_parts_never_share_an_idempotency_key(mock: responses.RequestsMock) -> None:
    # Resend would take a second part with the same key for a retry of the first,
    # and drop it: each part carries a key of its own, derived from the message's.
    mock.add_callback(
        "POST", "https://api.resend.com/emails/batch", callback=numbered(answer_like("resend"))
    )
    sent = batch(250, esp_extra={"idempotency_key": "order-42"})
    assert connection("resend").send_messages([sent]) == 1
    keys = [call.request.headers["Idempotency-Key"] for call in mock.calls]
    assert keys == ["order-42-part1", "order-42-part2", "order-42-part3"]
    long_key = "k" * 256
    mock.calls.reset()
    sent = batch(101, esp_extra={"idempotency_key": long_key})
    assert connection("resend").send_messages([sent]) == 1
    keys = [call.request.headers["Idempotency-Key"] for call in mock.calls]
    assert len(set(keys)) == 2 and all(len(key) <= 256 for key in keys)


def test_retried_part_keeps_its_own_key(mock: responses.RequestsMock, settings: Any) -> None:
    # With RETRY_SENDS, a part that failed is retried alone, with the same key as
    # its first attempt; the part already sent is not sent again.
    settings.ANYMAIL = {"RETRY_BACKOFF": 0, "RETRY_MAX_BACKOFF": 0}
    answer = numbered(answer_like("resend"))
    failures = iter([False, True, False])

    def flaky(request: Any) -> Any:
        if next(failures):
            return 503, {}, '{"message": "try again"}'
        return answer(request)

    mock.add_callback("POST", "https://api.resend.com/emails/batch", callback=flaky)
    sent = batch(150)
    assert connection("resend", retry_sends=True).send_messages([sent]) == 1
    keys = [call.request.headers["Idempotency-Key"] for call in mock.calls]
    assert [len(body) for body in bodies(mock)] == [100, 50, 50]
    assert keys[0].endswith("-part1") and keys[1].endswith("-part2")
    assert keys[1] == keys[2] and keys[0].removesuffix("-part1") == keys[1].removesuffix("-part2")
    assert len(sent.anymail_status.message_id) == 150


def test_mailjet_batch_is_cut_at_50(mock: responses.RequestsMock) -> None:
    mock.add_callback("POST", "https://api.mailjet.com/v3.1/send", callback=answer_like("mailjet"))
    sent = batch(120)
    assert connection("mailjet").send_messages([sent]) == 1
    assert [len(body["Messages"]) for body in bodies(mock)] == [50, 50, 20]
    for body in bodies(mock):
        assert_valid_request("mailjet", "/v3.1/send", body)
    assert len(sent.anymail_status.recipients) == 120


@pytest.mark.parametrize(
    ("cc", "sizes"),
    [([], [1000, 1000, 500]), (["boss@example.com"], [500] * 5)],
    ids=["personalizations", "recipients"],
)
def test_sendgrid_batch_is_cut_at_1000_personalizations_and_recipients(
    mock: responses.RequestsMock, cc: list[str], sizes: list[int]
) -> None:
    mock.add_callback(
        "POST", "https://api.sendgrid.com/v3/mail/send", callback=answer_like("sendgrid")
    )
    sent = batch(2500, cc=cc)
    assert connection("sendgrid").send_messages([sent]) == 1
    personalizations = [body["personalizations"] for body in bodies(mock)]
    assert [len(p) for p in personalizations] == sizes
    assert [p["to"][0]["email"] for part in personalizations for p in part] == sent.to
    # Each message's generated id is in its own personalization: every "to" has one.
    ids = {
        r.message_id for a, r in sent.anymail_status.recipients.items() if a != "boss@example.com"
    }
    assert len(ids) == 2500


def test_mailgun_batch_is_cut_at_1000_recipients(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        "POST",
        "https://api.mailgun.net/v3/mg.shop.example.com/messages",
        callback=answer_like("mailgun"),
    )
    sent = batch(2001, bcc=["audit@example.com"])
    assert connection("mailgun").send_messages([sent]) == 1
    forms = [form_fields(call.request) for call in mock.calls]
    # 1000 recipients per call, counting the bcc's copy for each "to".
    assert [sum(name == "to" for name, _ in form) for form in forms] == [500, 500, 500, 500, 1]
    variables = [json.loads(dict(form)["recipient-variables"]) for form in forms]
    assert [len(v) for v in variables] == [500, 500, 500, 500, 1]
    assert [address for v in variables for address in v] == sent.to
    assert len(sent.anymail_status.recipients) == 2002


def test_brevo_batch_is_cut_at_1000_versions_and_2000_recipients(
    mock: responses.RequestsMock,
) -> None:
    mock.add_callback("POST", "https://api.brevo.com/v3/smtp/email", callback=answer_like("brevo"))
    sent = batch(1400, cc=["a@example.com", "b@example.com"])
    sent.attach_alternative("<p>Shipped.</p>", "text/html")  # Brevo needs html
    assert connection("brevo").send_messages([sent]) == 1
    assert [len(body["messageVersions"]) for body in bodies(mock)] == [666, 666, 68]
    recipients = sent.anymail_status.recipients
    assert len(recipients) == 1402 and sent.anymail_status.status == {"queued"}


def test_failed_part_raises_after_the_parts_sent_are_reported(
    mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    url = "https://api.postmarkapp.com/email/batch"
    answers: Iterator[Any] = iter([None, (503, {}, "Service Unavailable")])

    def first_ok_then_down(request: Any) -> Any:
        return next(answers) or answer_like("postmark")(request)

    mock.add_callback("POST", url, callback=first_ok_then_down)
    sent = batch(1200)

    with caplog.at_level(logging.ERROR, "anymail"), pytest.raises(AnymailAPIError) as excinfo:
        connection("postmark").send_messages([sent])

    assert excinfo.value.email_message is sent
    assert len(mock.calls) == 2  # the third part was never sent
    status = sent.anymail_status
    assert len(status.recipients) == 500 and status.status == {"sent"}
    assert [response.status_code for response in status.esp_response] == [200, 503]
    assert "after 1 of 3 calls had been accepted" in caplog.text
