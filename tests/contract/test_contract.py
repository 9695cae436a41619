"""The behaviours every Anymail backend shares, run against every registered backend.

See ``registry.py`` for how a backend joins the suite.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from email.mime.image import MIMEImage
from http import HTTPStatus
from typing import Any

import pytest
import requests
import responses
from django.utils.module_loading import import_string

from anymail.backends._coalesce import CoalescingBackend
from anymail.backends.base import Capabilities
from anymail.exceptions import (
    AnymailAPIError,
    AnymailCancelSend,
    AnymailInvalidAddress,
    AnymailInvalidHeader,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
    AnymailSerializationError,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailMessage
from anymail.signals import post_send, pre_send

from ..utils import PNG
from .support import Esp, make_message

Example = Callable[[AnymailMessage, Capabilities], None]


def _tags(capabilities: Capabilities) -> list[str]:
    return [f"tag{i}" for i in range((capabilities.max_tags or 0) + 1)]


# How to make a message use each capability (for the "unsupported" checks).
FEATURE_EXAMPLES: dict[str, Example] = {
    "envelope_sender": lambda m, c: setattr(m, "envelope_sender", "bounces@example.com"),
    "metadata": lambda m, c: setattr(m, "metadata", {"order": "1234"}),
    "merge_metadata": lambda m, c: setattr(m, "merge_metadata", {"to@example.com": {"a": "1"}}),
    "merge_headers": lambda m, c: setattr(m, "merge_headers", {"to@example.com": {"X-A": "1"}}),
    "tags": lambda m, c: setattr(m, "tags", ["tag"]),
    "track_clicks": lambda m, c: setattr(m, "track_clicks", True),
    "track_opens": lambda m, c: setattr(m, "track_opens", True),
    "send_at": lambda m, c: setattr(m, "send_at", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)),
    "template_id": lambda m, c: setattr(m, "template_id", "welcome-template"),
    "merge_data": lambda m, c: setattr(m, "merge_data", {"to@example.com": {"name": "A"}}),
    "merge_global_data": lambda m, c: setattr(m, "merge_global_data", {"site": "Example"}),
    "cc": lambda m, c: setattr(m, "cc", ["cc@example.com"]),
    "bcc": lambda m, c: setattr(m, "bcc", ["bcc@example.com"]),
    "reply_to": lambda m, c: setattr(m, "reply_to", ["reply@example.com"]),
    "extra_headers": lambda m, c: m.extra_headers.update({"X-Custom": "value"}),
    "attachments": lambda m, c: m.attach("file.txt", "contents", "text/plain"),
    "inline_images": lambda m, c: m.attach_inline_image(PNG, "logo.png"),
    "multiple_html": lambda m, c: (
        m.attach_alternative("<p>one</p>", "text/html"),
        m.attach_alternative("<p>two</p>", "text/html"),
    ),
    "multiple_from": lambda m, c: setattr(m, "from_email", "a@example.com, b@example.com"),
    "spoofed_to": lambda m, c: m.extra_headers.update({"To": "shown@example.com"}),
    "eai_from": lambda m, c: setattr(m, "from_email", "jörg@example.com"),
    "eai_recipients": lambda m, c: setattr(m, "to", ["jörg@example.com"]),
    "max_tags": lambda m, c: setattr(m, "tags", _tags(c)),
}


#: How the "<ESP> does not support ..." error names a feature, where not by its name.
FEATURE_PHRASES: dict[str, str] = {
    "inline_images": "inline images",
    "multiple_html": "multiple html parts",
    "multiple_from": "multiple from addresses",
    "spoofed_to": "a To header that differs from the message's to list",
    "eai_from": "non-ASCII mailbox 'jörg@example.com' in from_email (EAI)",
    "eai_recipients": "non-ASCII mailbox 'jörg@example.com' in to (EAI)",
}

#: Other ways to use an unsupported feature: (the feature, how the error names it, the
#: example). Batch features are asked for even when empty; a False tracking option is
#: still an option the ESP can't honour.
VARIANT_EXAMPLES: dict[str, tuple[str, str, Example]] = {
    "merge_data (empty)": ("merge_data", "merge_data", lambda m, c: setattr(m, "merge_data", {})),
    "merge_headers (empty)": (
        "merge_headers",
        "merge_headers",
        lambda m, c: setattr(m, "merge_headers", {}),
    ),
    "track_clicks (False)": (
        "track_clicks",
        "track_clicks",
        lambda m, c: setattr(m, "track_clicks", False),
    ),
    "track_opens (False)": (
        "track_opens",
        "track_opens",
        lambda m, c: setattr(m, "track_opens", False),
    ),
    "eai_recipients (cc)": (
        "eai_recipients",
        "non-ASCII mailbox 'zoë@example.com' in cc (EAI)",
        lambda m, c: setattr(m, "cc", ["zoë@example.com"]),
    ),
    "spoofed_to (Cc header)": (
        "spoofed_to",
        "a Cc header that differs from the message's cc list",
        lambda m, c: m.extra_headers.update({"Cc": "shown@example.com"}),
    ),
    # Django's convention: with a From header, from_email is the envelope sender.
    "envelope_sender (From header)": (
        "envelope_sender",
        "envelope_sender (with a From header, Django's convention makes from_email the "
        "envelope sender",
        lambda m, c: m.extra_headers.update({"From": "Shown <shown@example.com>"}),
    ),
    # (It can trip envelope_sender first: only "<ESP> does not support" is checked.)
    "multiple_from (From header)": (
        "multiple_from",
        "",
        lambda m, c: m.extra_headers.update({"From": "a@example.com, b@example.com"}),
    ),
}


def unsupported_features(
    capabilities: Capabilities, template: Capabilities | None = None
) -> list[tuple[str, str, Example]]:
    """(example name, how the error names the feature, the example) for each feature
    the ESP doesn't support (``template``: its declaration for template sends)."""
    features = [
        (name, FEATURE_PHRASES.get(name, name), example)
        for name, example in FEATURE_EXAMPLES.items()
        if name != "max_tags" and getattr(capabilities, name) is False
    ]
    features += [
        (name, phrase, example)
        for name, (feature, phrase, example) in VARIANT_EXAMPLES.items()
        if getattr(capabilities, feature) is False
        # A batch feature only a template send takes still asks, when empty, for a
        # batch without per-recipient data, which such an ESP may send (its own tests).
        and not (name.endswith("(empty)") and template and getattr(template, feature))
    ]
    max_tags = capabilities.max_tags
    if max_tags is not None and capabilities.tags:
        phrase = "multiple tags" if max_tags == 1 else f"more than {max_tags} tags"
        features.append(("max_tags", phrase, FEATURE_EXAMPLES["max_tags"]))
    return features


