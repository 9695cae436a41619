"""The message API (anymail.message): AnymailMessage, the mixin, status, inline images."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta, timezone
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import django
import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.utils import timezone as dj_timezone

from anymail.message import (
    ANYMAIL_MESSAGE_ATTRIBUTES,
    AnymailMessage,
    AnymailMessageMixin,
    AnymailRecipientStatus,
    AnymailStatus,
    attach_inline_image,
    attach_inline_image_file,
)
from anymail.utils import Attachment

from .utils import PNG, use_anymail_test_backend

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
GIF = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 20
NEW_YORK = ZoneInfo("America/New_York")


def every_attribute() -> dict[str, Any]:
    """A value for every Anymail attribute (fresh each call: a send may not share them)."""
    return {
        "envelope_sender": "bounces@example.com",
        "metadata": {"user_id": "42"},
        "merge_metadata": {"to@example.com": {"order": "1"}},
        "merge_headers": {"to@example.com": {"X-Order": "1"}},
        "tags": ["welcome"],
        "track_clicks": True,
        "track_opens": False,
        "send_at": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        "template_id": "welcome-template",
        "merge_data": {"to@example.com": {"name": "Ana"}},
        "merge_global_data": {"site": "Example"},
        "esp_extra": {"custom": {"nested": 1}},
    }


@pytest.fixture(autouse=True)
def test_backend_without_anymail_settings(settings: Any) -> None:
    use_anymail_test_backend(settings)
    settings.ANYMAIL = {}


# --- AnymailMessage ---------------------------------------------------------------


def test_every_anymail_attribute_is_in_the_sample_values() -> None:
    assert set(every_attribute()) == set(ANYMAIL_MESSAGE_ATTRIBUTES)


def test_anymail_message_constructor_takes_every_anymail_attribute() -> None:
    message = AnymailMessage(
        subject="Subject", body="Body", to=["to@example.com"], **every_attribute()
    )
    assert isinstance(message, EmailMultiAlternatives)
    for name, value in every_attribute().items():
        assert getattr(message, name) == value, name
    assert message.subject == "Subject"
    assert message.to == ["to@example.com"]


def test_anymail_message_starts_with_an_empty_status() -> None:
    status = AnymailMessage(to=["to@example.com"]).anymail_status
    assert isinstance(status, AnymailStatus)
    assert status.status is None
    assert status.message_id is None
    assert status.recipients == {}
    assert status.esp_response is None


def test_unset_attributes_stay_unset_so_defaults_apply() -> None:
    message = AnymailMessage(to=["to@example.com"])
    assert not hasattr(message, "tags")
    assert not hasattr(message, "metadata")


def test_plain_email_message_has_no_status_until_sent() -> None:
    message = EmailMessage(to=["to@example.com"])
    assert not hasattr(message, "anymail_status")
    message.send()
    assert message.anymail_status.status == {"sent"}


def test_mixin_with_another_email_message_class() -> None:
    class TemplatedMessage(EmailMessage):
        def __init__(self, template_name: str | None = None, **kwargs: Any) -> None:
            self.template_name = template_name
            super().__init__(**kwargs)

    class TemplatedAnymailMessage(AnymailMessageMixin, TemplatedMessage):
        pass

    message = TemplatedAnymailMessage(
        template_name="order_confirmation.tpl", track_opens=True, to=["to@example.com"]
    )
    message.tags = ["templated"]
    assert message.template_name == "order_confirmation.tpl"
    assert message.track_opens is True
    assert message.anymail_status.status is None
    assert message.send() == 1
    assert message.anymail_send_params["track_opens"] is True
    assert message.anymail_send_params["tags"] == ["templated"]
    cid = message.attach_inline_image(PNG)
    assert cid.endswith("@inline")


# --- every attribute works on any EmailMessage --------------------------------------


def test_every_attribute_on_a_plain_django_email_message() -> None:
    message = EmailMessage(
        subject="Subject", body="Body", from_email="From <from@example.com>", to=["to@example.com"]
    )
    for name, value in every_attribute().items():
        setattr(message, name, value)
    assert message.send() == 1
    assert message.anymail_send_params == {
        "from_email": "From <from@example.com>",
        "to": ["to@example.com"],
        "subject": "Subject",
        "text_body": "Body",
        **every_attribute(),
    }


def _sent_send_at(value: Any) -> datetime:
    message = EmailMessage(to=["to@example.com"])
    message.send_at = value
    message.send()
    result = message.anymail_send_params["send_at"]
    assert isinstance(result, datetime)
    return result


def test_send_at_aware_datetime_is_kept() -> None:
    aware = datetime(2030, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    sent = _sent_send_at(aware)
    assert sent == aware
    assert sent.utcoffset() == timedelta(hours=2)


def test_send_at_naive_datetime_is_in_the_current_timezone() -> None:
    # settings.TIME_ZONE is America/New_York; the *current* timezone is what counts.
    with dj_timezone.override(ZoneInfo("Asia/Tokyo")):
        sent = _sent_send_at(datetime(2030, 5, 6, 9, 0, 0))
    assert sent == datetime(2030, 5, 6, 0, 0, 0, tzinfo=UTC)
    sent = _sent_send_at(datetime(2030, 1, 6, 9, 0, 0))  # EST, UTC-5
    assert sent == datetime(2030, 1, 6, 14, 0, 0, tzinfo=UTC)


def test_send_at_date_is_midnight_in_the_current_timezone() -> None:
    sent = _sent_send_at(date(2030, 7, 4))  # EDT, UTC-4
    assert sent == datetime(2030, 7, 4, 0, 0, tzinfo=NEW_YORK)
    assert sent == datetime(2030, 7, 4, 4, 0, tzinfo=UTC)


def test_send_at_int_and_float_are_posix_timestamps() -> None:
    assert _sent_send_at(1900000000) == datetime(2030, 3, 17, 17, 46, 40, tzinfo=UTC)
    sent = _sent_send_at(1900000000.5)
    assert sent == datetime(2030, 3, 17, 17, 46, 40, 500000, tzinfo=UTC)
    assert sent.utcoffset() == timedelta(0)


def test_send_at_of_another_type_is_a_clear_error() -> None:
    message = EmailMessage(to=["to@example.com"])
    message.send_at = [2030, 1, 1]
    with pytest.raises(TypeError, match="send_at must be a datetime, date, or int/float"):
        message.send()


# --- AnymailStatus -------------------------------------------------------------------


def test_status_single_message_id_shared_by_recipients() -> None:
    status = AnymailStatus()
    status.set_recipient_status(
        {
            "a@example.com": AnymailRecipientStatus("id-1", "sent"),
            "b@example.com": AnymailRecipientStatus("id-1", "queued"),
        }
    )
    assert status.status == {"sent", "queued"}
    assert status.message_id == "id-1"
    assert status.recipients["b@example.com"].status == "queued"


def test_status_message_id_is_a_set_when_recipients_differ() -> None:
    status = AnymailStatus()
    status.set_recipient_status(
        {
            "a@example.com": AnymailRecipientStatus("id-1", "sent"),
            "b@example.com": AnymailRecipientStatus("id-2", "sent"),
            "c@example.com": AnymailRecipientStatus(None, "rejected"),
        }
    )
    assert status.message_id == {"id-1", "id-2"}
    assert status.status == {"sent", "rejected"}
    assert status.status.issubset({"queued", "sent"}) is False


def test_status_without_ids() -> None:
    status = AnymailStatus()
    status.set_recipient_status({"a@example.com": AnymailRecipientStatus(None, "invalid")})
    assert status.message_id is None
    assert status.status == {"invalid"}


def test_recipient_status_rejects_unknown_status() -> None:
    with pytest.raises(ValueError) as excinfo:
        AnymailRecipientStatus("id", "delivered")
    assert str(excinfo.value) == (
        "Invalid AnymailRecipientStatus status 'delivered': must be one of "
        "['failed', 'invalid', 'queued', 'rejected', 'sent', 'unknown']."
    )


def test_recipient_status_equality_and_repr() -> None:
    assert AnymailRecipientStatus("id", "sent") == AnymailRecipientStatus("id", "sent")
    assert AnymailRecipientStatus("id", "sent") != AnymailRecipientStatus("id", "queued")
    assert repr(AnymailRecipientStatus("id", "sent")) == (
        "AnymailRecipientStatus(message_id='id', status='sent')"
    )


# --- inline images ------------------------------------------------------------------


def _last_part(message: EmailMessage) -> Message:
    part = message.attachments[-1]
    assert isinstance(part, Message)
    return part


def test_attach_inline_image_defaults() -> None:
    message = EmailMultiAlternatives(to=["to@example.com"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecated MIMEBase use on Django 6
        cid = attach_inline_image(message, PNG, "logo.png")
    assert cid.endswith(".img@inline")
    assert "<" not in cid and ">" not in cid
    part = _last_part(message)
    assert part["Content-ID"] == f"<{cid}>"
    assert part.get_content_disposition() == "inline"
    assert part.get_filename() == "logo.png"
    assert part.get_content_type() == "image/png"
    assert part.get_payload(decode=True) == PNG


def test_attach_inline_image_uses_the_django_version_attachment_type() -> None:
    message = EmailMultiAlternatives(to=["to@example.com"])
    attach_inline_image(message, PNG)
    part = _last_part(message)
    if django.VERSION >= (6, 0):
        from email.message import MIMEPart
        from email.mime.base import MIMEBase

        assert isinstance(part, MIMEPart) and not isinstance(part, MIMEBase)
    else:
        from email.mime.image import MIMEImage

        assert isinstance(part, MIMEImage)
    assert part.get_filename() is None
    assert part.get_content_disposition() == "inline"


def test_inline_image_renders_in_the_django_message() -> None:
    message = EmailMultiAlternatives(to=["to@example.com"], body="text")
    cid = attach_inline_image(message, PNG, "logo.png")
    message.attach_alternative(f'<img src="cid:{cid}">', "text/html")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rendered = message.message().as_bytes()
    assert f"Content-ID: <{cid}>".encode() in rendered


def test_attach_inline_image_idstring_domain_and_subtype() -> None:
    message = EmailMultiAlternatives(to=["to@example.com"])
    cid = attach_inline_image(message, b"not-really-an-image", None, "gif", "logo", "example.com")
    assert cid.endswith(".logo@example.com")
    assert _last_part(message).get_content_type() == "image/gif"


@pytest.mark.parametrize(
    ("content", "filename", "mimetype"),
    [
        (PNG, None, "image/png"),
        (JPEG, None, "image/jpeg"),
        (GIF, None, "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", None, "image/webp"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', None, "image/svg+xml"),
        (b"\x00\x01unknown", "photo.jpg", "image/jpeg"),
    ],
)
def test_image_type_detection(content: bytes, filename: str | None, mimetype: str) -> None:
    message = EmailMultiAlternatives(to=["to@example.com"])
    attach_inline_image(message, content, filename)
    assert _last_part(message).get_content_type() == mimetype


def test_unknown_image_type_asks_for_subtype() -> None:
    message = EmailMultiAlternatives(to=["to@example.com"])
    with pytest.raises(ValueError) as excinfo:
        attach_inline_image(message, b"\x00\x01unknown", "notes.txt")
    assert str(excinfo.value) == (
        "Could not tell the image type of the inline image content; "
        "pass subtype='png' (or 'jpeg', 'gif' ...) to attach_inline_image."
    )


def test_attach_inline_image_file(tmp_path: Path) -> None:
    path = tmp_path / "picture.jpg"
    path.write_bytes(JPEG)
    message = AnymailMessage(to=["to@example.com"])
    cid = message.attach_inline_image_file(path)
    assert cid.endswith(".img@inline")
    part = _last_part(message)
    assert part.get_filename() == "picture.jpg"
    assert part.get_content_type() == "image/jpeg"
    cid2 = attach_inline_image_file(message, str(path), "png", "pic", "example.org")
    assert cid2.endswith(".pic@example.org")
    assert cid2 != cid
    assert _last_part(message).get_content_type() == "image/png"


def test_inline_image_reaches_the_backend_as_inline_attachment() -> None:
    message = AnymailMessage(to=["to@example.com"], body="Body")
    cid = message.attach_inline_image(PNG, "logo.png")
    message.attach("notes.txt", "hello", "text/plain")
    message.send()
    inline, regular = message.anymail_send_params["attachments"]
    assert isinstance(inline, Attachment)
    assert (inline.name, inline.mimetype, inline.content) == ("logo.png", "image/png", PNG)
    assert (inline.inline, inline.content_id, inline.cid) == (True, cid, f"cid:{cid}")
    assert (regular.name, regular.content_type, regular.content) == (
        "notes.txt",
        "text/plain; charset=utf-8",
        b"hello",
    )
    assert (regular.inline, regular.content_id) == (False, None)


def test_outbox_holds_the_sent_message() -> None:
    message = AnymailMessage(to=["to@example.com"])
    message.send()
    assert mail.outbox == [message]
