"""Messages as JSON (anymail.serialization): a message rebuilt from its JSON sends the
exact same ESP request as the original, for every HTTP backend (a property test),
and what can't travel fails when the message is queued, naming it."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from email.message import MIMEPart
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from typing import Any

import django
import pytest
import responses
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anymail.exceptions import AnymailError, AnymailSerializationError
from anymail.message import AnymailMessage
from anymail.serialization import message_from_json, message_to_json
from tests.contract.registry import CASES
from tests.contract.support import Esp
from tests.utils import PNG, make_message

HTTP_CASES = [case for case in CASES if case.uses_requests and case.answer is not None]


def round_trip(message: EmailMessage) -> EmailMessage:
    """The message the worker rebuilds (after the task backend stored the JSON as text)."""
    return message_from_json(json.loads(json.dumps(message_to_json(message))))


# --- the property: the same ESP request ---------------------------------------------------

ADDRESSES = [
    "to@example.com",
    "Recipient Name <to2@example.com>",
    '"Last, First" <to3@example.com>',
    "Jöhn Dœ <john@example.com>",
    "cc@example.com",
]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
PLAIN = st.text("abcXYZ019 _-", min_size=1, max_size=8)


def mime_attachment(kind: str, filename: str, content: bytes) -> Any:
    if kind == "mimepart" and django.VERSION >= (6, 0):
        part = MIMEPart()
        part.set_content(content, maintype="application", subtype="pdf", filename=filename)
        return part
    part = MIMEApplication(content, "pdf")
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def inline_image() -> Any:
    # (attach_inline_image() would make a random Content-ID: hypothesis wants none.)
    if django.VERSION >= (6, 0):
        part = MIMEPart()
        part.set_content(PNG, maintype="image", subtype="png", disposition="inline", cid="<a@b>")
        return part
    image = MIMEImage(PNG, "png")
    image.add_header("Content-Disposition", "inline", filename="logo.png")
    image.add_header("Content-ID", "<a@b>")
    return image


@st.composite
def messages(draw: st.DrawFn) -> EmailMessage:
    multi = draw(st.booleans())
    cls = AnymailMessage if multi else EmailMessage
    message = cls(
        subject=draw(st.one_of(TEXT, st.just(gettext_lazy("Password reset")))),
        body=draw(TEXT),
        from_email=draw(st.sampled_from(["from@example.com", "Frôm Sender <from@example.com>"])),
        to=draw(st.lists(st.sampled_from(ADDRESSES[:4]), min_size=1, max_size=3, unique=True)),
        cc=draw(st.lists(st.sampled_from(ADDRESSES[4:]), max_size=1)),
        bcc=draw(st.lists(st.just("bcc@example.com"), max_size=1)),
        reply_to=draw(st.lists(st.just("Reply <reply@example.com>"), max_size=1)),
        headers=draw(st.dictionaries(st.sampled_from(["X-Custom", "X-Other"]), PLAIN, max_size=2)),
    )
    if draw(st.booleans()):
        message.content_subtype = "html"
    if multi and draw(st.booleans()):
        message.attach_alternative(draw(TEXT) or "<p>hi</p>", "text/html")
    for kind in draw(st.lists(st.sampled_from(["bytes", "text", "inline", "mime", "mimepart"]))):
        filename = draw(st.sampled_from(["report.pdf", "naïve résumé.pdf", "数据.pdf"]))
        if kind == "bytes":
            message.attach(filename, draw(st.binary(min_size=1, max_size=20)), "application/pdf")
        elif kind == "text":
            message.attach("notes.txt", draw(TEXT) or "x", "text/plain")
        elif kind == "inline":
            message.attachments.append(inline_image())
        else:
            message.attachments.append(mime_attachment(kind, filename, b"%PDF-1.4"))
    if draw(st.booleans()):
        message.metadata = draw(st.dictionaries(PLAIN, st.one_of(PLAIN, st.integers()), max_size=2))
    if draw(st.booleans()):
        message.tags = draw(st.lists(PLAIN, max_size=2))
    if draw(st.booleans()):
        message.track_clicks = draw(st.booleans())
    if draw(st.booleans()):
        message.track_opens = draw(st.one_of(st.booleans(), st.none()))
    if draw(st.booleans()):
        message.send_at = draw(
            st.sampled_from(
                [
                    datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC),
                    datetime(2030, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=-5))),
                    datetime(2030, 5, 6, 7, 8, 9),  # naive: the current time zone
                    date(2030, 5, 6),
                    1904000000,
                ]
            )
        )
    if draw(st.booleans()):
        message.template_id = draw(st.sampled_from(["welcome", 1234]))
        message.merge_global_data = {"name": draw(PLAIN)}
    if draw(st.booleans()):
        message.merge_data = {"to@example.com": {"name": draw(PLAIN)}}
    if draw(st.booleans()):
        message.merge_metadata = {"to@example.com": {"order": draw(PLAIN)}}
    if draw(st.booleans()):
        message.envelope_sender = "bounces@example.com"
    if draw(st.booleans()):
        message.esp_extra = draw(st.sampled_from([{}, None, {"custom_extra": "value"}]))
    return message


def sent_requests(case: Any, message: EmailMessage) -> tuple[list[Any], str | None]:
    """Every request the ESP got for ``message`` (boundaries made constant), and any error."""
    options = dict(case.options)
    if case.id == "sendgrid":
        options["generate_message_id"] = False  # (a random uuid otherwise)
    backend = import_string(case.backend)(ignore_unsupported_features=True, **options)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        Esp(case, mocked).mock_success()
        error = None
        try:
            backend.send_messages([message])
        except (AnymailError, ValueError, TypeError) as err:
            error = f"{type(err).__name__}: {err}"
        calls = []
        for call in mocked.calls:
            request = call.request
            body = request.body or b""
            if isinstance(body, str):
                body = body.encode()
            headers = dict(request.headers)
            boundary = re.search(r"boundary=([^;\s]+)", headers.get("Content-Type", ""))
            if boundary:
                body = body.replace(boundary.group(1).encode(), b"BOUNDARY")
                headers["Content-Type"] = headers["Content-Type"].replace(
                    boundary.group(1), "BOUNDARY"
                )
            calls.append((request.method, request.url, headers, body))
    return calls, error


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailWarning")
@pytest.mark.parametrize("case", HTTP_CASES, ids=[case.id for case in HTTP_CASES])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages())
def test_rebuilt_message_sends_the_same_request(case: Any, message: EmailMessage) -> None:
    with translation.override("en"):
        rebuilt = round_trip(message)
        assert type(rebuilt) is (
            AnymailMessage if isinstance(message, EmailMultiAlternatives) else EmailMessage
        )
        original_requests, original_error = sent_requests(case, message)
        rebuilt_requests, rebuilt_error = sent_requests(case, rebuilt)
    assert rebuilt_error == original_error
    assert rebuilt_requests == original_requests


# --- details --------------------------------------------------------------------------------


def test_every_field_comes_back() -> None:
    message = make_message(
        body="<p>Body</p>",
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
        reply_to=["reply@example.com"],
        headers={"X-Number": 7, "Message-ID": "<id@example.com>"},
        alternatives=[("plain text", "text/plain")],
        metadata={"order": 12, "ratio": 0.5, "nested": {"list": [1, "two", None]}},
        merge_data={"to@example.com": {"name": "Ann"}},
        tags=("one", "two"),
        track_opens=None,  # None turns a send default off: it must stay set
        esp_extra={1: b"\x00\xff", "$anymail": "a key that looks like the tag"},
    )
    message.bcc = ("bcc@example.com",)
    message.content_subtype = "html"
    message.encoding = "iso-8859-1"
    message.attach("naïve.txt", "ünïcode", "text/plain")
    message.attach("data.bin", b"\x00\x01\x02", "application/octet-stream")
    rebuilt = round_trip(message)
    assert isinstance(rebuilt, AnymailMessage)
    for name in ("subject", "body", "from_email", "to", "cc", "reply_to", "extra_headers"):
        assert getattr(rebuilt, name) == getattr(message, name), name
    assert rebuilt.bcc == ("bcc@example.com",)  # a tuple stays a tuple
    assert rebuilt.content_subtype == "html" and rebuilt.encoding == "iso-8859-1"
    assert rebuilt.alternatives == [("plain text", "text/plain")]
    assert rebuilt.attachments == message.attachments
    assert rebuilt.metadata == message.metadata
    assert rebuilt.tags == ("one", "two")
    assert rebuilt.track_opens is None
    assert not hasattr(rebuilt, "track_clicks")  # never set: send defaults still apply
    assert rebuilt.esp_extra == {1: b"\x00\xff", "$anymail": "a key that looks like the tag"}


def test_mime_attachments_keep_type_name_and_content_id() -> None:
    message = AnymailMessage(to=["to@example.com"])
    cid = message.attach_inline_image(PNG, "logo.png")
    image = MIMEImage(PNG, "png")
    image.add_header("Content-Disposition", "attachment", filename="ĉàrt.png")
    message.attach(image) if django.VERSION < (6, 0) else message.attachments.append(image)
    first, second = round_trip(message).attachments
    # Django 5.2 attaches legacy MIMEBase parts, 6.x MIMEPart ones (as attach_inline_image).
    assert isinstance(first, MIMEPart if django.VERSION >= (6, 0) else MIMEBase)
    assert first["Content-ID"] == f"<{cid}>"
    assert first.get_content_disposition() == "inline"
    assert first.get_payload(decode=True) == PNG
    assert second.get_filename() == "ĉàrt.png"
    assert second.get_content_type() == "image/png"
    assert second.get_payload(decode=True) == PNG


def test_lazy_strings_are_resolved_when_queued() -> None:
    message = EmailMessage(subject=gettext_lazy("Password reset"), to=["to@example.com"])
    message.metadata = {"label": gettext_lazy("Password reset")}  # type: ignore[attr-defined]
    data = json.loads(json.dumps(message_to_json(message)))
    assert data["fields"]["subject"] == "Password reset"
    assert message_from_json(data).metadata == {"label": "Password reset"}  # type: ignore[attr-defined]


def test_naive_send_at_is_fixed_in_the_queuing_time_zone(settings: Any) -> None:
    from django.utils import timezone as django_timezone

    message = AnymailMessage(to=["to@example.com"], send_at=datetime(2030, 1, 2, 9, 0))
    with django_timezone.override("Europe/Paris"):
        data = message_to_json(message)
    with django_timezone.override("America/Los_Angeles"):
        rebuilt = message_from_json(data)
    assert rebuilt.send_at == datetime(2030, 1, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("metadata", {"total": Decimal("9.99")}, "Decimal in metadata['total']"),
        ("merge_data", {"a@b.com": {"d": object()}}, "object in merge_data['a@b.com']['d']"),
        ("tags", ["ok", {1.5}], "set in tags[1]"),
        ("esp_extra", {"x": float("nan")}, "float nan in esp_extra['x']"),
        ("to", ["ok@example.com", 3j], "complex in to[1]"),
    ],
)
def test_unserializable_values_fail_when_queued(field: str, value: Any, named: str) -> None:
    message = AnymailMessage(to=["to@example.com"])
    setattr(message, field, value)
    with pytest.raises(AnymailSerializationError) as info:
        message_to_json(message)
    assert str(info.value) == (
        f"Can't queue this message: the {named} can't travel as JSON to the task worker. "
        "Convert it to a str (or int/float) before sending."
    )


def test_another_format_is_refused() -> None:
    data = {**message_to_json(EmailMessage(to=["to@example.com"])), "format": 2}
    with pytest.raises(ValueError, match="Queued message format 2 is not 1"):
        message_from_json(data)