def test_simple_send(esp: Esp) -> None:
    esp.mock_success()
    message = make_message()
    assert esp.connection().send_messages([message]) == 1
    status = message.anymail_status
    assert set(status.recipients) == {"to@example.com"}
    assert status.status and status.status <= {"sent", "queued", "unknown"}
    assert status.esp_response is not None
    if esp.case.uses_requests:
        assert esp.request_count == 1


def test_invalid_address_raises_before_calling_esp(esp: Esp) -> None:
    esp.mock_success()
    message = make_message(to=["Widgets, Inc. <widgets@example.com>"])
    with pytest.raises(AnymailInvalidAddress, match="double quotes"):
        esp.connection().send_messages([message])
    assert esp.request_count == 0


def test_unsupported_features_raise_and_can_be_ignored(esp: Esp) -> None:
    esp.mock_success()
    capabilities = esp.capabilities
    for feature, phrase, example in unsupported_features(capabilities, esp.template_capabilities):
        calls_before = esp.request_count
        message = make_message()
        example(message, capabilities)
        with pytest.raises(AnymailUnsupportedFeature) as excinfo:
            esp.connection().send_messages([message])
        text = str(excinfo.value)
        assert text.startswith(f"{esp.case.esp_name} does not support {phrase}"), feature
        assert "set ANYMAIL IGNORE_UNSUPPORTED_FEATURES" in text
        assert esp.request_count == calls_before, feature

        message = make_message()
        example(message, capabilities)
        sent = esp.connection(ignore_unsupported_features=True).send_messages([message])
        assert sent == 1, feature


# (Generic merge data trips ESP-specific advice, e.g. SendGrid's merge field format.)
@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning")
def test_every_supported_feature_reaches_the_esp(esp: Esp) -> None:
    # Each feature the backend declares supported must be implemented (a missing
    # hook raises AnymailError). ESP quirks about combinations are ignored here.
    esp.mock_success()
    capabilities = esp.capabilities
    supported = [
        name
        for name in FEATURE_EXAMPLES
        if name != "max_tags"
        and getattr(capabilities, name)
        and name not in esp.case.features_not_mocked
    ]
    for feature in supported:
        message = make_message()
        FEATURE_EXAMPLES[feature](message, capabilities)
        if feature == "template_id":
            message.template_id = "12345"  # numeric: some ESPs require it
        sent = esp.connection(ignore_unsupported_features=True).send_messages([message])
        assert sent == 1, feature


def test_api_error_is_anymail_api_error(esp: Esp) -> None:
    if esp.case.error is None:
        pytest.skip("backend has no API errors")
    status_code, error_text = esp.mock_error()
    message = make_message()
    with pytest.raises(AnymailAPIError) as excinfo:
        esp.connection().send_messages([message])
    assert excinfo.value.status_code == status_code
    assert error_text in str(excinfo.value)
    assert message.anymail_status.status is None
    assert message.anymail_status.recipients == {}


def test_more_http_errors(esp: Esp) -> None:
    if not esp.case.http_errors:
        pytest.skip("no more error answers")
    for status, body, quoted in esp.case.http_errors:
        esp.mock_answer(status, body)
        with pytest.raises(AnymailRequestsAPIError) as excinfo:
            esp.connection().send_messages([make_message()])
        assert excinfo.value.status_code == status
        assert f"{esp.case.esp_name} API error: HTTP {status}" in str(excinfo.value)
        assert quoted in str(excinfo.value)


def test_api_error_with_fail_silently(esp: Esp) -> None:
    if esp.case.error is None:
        pytest.skip("backend has no API errors")
    esp.mock_error()
    message = make_message()
    assert esp.connection(fail_silently=True).send_messages([message]) == 0
    assert message.anymail_status.status is None


@pytest.mark.parametrize(
    "error",
    [
        requests.Timeout("read timed out"),
        requests.ConnectTimeout("timed out"),
        requests.ConnectionError("connection refused"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_transport_failure_is_anymail_api_error(esp: Esp, error: Exception) -> None:
    if not esp.case.uses_requests:
        pytest.skip("backend does not use requests")
    esp.mock.add(responses.POST, re.compile(".*"), body=error)
    message = make_message()
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        esp.connection().send_messages([message])
    err = excinfo.value
    text = str(err)
    what = "Timed out calling" if isinstance(error, requests.Timeout) else "Could not reach"
    assert text.startswith(f"{what} the {esp.case.esp_name} API: {type(error).__name__}: {error}")
    assert isinstance(err, type(error))  # still what code catching requests' errors expects
    assert err.status_code is None
    assert err.__cause__ is None  # requests' error (which can quote the request) isn't kept
    assert message.anymail_status.status is None
    for credential in esp.case.credentials:
        assert str(esp.case.options[credential.option]) not in text


def test_all_recipients_refused(esp: Esp) -> None:
    if esp.case.rejected is None:
        pytest.skip("ESP does not refuse recipients at send time")
    esp.answer(esp.case.rejected)
    with pytest.raises(AnymailRecipientsRefused):
        esp.connection().send_messages([make_message()])
    message = make_message()
    assert esp.connection(ignore_recipient_status=True).send_messages([message]) == 1
    assert message.anymail_status.status <= {"rejected", "invalid"}


def test_pre_send_cancel_sends_nothing(esp: Esp) -> None:
    esp.mock_success()

    def cancel(sender: Any, message: Any, esp_name: str, **kwargs: Any) -> None:
        assert esp_name == esp.case.esp_name
        raise AnymailCancelSend("cancelled")

    pre_send.connect(cancel)
    try:
        assert esp.connection().send_messages([make_message()]) == 0
    finally:
        pre_send.disconnect(cancel)
    assert esp.request_count == 0


def test_post_send_gets_status_and_every_receiver_runs(esp: Esp) -> None:
    esp.mock_success()
    seen: list[Any] = []

    def failing(sender: Any, message: Any, status: Any, esp_name: str, **kwargs: Any) -> None:
        seen.append(("failing", status))
        raise RuntimeError("receiver failed")

    def recording(sender: Any, message: Any, status: Any, esp_name: str, **kwargs: Any) -> None:
        seen.append(("recording", status))

    post_send.connect(failing)
    post_send.connect(recording)
    message = make_message()
    try:
        with pytest.raises(RuntimeError, match="receiver failed"):
            esp.connection().send_messages([message])
    finally:
        post_send.disconnect(failing)
        post_send.disconnect(recording)
    assert [name for name, _ in seen] == ["failing", "recording"]
    assert all(status is message.anymail_status for _, status in seen)


@pytest.mark.parametrize(
    "value", [Decimal("19.99"), datetime(2026, 1, 2, tzinfo=UTC)], ids=["Decimal", "datetime"]
)
def test_serialization_error_names_the_key(esp: Esp, value: Any) -> None:
    if not esp.capabilities.metadata:
        pytest.skip("ESP does not support metadata")
    esp.mock_success()
    message = make_message(metadata={"total": value})
    with pytest.raises(AnymailSerializationError) as excinfo:
        esp.connection().send_messages([message])
    # metadata['total'], or where the ESP's payload puts it: data['Metadata']['total']
    assert re.search(r"(?i)\bmetadata(?:'\])?\['total'\]", str(excinfo.value))
    assert type(value).__name__ in str(excinfo.value)
    assert esp.request_count == 0


def test_one_session_for_many_messages(esp: Esp, monkeypatch: pytest.MonkeyPatch) -> None:
    if not esp.case.uses_requests:
        pytest.skip("backend does not use requests")
    esp.mock_success()
    sessions: list[requests.Session] = []
    original_init = requests.Session.__init__

    def counting_init(self: requests.Session) -> None:
        original_init(self)
        sessions.append(self)

    monkeypatch.setattr(requests.Session, "__init__", counting_init)
    messages = [make_message(), make_message(), make_message()]
    assert esp.connection(send_concurrency=1, **separately(esp)).send_messages(messages) == 3
    assert len(sessions) == 1
    assert esp.request_count == 3


def separately(esp: Esp) -> dict[str, Any]:
    """Options for one ESP call per message (turning off coalescing where there is some)."""
    coalesces = issubclass(import_string(esp.case.backend), CoalescingBackend)
    return {"coalesce_sends": False} if coalesces else {}


def test_concurrent_send_looks_sequential(esp: Esp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to send_concurrency ESP calls in worker threads, each thread with its own
    session (or boto3 client); signals and statuses in the caller's thread, in order."""
    esp.mock_success()
    connection = esp.connection(send_concurrency=3, **separately(esp))
    backend_class = type(connection)
    calls: list[tuple[int, Any]] = []  # (thread id, the connection used)
    original_post = backend_class.post_to_esp

    def recording_post(self: Any, payload: Any, message: Any) -> Any:
        attr = self.concurrent_connection_attr
        calls.append((threading.get_ident(), getattr(self, attr) if attr else None))
        return original_post(self, payload, message)

    monkeypatch.setattr(backend_class, "post_to_esp", recording_post)
    events: list[tuple[str, int, int]] = []

    def on_pre_send(sender: Any, message: Any, **kwargs: Any) -> None:
        events.append(("pre_send", message.index, threading.get_ident()))

    def on_post_send(sender: Any, message: Any, status: Any, **kwargs: Any) -> None:
        events.append(("post_send", message.index, threading.get_ident()))

    messages = [make_message(subject=f"Concurrent message {index}") for index in range(6)]
    for index, message in enumerate(messages):
        message.index = index
    pre_send.connect(on_pre_send, weak=False)
    post_send.connect(on_post_send, weak=False)
    try:
        threads_before = set(threading.enumerate())
        assert connection.send_messages(messages) == 6
    finally:
        pre_send.disconnect(on_pre_send)
        post_send.disconnect(on_post_send)

    me = threading.get_ident()
    assert [e[1] for e in events if e[0] == "pre_send"] == list(range(6))
    assert [e[1] for e in events if e[0] == "post_send"] == list(range(6))
    assert {e[2] for e in events} == {me}
    # every message's status comes from its own answer
    assert all(m.anymail_status.status and m.anymail_status.esp_response for m in messages)
    assert esp.request_count == (6 if esp.case.id != "test" else 0)  # test: no requests
    worker_threads = {thread for thread, _ in calls}
    if connection.concurrent_connection_attr is None:  # the test backend: sequential
        assert worker_threads == {me}
        return
    assert me not in worker_threads and 1 <= len(worker_threads) <= 3
    # one connection per worker thread, none shared between threads
    connections_by_thread = {
        thread: {id(c) for t, c in calls if t == thread} for thread in worker_threads
    }
    assert all(len(ids) == 1 for ids in connections_by_thread.values())
    assert len(set.union(*connections_by_thread.values())) == len(worker_threads)
    assert not set(threading.enumerate()) - threads_before  # the worker threads are gone


def test_blank_recipient_is_an_invalid_address(esp: Esp) -> None:
    esp.mock_success()
    message = make_message(to=["to@example.com", "   "])
    with pytest.raises(AnymailInvalidAddress, match="blank"):
        esp.connection().send_messages([message])
    assert esp.request_count == 0


#: Every line end str.splitlines() knows (and email libraries may split a header on).
LINE_BREAKS = ("\r\n", "\r", "\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _inline_image_with_content_id(message: AnymailMessage, content_id: str) -> None:
    image = MIMEImage(PNG, "png")
    image["Content-ID"] = f"<{content_id}>"
    image["Content-Disposition"] = "inline"
    message.attachments.append(image)  # (attach() warns about email.mime parts on Django 6)


# How to put a value with a line break (``bad``) in each header-bound place.
HEADER_BOUND_VALUES: dict[str, Callable[[AnymailMessage, str], None]] = {
    "subject": lambda m, bad: setattr(m, "subject", f"Hello{bad}Bcc: victim@example.com"),
    "tag": lambda m, bad: setattr(m, "tags", [f"tag{bad}X-Injected: yes"]),
    "metadata key": lambda m, bad: setattr(m, "metadata", {f"key{bad}X-Injected": "1"}),
    "metadata value": lambda m, bad: setattr(m, "metadata", {"key": f"1{bad}X-Injected: yes"}),
    "template_id": lambda m, bad: setattr(m, "template_id", f"welcome{bad}X-Injected: yes"),
    "attachment filename": lambda m, bad: m.attach(f"file{bad}X-Injected.txt", "text"),
    "attachment mimetype": lambda m, bad: m.attach("file.txt", "text", f"text/plain{bad}X-I: y"),
    "Content-ID": lambda m, bad: _inline_image_with_content_id(m, f"logo{bad}X-I@example.com"),
    "extra header": lambda m, bad: m.extra_headers.update({"X-Note": f"a{bad}Bcc: v@example.com"}),
}


@pytest.mark.parametrize("place", HEADER_BOUND_VALUES)
def test_line_breaks_in_header_bound_values_are_refused(esp: Esp, place: str) -> None:
    # Refused before anything is sent, whatever the ESP supports (header injection).
    esp.mock_success()
    for ignore in (False, True):
        connection = esp.connection(ignore_unsupported_features=ignore)
        for line_break in LINE_BREAKS:
            message = make_message()
            HEADER_BOUND_VALUES[place](message, line_break)
            with pytest.raises(AnymailInvalidHeader, match="contains a line break"):
                connection.send_messages([message])
    assert esp.request_count == 0


def test_text_only_message(esp: Esp) -> None:
    esp.mock_success()
    message = make_message(html=None, body="Only a text body here")
    if esp.case.requires_html_body:
        with pytest.raises(AnymailUnsupportedFeature, match=esp.case.esp_name):
            esp.connection().send_messages([message])
        assert esp.request_count == 0
        return
    assert esp.connection().send_messages([message]) == 1
    assert "Only a text body here" in esp.sent_text()


def test_html_body_with_text_alternative_sends_both(esp: Esp) -> None:
    # The common Django pattern: an html main body, and a plain text alternative.
    esp.mock_success()
    message = make_message(html=None, body="<p>The html main body</p>")
    message.content_subtype = "html"
    message.attach_alternative("The plain text alternative", "text/plain")
    assert esp.connection().send_messages([message]) == 1
    sent = esp.sent_text()
    assert "<p>The html main body</p>" in sent
    assert "The plain text alternative" in sent


def test_main_body_of_another_subtype_is_never_sent_as_text(esp: Esp) -> None:
    esp.mock_success()
    message = make_message(body="BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n")
    message.content_subtype = "calendar"
    alternatives = esp.capabilities.alternatives
    if "text/calendar" in alternatives or "*" in alternatives:
        assert esp.connection().send_messages([message]) == 1
        assert "METHOD:REQUEST" in esp.sent_text()
        return
    with pytest.raises(AnymailUnsupportedFeature, match="content_subtype 'calendar'"):
        esp.connection().send_messages([message])
    assert esp.request_count == 0


def test_send_at_str(esp: Esp) -> None:
    capabilities = esp.capabilities
    if not capabilities.send_at:
        pytest.skip("ESP does not support send_at")
    esp.mock_success()
    message = make_message(send_at="2030-01-02T03:04:05+00:00")
    if capabilities.send_at_str:
        # The ESP's own formats (even "in 1 hour" for some) go through unchanged.
        assert esp.connection().send_messages([message]) == 1
        assert "2030-01-02T03:04:05+00:00" in esp.sent_text()
    else:
        with pytest.raises(TypeError, match="datetime, date, or int/float POSIX timestamp"):
            esp.connection().send_messages([message])
        assert esp.request_count == 0


def test_tag_limit_with_send_defaults(esp: Esp) -> None:
    capabilities = esp.capabilities
    max_tags = capabilities.max_tags
    if not capabilities.tags or max_tags is None:
        pytest.skip("ESP has no tag limit")
    esp.mock_success()
    defaults = [f"default-tag-{i}" for i in range(max_tags)]
    send_defaults = {"tags": defaults}
    with pytest.raises(AnymailUnsupportedFeature, match="from the send defaults") as excinfo:
        esp.connection(send_defaults=send_defaults).send_messages([make_message(tags=["own"])])
    assert all(repr(tag) in str(excinfo.value) for tag in defaults)
    assert esp.request_count == 0

    # Ignoring: the message's own tag is kept; a default's makes room for it.
    connection = esp.connection(send_defaults=send_defaults, ignore_unsupported_features=True)
    assert connection.send_messages([make_message(tags=["own-tag"])]) == 1
    sent = esp.sent_text()
    assert "own-tag" in sent
    assert defaults[-1] not in sent


def test_esp_response_is_kept_for_an_unreadable_success(esp: Esp) -> None:
    if not esp.case.uses_requests:
        pytest.skip("backend does not use requests")
    esp.mock.add(responses.POST, re.compile(".*"), body="<html>Not an API answer</html>")
    message = make_message()
    # (Most backends can't make sense of it and raise; some need nothing from the body.)
    with contextlib.suppress(AnymailAPIError):
        esp.connection().send_messages([message])
    assert message.anymail_status.esp_response is not None
    assert message.anymail_status.esp_response.status_code == 200


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (502, "<html><body>502 Bad Gateway</body></html>", {}),
        (503, "<html>Service Unavailable</html>", {}),
        (404, "Not Found", {}),
        # (A proxy in front of the ESP may rate-limit too: its headers stay reachable.)
        (429, "Too many requests", {"Retry-After": "30", "X-RateLimit-Remaining": "0"}),
    ],
)
def test_http_error_with_a_body_that_is_not_json(
    esp: Esp, status: int, body: str, headers: dict[str, str]
) -> None:
    if not esp.case.uses_requests:
        pytest.skip("backend does not use requests")
    content_type = "text/html" if body.startswith("<") else "text/plain"
    esp.mock.add(
        responses.POST,
        re.compile(".*"),
        status=status,
        body=body,
        content_type=content_type,
        headers=headers,
    )
    message = make_message()
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        esp.connection().send_messages([message])
    err, name = excinfo.value, esp.case.esp_name
    text = str(err)
    assert err.status_code == status
    assert text.startswith(f"{name} API error")
    assert f"HTTP {status} {HTTPStatus(status).phrase}" in text
    assert f"\n{name} API response {status}: {body}" in text
    assert err.response is not None
    assert {header: err.response.headers[header] for header in headers} == headers
    assert message.anymail_status.status is None
    assert message.anymail_status.recipients == {}
    for credential in esp.case.credentials:
        assert str(esp.case.options[credential.option]) not in text


@pytest.mark.parametrize("mimetype", ["text/x-amp-html", "text/calendar"])
def test_other_alternative_types_unless_supported(esp: Esp, mimetype: str) -> None:
    alternatives = esp.capabilities.alternatives
    if mimetype in alternatives or "*" in alternatives:
        pytest.skip(f"ESP supports {mimetype} alternatives")
    esp.mock_success()
    message = make_message()
    message.attach_alternative("<html ⚡4email>AMP</html>", mimetype)
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        esp.connection().send_messages([message])
    assert str(excinfo.value).startswith(
        f"{esp.case.esp_name} does not support alternative part with type '{mimetype}'"
    )
    assert esp.request_count == 0
    assert esp.connection(ignore_unsupported_features=True).send_messages([message]) == 1


def test_every_request_is_a_post_that_names_anymail_and_the_esp(esp: Esp) -> None:
    if not esp.case.uses_requests:
        pytest.skip("backend does not use requests")
    esp.mock_success()
    assert esp.connection().send_messages([make_message(), make_message(cc=["cc@example.com"])])
    for call in esp.mock.calls:
        request = call.request
        assert request.method == "POST"
        slug = esp.case.id.replace("_", "-")
        assert re.match(
            rf"django-anymail/\S+-{slug} python-requests/", request.headers["User-Agent"]
        )
        assert {name: request.headers[name] for name in esp.case.request_headers} == (
            esp.case.request_headers
        )
