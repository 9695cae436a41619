"""The send pipeline (anymail.backends.base): normalization, send defaults, headers,
declared capabilities, refused recipients, fail_silently, serialization, lazy strings.

Uses small in-test ESPs built on the test backend, so what the pipeline hands an
ESP's hooks is visible in ``message.anymail_send_params``.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from email.message import MIMEPart
from email.mime.image import MIMEImage
from typing import Any

import django
import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from anymail.addresses import EmailAddress
from anymail.backends.base import (
    FEATURE_ORDER,
    AnymailBaseBackend,
    BasePayload,
    Capabilities,
    RecipientStatuses,
)
from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.backends.test import TestPayload as RecordingPayloadBase
from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailImproperlyConfigured,
    AnymailInvalidAddress,
    AnymailInvalidHeader,
    AnymailRecipientsRefused,
    AnymailSerializationError,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailMessage, AnymailRecipientStatus
from anymail.utils import Attachment

from .backends.support import DISPLAY_NAMES_RECIPIENTS, display_names_message
from .utils import PNG, connected, make_message, requires_mailers

#: An ESP with typical limits: no envelope sender, one tag, one reply-to, no inline
#: images, no EAI (and Capabilities' defaults: no spoofed To, one HTML part ...).
LIMITED = Capabilities(
    envelope_sender=False,
    tags=True,
    max_tags=1,
    max_reply_to=1,
    inline_images=False,
    eai_recipients=False,
    eai_from=False,
)


def make_backend(capabilities: Capabilities | None = None, **kwargs: Any) -> AnymailTestBackend:
    """A test backend for the ESP "Tiny", whose payload declares ``capabilities``."""
    payload_class = type(
        "TinyPayload",
        (RecordingPayloadBase,),
        {"capabilities": capabilities or RecordingPayloadBase.capabilities},
    )
    backend_class = type(
        "TinyBackend", (AnymailTestBackend,), {"esp_name": "Tiny", "payload_class": payload_class}
    )
    return backend_class(**kwargs)


def send(message: EmailMessage, capabilities: Capabilities | None = None, **kwargs: Any) -> Any:
    """Send through a Tiny backend; return the normalized params the ESP got."""
    assert make_backend(capabilities, **kwargs).send_messages([message]) == 1
    return message.anymail_send_params


def payload_for(message: EmailMessage, **kwargs: Any) -> BasePayload:
    backend = make_backend(**kwargs)
    return backend.build_message_payload(message, backend.send_defaults)


@pytest.fixture(autouse=True)
def no_anymail_settings(settings: Any) -> Any:
    settings.ANYMAIL = {}
    return settings


def message(**kwargs: Any) -> AnymailMessage:
    """make_message(), with this module's short texts and a named sender."""
    defaults = {"subject": "Subject", "body": "Body", "from_email": "From <from@example.com>"}
    return make_message(**{**defaults, **kwargs})


# --- normalization ------------------------------------------------------------------


def test_normalized_send_params() -> None:
    msg = display_names_message(headers={"X-Custom": 42})
    msg.attach_alternative("<p>HTML</p>", "text/html")
    payload = payload_for(msg)
    # Display names as they are (unquoted, not encoded); domains in their ASCII form.
    muller = "Müller, Jörg"
    assert payload.send_params == {
        "from_email": [EmailAddress(muller, "from", "xn--bcher-kva.example")],
        "to": [
            EmailAddress(muller, "to", "example.com"),
            EmailAddress("Smith, Jo", "jo", "example.com"),
            EmailAddress("Zoë", "zoe", "xn--exmple-cua.com"),
        ],
        "cc": [EmailAddress("Ana (García)", "cc", "example.com")],
        "bcc": [EmailAddress("Zoë @ Shop", "bcc", "example.com")],
        "reply_to": [EmailAddress(muller, "reply", "example.com")],
        "subject": "Subject",
        "text_body": "Body",
        "html_body": "<p>HTML</p>",
        "extra_headers": {"X-Custom": "42"},
    }
    # In order: to, cc, bcc.
    assert [a.addr_spec for a in payload.all_recipients] == list(DISPLAY_NAMES_RECIPIENTS)
    assert payload.is_batch is False


def test_html_only_message() -> None:
    msg = EmailMessage(body="<p>Hi</p>", to=["to@example.com"])
    msg.content_subtype = "html"
    params = send(msg)
    assert params["html_body"] == "<p>Hi</p>"
    assert "text_body" not in params


def test_html_body_with_a_text_alternative_is_text_and_html() -> None:
    # The common Django pattern: html as the main body, plain text as an alternative.
    msg = message(body="<p>Hi</p>")
    msg.content_subtype = "html"
    msg.attach_alternative("Hi", "text/plain")
    msg.attach_alternative("Hi again", "text/plain")  # a second one is just an alternative
    params = send(msg)
    assert (params["text_body"], params["html_body"]) == ("Hi", "<p>Hi</p>")
    assert params["alternatives"] == [("Hi again", "text/plain")]
    # On an ESP with plain text and html bodies only, both bodies go out.
    msg.alternatives = msg.alternatives[:1]
    params = send(msg, Capabilities())
    assert (params["text_body"], params["html_body"]) == ("Hi", "<p>Hi</p>")
    assert "alternatives" not in params


ICS = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def test_main_body_of_another_subtype_is_not_sent_as_text() -> None:
    msg = message(body=ICS)
    msg.content_subtype = "calendar"
    with pytest.raises(
        AnymailUnsupportedFeature,
        match=r"^Tiny does not support a main body with content_subtype 'calendar'",
    ):
        send(msg, Capabilities())
    assert mail.outbox == []
    # Ignoring leaves it out: it is not sent as a text body either.
    params = send(msg, Capabilities(), ignore_unsupported_features=True)
    assert "text_body" not in params and "alternatives" not in params


def test_main_body_of_another_subtype_goes_as_a_part_where_the_esp_can() -> None:
    msg = message(body=ICS)
    msg.content_subtype = "calendar"
    msg.attach_alternative("<p>Invitation</p>", "text/html")
    calendar = Capabilities(alternatives=frozenset({"text/calendar"}))
    for capabilities in (calendar, RecordingPayloadBase.capabilities):  # (the test ESP: "*")
        params = send(msg, capabilities)
        assert params["alternatives"] == [(ICS, "text/calendar")]
        assert params["html_body"] == "<p>Invitation</p>"
        assert "text_body" not in params


def test_empty_values_are_not_sent_but_merge_data_always_counts() -> None:
    msg = message(body="", tags=[], metadata={}, merge_global_data={}, esp_extra={}, merge_data={})
    payload = payload_for(msg)
    assert payload.send_params == {
        "from_email": [EmailAddress("From", "from", "example.com")],
        "to": [EmailAddress("", "to", "example.com")],
        "subject": "Subject",
        "merge_data": {},
    }
    assert payload.is_batch is True


@pytest.mark.parametrize("attr", ["merge_data", "merge_metadata", "merge_headers"])
def test_each_merge_attribute_makes_a_batch_send(attr: str) -> None:
    assert payload_for(message(**{attr: {}})).is_batch is True


def test_hooks_are_called_once_per_feature_in_order() -> None:
    calls: list[str] = []

    class RecordingPayload(RecordingPayloadBase):
        def _record(self, name: str, value: Any) -> None:
            calls.append(name)
            super()._record(name, value)

        def add_alternative(self, content: str, mimetype: str) -> None:
            calls.append("alternatives")

        def add_attachment(self, attachment: Any) -> None:
            calls.append("attachments")

    backend = make_backend()
    backend.payload_class = RecordingPayload
    msg = message(
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
        reply_to=["r@example.com"],
        headers={"X-A": "1"},
        envelope_sender="b@example.com",
        metadata={"a": 1},
        merge_metadata={"to@example.com": {"a": 2}},
        merge_headers={"to@example.com": {"X-B": "2"}},
        tags=["t"],
        track_clicks=True,
        track_opens=True,
        send_at=1900000000,
        template_id="tpl",
        merge_data={"to@example.com": {}},
        merge_global_data={"g": 1},
        esp_extra={"x": 1},
    )
    msg.attach_alternative("<p>html</p>", "text/html")
    msg.attach_alternative("{amp}", "text/x-amp-html")
    msg.attach("a.txt", "a", "text/plain")
    backend.send_messages([msg])
    assert calls == list(FEATURE_ORDER)


def test_features_read_from_send_params_get_no_hook() -> None:
    class ReadsTagsLater(BasePayload):
        read_from_send_params = frozenset({"from_email", "to", "subject", "text_body", "tags"})

    class Backend(AnymailBaseBackend[ReadsTagsLater]):
        esp_name = "Later"
        payload_class = ReadsTagsLater

    payload = Backend().build_message_payload(message(tags=["t"]), {})
    assert payload.send_params["tags"] == ["t"]  # (no set_tags: no missing-hook error)


def test_declared_but_unimplemented_hook_is_reported_as_a_bug() -> None:
    class ForgetfulPayload(BasePayload):
        def set_from_email(self, email: EmailAddress) -> None:
            pass

        def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
            pass

        def set_subject(self, subject: str) -> None:
            pass

        def set_text_body(self, body: str) -> None:
            pass

    class ForgetfulBackend(AnymailBaseBackend):
        esp_name = "Forgetful"
        payload_class = ForgetfulPayload

    with pytest.raises(AnymailError) as excinfo:
        ForgetfulBackend().send_messages([message(tags=["t"])])
    assert str(excinfo.value) == (
        "ForgetfulPayload declares support for tags but does not implement it "
        "(an Anymail bug: please report it)."
    )


def test_message_without_recipients_is_skipped() -> None:
    msg = message(to=[])
    assert make_backend().send_messages([msg]) == 0
    assert mail.outbox == []
    only_bcc = message(to=[], bcc=["bcc@example.com"])
    assert make_backend().send_messages([only_bcc]) == 1


def test_send_messages_with_no_messages() -> None:
    assert make_backend().send_messages([]) == 0


# --- attachments -------------------------------------------------------------------


def test_attachment_normalization() -> None:
    msg = message()
    msg.attach("report.pdf", b"%PDF-1.4", None)
    msg.attach("data.csv", "a,b\n1,2\n", "text/csv")
    params = send(msg)
    pdf, csv = params["attachments"]
    unnamed = Attachment.from_django((None, b"\x00\x01", None))
    assert (pdf.name, pdf.content_type, pdf.content, pdf.inline) == (
        "report.pdf",
        "application/pdf",
        b"%PDF-1.4",
        False,
    )
    assert (unnamed.name, unnamed.content_type) == (None, "application/octet-stream")
    assert (csv.name, csv.content_type, csv.content) == (
        "data.csv",
        "text/csv; charset=utf-8",
        b"a,b\n1,2\n",
    )
    assert csv.b64content == "YSxiCjEsMgo="


@pytest.mark.parametrize(
    ("name", "mimetype", "filename"),
    [
        ("report.pdf", "application/pdf", "report.pdf"),
        (None, "image/png", "attachment.png"),
        ("", "IMAGE/PNG", "attachment.png"),
        (None, "application/octet-stream", "attachment.bin"),
        (None, "application/x-no-such-type", "attachment"),
    ],
)
def test_attachment_filename_for_esps_that_need_one(
    name: str | None, mimetype: str, filename: str
) -> None:
    attachment = Attachment(b"data", mimetype, name)
    assert attachment.filename == filename
    assert attachment.name == name  # (unchanged: what the message gave)


def test_attachment_text_uses_the_message_encoding() -> None:
    attachment = Attachment.from_django(
        ("café.txt", "café", "text/plain; format=flowed"), "iso-8859-1"
    )
    assert attachment.mimetype == "text/plain"
    assert attachment.content_type == "text/plain; charset=iso-8859-1"
    assert attachment.content == "café".encode("iso-8859-1")


def test_mime_part_attachments() -> None:
    part = MIMEPart()
    part.set_content(PNG, maintype="image", subtype="png", cid="<logo@example.com>")
    implicit_inline = Attachment.from_django(part)
    assert (implicit_inline.inline, implicit_inline.content_id) == (True, "logo@example.com")
    assert implicit_inline.content == PNG

    part = MIMEPart()
    part.set_content(
        b"data",
        maintype="application",
        subtype="zip",
        disposition="attachment",
        filename="a.zip",
        cid="<z@example.com>",
    )
    regular = Attachment.from_django(part)
    assert (regular.name, regular.mimetype, regular.inline, regular.content_id) == (
        "a.zip",
        "application/zip",
        False,
        "z@example.com",
    )

    legacy = MIMEImage(PNG, "png")
    legacy.add_header("Content-Disposition", "inline", filename="logo.png")
    legacy.add_header("Content-ID", "<legacy@inline>")
    attachment = Attachment.from_django(legacy)
    assert (attachment.name, attachment.inline, attachment.content_id, attachment.content) == (
        "logo.png",
        True,
        "legacy@inline",
        PNG,
    )


def test_email_message_attachment_becomes_rfc822_bytes() -> None:
    forwarded = EmailMessage(subject="Forwarded", body="inner", to=["x@example.com"])
    attachment = Attachment.from_django(("fwd.eml", forwarded, "message/rfc822"))
    assert attachment.mimetype == "message/rfc822"
    assert b"Subject: Forwarded" in attachment.content


def test_attachment_repr() -> None:
    assert repr(Attachment(b"abc", "text/plain", "a.txt", charset="utf-8")) == (
        "Attachment('a.txt', text/plain; charset=utf-8, 3 bytes)"
    )


# --- send defaults ------------------------------------------------------------------


def test_send_defaults_as_documented(settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {
            "metadata": {"district": "North", "source": "unknown"},
            "tags": ["myapp", "version3"],
            "track_clicks": True,
            "track_opens": True,
        }
    }
    msg = message()
    msg.tags = ["welcome"]
    msg.metadata = {"source": "Ads", "user_id": 12345}
    msg.track_clicks = False
    params = send(msg)
    assert params["tags"] == ["myapp", "version3", "welcome"]
    assert params["metadata"] == {"district": "North", "source": "Ads", "user_id": 12345}
    assert params["track_clicks"] is False
    assert params["track_opens"] is True


def test_none_turns_a_default_off(settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {"tags": ["myapp"], "metadata": {"a": "1"}, "track_opens": True}
    }
    params = send(message(tags=None, metadata=None, track_opens=None))
    assert "tags" not in params
    assert "metadata" not in params
    assert "track_opens" not in params


def test_defaults_apply_to_messages_without_the_attribute(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULTS": {"tags": ["myapp"], "template_id": "tpl"}}
    params = send(EmailMessage(to=["to@example.com"]))
    assert params["tags"] == ["myapp"]
    assert params["template_id"] == "tpl"


def test_esp_send_defaults_replace_global_keys(settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {"tags": ["myapp", "version3"], "metadata": {"a": "1"}},
        "TINY_SEND_DEFAULTS": {"tags": ["version3"], "esp_extra": {"o:dkim": "no"}},
    }
    params = send(message(tags=["welcome"]))
    assert params["tags"] == ["version3", "welcome"]
    assert params["metadata"] == {"a": "1"}
    assert params["esp_extra"] == {"o:dkim": "no"}


def test_esp_extra_is_deep_merged_with_defaults(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULTS": {"esp_extra": {"opts": {"a": 1, "b": 2}, "keep": True}}}
    params = send(message(esp_extra={"opts": {"b": 3, "c": 4}}))
    assert params["esp_extra"] == {"opts": {"a": 1, "b": 3, "c": 4}, "keep": True}


def test_merge_dicts_are_merged_with_defaults(settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {
            "merge_global_data": {"site": "Example", "offer": "5%"},
            "merge_data": {"to@example.com": {"name": "default"}},
        }
    }
    params = send(message(merge_global_data={"offer": "15%"}, merge_data={"x@example.com": {}}))
    assert params["merge_global_data"] == {"site": "Example", "offer": "15%"}
    assert params["merge_data"] == {"to@example.com": {"name": "default"}, "x@example.com": {}}


def test_django_attributes_as_defaults(settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {
            "bcc": ["archive@example.com"],
            "reply_to": ["help@example.com"],
            "subject": "Default subject",
            "headers": {"X-App": "myapp", "x-mode": "default"},
            "attachments": [("terms.txt", "Terms", "text/plain")],
        }
    }
    msg = EmailMessage(
        body="Body", to=["to@example.com"], bcc=["b@example.com"], headers={"X-Mode": "msg"}
    )
    msg.attach("a.txt", "A", "text/plain")
    params = send(msg)
    assert params["bcc"] == ["archive@example.com", "b@example.com"]
    assert params["reply_to"] == ["help@example.com"]
    assert params["subject"] == "Default subject"
    assert params["extra_headers"] == {"X-App": "myapp", "X-Mode": "msg"}
    assert [a.name for a in params["attachments"]] == ["terms.txt", "a.txt"]
    assert [r.addr_spec for r in payload_for(msg).all_recipients] == [
        "to@example.com",
        "archive@example.com",
        "b@example.com",
    ]


def test_message_subject_wins_over_default_subject(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULTS": {"subject": "Default subject"}}
    assert send(message(subject="Mine"))["subject"] == "Mine"
    no_subject = message()
    no_subject.subject = None  # use the ESP template's subject
    assert "subject" not in send(no_subject)


def test_send_defaults_backend_kwarg_replaces_settings(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULTS": {"tags": ["from-settings"]}}
    params = send(message(), send_defaults={"metadata": {"k": "v"}})
    assert params["metadata"] == {"k": "v"}
    assert "tags" not in params


def test_defaults_are_not_mutated_between_messages(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULTS": {"tags": ["myapp"], "metadata": {"a": "1"}}}
    backend = make_backend()
    first, second = message(tags=["one"], metadata={"b": "2"}), message()
    backend.send_messages([first, second])
    assert second.anymail_send_params["tags"] == ["myapp"]
    assert second.anymail_send_params["metadata"] == {"a": "1"}
    assert backend.send_defaults == {"tags": ["myapp"], "metadata": {"a": "1"}}


def test_invalid_backend_setting_is_reported(settings: Any) -> None:
    settings.ANYMAIL = {"IGNORE_UNSUPPORTED_FEATURES": "yes"}
    with pytest.raises(AnymailImproperlyConfigured, match="IGNORE_UNSUPPORTED_FEATURES"):
        make_backend()


# --- headers ----------------------------------------------------------------------


def test_extra_headers_are_case_insensitive() -> None:
    params = payload_for(
        message(headers={"x-custom": "1", "REPLY-TO": "r@example.com"})
    ).send_params
    headers = params["extra_headers"]
    assert headers["X-Custom"] == "1"
    assert "Reply-To" not in headers
    assert params["reply_to"] == [EmailAddress("", "r", "example.com")]


def test_from_header_becomes_visible_from_and_from_email_the_envelope_sender() -> None:
    msg = message(from_email="bounces@example.com", headers={"From": "Visible <v@example.com>"})
    params = send(msg)
    assert params["from_email"] == "Visible <v@example.com>"
    assert params["envelope_sender"] == "bounces@example.com"
    assert "extra_headers" not in params


def test_from_header_with_explicit_envelope_sender() -> None:
    msg = message(headers={"From": "v@example.com"}, envelope_sender="env@example.com")
    params = send(msg)
    assert params["from_email"] == "v@example.com"
    assert params["envelope_sender"] == "env@example.com"


def test_from_header_needs_envelope_sender_support() -> None:
    msg = message(headers={"From": "v@example.com"})
    with pytest.raises(AnymailUnsupportedFeature, match=r"^Tiny does not support envelope_sender"):
        send(msg, LIMITED)


def test_reply_to_header_replaces_reply_to() -> None:
    params = send(message(reply_to=["old@example.com"], headers={"Reply-To": "new@example.com"}))
    assert params["reply_to"] == ["new@example.com"]
    assert "extra_headers" not in params


def test_to_header_equal_to_recipients_is_ignored() -> None:
    params = send(
        message(
            to=["a@example.com", "b@example.com"],
            headers={"To": "a@example.com, B <b@example.com>"},
        )
    )
    assert "to_header" not in params
    assert "extra_headers" not in params
    assert send(message(to=["a@example.com"], headers={"To": "a@example.com"}), LIMITED)


def test_spoofed_to_and_cc_headers() -> None:
    msg = message(
        cc=["cc@example.com"], headers={"To": "shown@example.com", "Cc": "c2@example.com"}
    )
    params = send(msg)  # the test ESP accepts them
    assert params["to"] == ["to@example.com"]
    assert params["to_header"] == ["shown@example.com"]
    assert params["cc_header"] == ["c2@example.com"]
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        send(message(headers={"To": "shown@example.com"}), LIMITED)
    assert str(excinfo.value).startswith(
        "Tiny does not support a To header that differs from the message's to list."
    )
    with pytest.raises(AnymailUnsupportedFeature, match="a Cc header that differs"):
        send(message(headers={"Cc": "c2@example.com"}), LIMITED)


def test_multiple_from_addresses() -> None:
    msg = message(headers={"From": "a@example.com, b@example.com"}, envelope_sender="e@example.com")
    assert send(msg)["from_email"] == ["a@example.com", "b@example.com"]
    with pytest.raises(AnymailUnsupportedFeature, match="multiple from addresses"):
        send(
            message(headers={"From": "a@example.com, b@example.com"}),
            LIMITED.replace(envelope_sender=True),
        )


# --- addresses ----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["from_email", "to", "cc", "bcc", "reply_to"])
def test_invalid_address_in_any_field(field: str) -> None:
    bad = "Widgets, Inc. <w@example.com>"
    msg = message(**{field: bad if field == "from_email" else [bad]})
    with pytest.raises(AnymailInvalidAddress) as excinfo:
        make_backend().send_messages([msg])
    assert str(excinfo.value).endswith(f"(in {field})")
    assert "put it in double quotes" in str(excinfo.value)
    assert mail.outbox == []


@pytest.mark.parametrize("field", ["to", "cc", "bcc", "reply_to"])
def test_blank_address_is_invalid_not_dropped(field: str) -> None:
    # Django counts "  " as a recipient; dropping it would call the ESP without it.
    msg = message(**{field: ["  "]})
    with pytest.raises(AnymailInvalidAddress, match=f"in {field}: it is blank"):
        make_backend().send_messages([msg])
    assert mail.outbox == []


def test_idna_domains_key_the_recipient_status() -> None:
    msg = message(to=["Ünïcode <user@exämple.com>"])
    params = send(msg)
    assert params["to"] == ["Ünïcode <user@xn--exmple-cua.com>"]
    assert list(msg.anymail_status.recipients) == ["user@xn--exmple-cua.com"]


def test_eai_addresses_where_the_esp_cannot_send_them() -> None:
    assert send(message(to=["jörg@example.com"]))["to"] == ["jörg@example.com"]
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        send(message(to=["jörg@example.com"]), LIMITED)
    assert str(excinfo.value).startswith(
        "Tiny does not support non-ASCII mailbox 'jörg@example.com' in to (EAI)."
    )
    with pytest.raises(
        AnymailUnsupportedFeature, match=r"'jörg@example.com' in from_email \(EAI\)"
    ):
        send(message(from_email="jörg@example.com"), LIMITED)


# --- capabilities -------------------------------------------------------------------


UNSUPPORTED_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # (capability, message kwargs, feature name in the error, param left out)
    ("metadata", {"metadata": {"a": "1"}}, "metadata", "metadata"),
    (
        "merge_metadata",
        {"merge_metadata": {"to@example.com": {}}},
        "merge_metadata",
        "merge_metadata",
    ),
    ("merge_headers", {"merge_headers": {"to@example.com": {}}}, "merge_headers", "merge_headers"),
    ("tags", {"tags": ["t"]}, "tags", "tags"),
    ("track_clicks", {"track_clicks": True}, "track_clicks", "track_clicks"),
    ("track_opens", {"track_opens": False}, "track_opens", "track_opens"),
    ("send_at", {"send_at": 1900000000}, "send_at", "send_at"),
    ("template_id", {"template_id": "tpl"}, "template_id", "template_id"),
    ("merge_data", {"merge_data": {}}, "merge_data", "merge_data"),
    (
        "merge_global_data",
        {"merge_global_data": {"a": 1}},
        "merge_global_data",
        "merge_global_data",
    ),
    ("esp_extra", {"esp_extra": {"a": 1}}, "esp_extra", "esp_extra"),
    ("envelope_sender", {"envelope_sender": "e@example.com"}, "envelope_sender", "envelope_sender"),
    ("cc", {"cc": ["cc@example.com"]}, "cc", "cc"),
    ("bcc", {"bcc": ["bcc@example.com"]}, "bcc", "bcc"),
    ("reply_to", {"reply_to": ["r@example.com"]}, "reply_to", "reply_to"),
    ("extra_headers", {"headers": {"X-A": "1"}}, "extra_headers", "extra_headers"),
]


@pytest.mark.parametrize(("capability", "kwargs", "feature", "param"), UNSUPPORTED_CASES)
def test_unsupported_feature_raises_or_is_left_out(
    capability: str, kwargs: dict[str, Any], feature: str, param: str
) -> None:
    caps = Capabilities(**{capability: False})
    msg = message(**kwargs)
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        make_backend(caps).send_messages([msg])
    assert str(excinfo.value) == (
        f"Tiny does not support {feature}. Remove it from the message, or set ANYMAIL "
        "IGNORE_UNSUPPORTED_FEATURES to True to send without it."
    )
    assert excinfo.value.email_message is msg
    assert mail.outbox == []

    sent = message(**kwargs)
    params = send(sent, caps, ignore_unsupported_features=True)
    assert param not in params
    assert params["to"] == ["to@example.com"]


def test_ignore_unsupported_features_setting(settings: Any) -> None:
    settings.ANYMAIL = {"IGNORE_UNSUPPORTED_FEATURES": True}
    backend = make_backend(Capabilities(tags=False, metadata=False))
    payload = backend.build_message_payload(message(tags=["t"], metadata={"a": 1}), {})
    assert payload.ignored_features == ["metadata", "tags"]
    assert "tags" not in payload.send_params


def test_ignore_unsupported_features_kwarg_beats_setting(settings: Any) -> None:
    settings.ANYMAIL = {"IGNORE_UNSUPPORTED_FEATURES": True}
    with pytest.raises(AnymailUnsupportedFeature):
        send(message(tags=["t"]), Capabilities(tags=False), ignore_unsupported_features=False)


def test_tag_limits() -> None:
    with pytest.raises(AnymailUnsupportedFeature, match=r"^Tiny does not support multiple tags"):
        send(message(tags=["a", "b"]), LIMITED)
    assert send(message(tags=["a", "b"]), LIMITED, ignore_unsupported_features=True)["tags"] == [
        "a"
    ]
    assert send(message(tags=["a"]), LIMITED)["tags"] == ["a"]
    with pytest.raises(AnymailUnsupportedFeature, match=r"^Tiny does not support more than 2 tags"):
        send(message(tags=["a", "b", "c"]), Capabilities(max_tags=2))


def test_tag_limit_error_names_the_tags_from_send_defaults(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULTS": {"tags": ["newsletter"]}}
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        send(message(tags=["welcome"]), LIMITED)
    assert str(excinfo.value).startswith(
        "Tiny does not support multiple tags ('newsletter' from the send defaults; "
        "'welcome' from the message)."
    )
    assert mail.outbox == []
    # Ignoring keeps the message's own tag; the default's gives way.
    params = send(message(tags=["welcome"]), LIMITED, ignore_unsupported_features=True)
    assert params["tags"] == ["welcome"]
    # A tag given as a str is one tag, as without defaults.
    assert send(message(tags="welcome"), Capabilities())["tags"] == ["newsletter", "welcome"]


def test_tag_limit_keeps_defaults_while_there_is_room(settings: Any) -> None:
    settings.ANYMAIL = {"SEND_DEFAULTS": {"tags": ["d1", "d2"]}}
    two = Capabilities(max_tags=2)
    params = send(message(tags=["m"]), two, ignore_unsupported_features=True)
    assert params["tags"] == ["d1", "m"]
    # Only default tags, too many of them: the error says so; ignoring keeps the first.
    with pytest.raises(AnymailUnsupportedFeature, match=r"\('d1', 'd2' from the send defaults\)"):
        send(message(), LIMITED)
    assert send(message(), LIMITED, ignore_unsupported_features=True)["tags"] == ["d1"]


def test_reply_to_limit() -> None:
    with pytest.raises(AnymailUnsupportedFeature, match="multiple reply_to addresses"):
        send(message(reply_to=["a@example.com", "b@example.com"]), LIMITED)
    params = send(
        message(reply_to=["a@example.com", "b@example.com"]),
        LIMITED,
        ignore_unsupported_features=True,
    )
    assert params["reply_to"] == ["a@example.com"]


def test_alternatives() -> None:
    msg = message()
    msg.attach_alternative("<p>one</p>", "text/html")
    msg.attach_alternative("<p>two</p>", "text/html")
    msg.attach_alternative("{amp}", "text/x-amp-html")
    params = send(msg)  # the test ESP takes anything
    assert params["html_body"] == "<p>one</p>"
    assert params["alternatives"] == [("<p>two</p>", "text/html"), ("{amp}", "text/x-amp-html")]

    with pytest.raises(
        AnymailUnsupportedFeature, match=r"^Tiny does not support multiple html parts"
    ):
        send(msg, Capabilities())
    amp = message()
    amp.attach_alternative("{amp}", "text/x-amp-html")
    with pytest.raises(
        AnymailUnsupportedFeature, match="alternative part with type 'text/x-amp-html'"
    ):
        send(amp, Capabilities())
    assert send(amp, Capabilities(alternatives=frozenset({"text/x-amp-html"})))["alternatives"] == [
        ("{amp}", "text/x-amp-html")
    ]


def test_inline_images_and_attachments_capabilities() -> None:
    msg = message()
    msg.attach_inline_image(PNG, "logo.png")
    msg.attach("a.txt", "A", "text/plain")
    with pytest.raises(AnymailUnsupportedFeature, match=r"^Tiny does not support inline images"):
        send(msg, LIMITED)
    params = send(msg, LIMITED, ignore_unsupported_features=True)
    # Ignoring inline images sends them as ordinary attachments: nothing is lost.
    assert [(a.name, a.inline, a.content_id) for a in params["attachments"]] == [
        ("logo.png", False, None),
        ("a.txt", False, None),
    ]
    with pytest.raises(AnymailUnsupportedFeature, match=r"^Tiny does not support attachments"):
        send(msg, Capabilities(attachments=False))
    # With neither supported, ignoring leaves them all out.
    params = send(
        msg,
        Capabilities(attachments=False, inline_images=False),
        ignore_unsupported_features=True,
    )
    assert "attachments" not in params


def test_batch_stays_batch_when_a_merge_feature_is_ignored() -> None:
    class NoMergeHeaders(AnymailTestBackend):
        class payload_class(RecordingPayloadBase):
            capabilities = Capabilities(merge_headers=False)

            def get_params(self) -> dict[str, Any]:
                return {**super().get_params(), "is_batch": self.is_batch}

    msg = message(to=["a@example.com", "b@example.com"])
    msg.merge_headers = {"a@example.com": {"X-A": "1"}}
    backend = NoMergeHeaders(ignore_unsupported_features=True)
    backend.send_messages([msg])
    assert "merge_headers" not in msg.anymail_send_params
    assert msg.anymail_send_params["is_batch"] is True


def test_merge_data_keys_are_normalized_like_recipients() -> None:
    msg = message(to=["Ana <ana@exämple.com>", "Bo.Smith@Example.com"])
    msg.merge_data = {"Ana <ana@exämple.com>": {"name": "Ana"}, "bo.smith@example.com": {}}
    msg.merge_metadata = {"ana@EXÄMPLE.com": {"id": 1}, "other@example.com": {"id": 2}}
    params = send(msg, Capabilities())
    assert params["to"] == ["Ana <ana@xn--exmple-cua.com>", "Bo.Smith@Example.com"]
    assert params["merge_data"] == {
        "ana@xn--exmple-cua.com": {"name": "Ana"},
        "Bo.Smith@Example.com": {},  # matched ignoring case, keyed as the recipient
    }
    # A key matching no recipient is kept (normalized), not dropped.
    assert params["merge_metadata"] == {
        "ana@xn--exmple-cua.com": {"id": 1},
        "other@example.com": {"id": 2},
    }


def test_for_recipient_finds_each_recipients_entry() -> None:
    msg = message(to=["Ana <ana@exämple.com>", "bo@example.com"])
    msg.merge_data = {"ANA@Exämple.com": {"name": "Ana"}}
    payload = payload_for(msg)
    ana, bo = payload.send_params["to"]
    merge_data = payload.send_params["merge_data"]
    assert payload.for_recipient(merge_data, ana) == {"name": "Ana"}
    assert payload.for_recipient(merge_data, bo) == {}
    assert payload.for_recipient(merge_data, None) == {}
    assert payload.for_recipient(None, ana) == {}


def test_recipient_groups() -> None:
    msg = message(to=["a@example.com", "b@example.com"], cc=["c@example.com"])
    msg.bcc = ["d@example.com"]

    def groups(payload: BasePayload, split: bool | None = None) -> list[list[str]]:
        return [[a.addr_spec for a in group] for group in payload.recipient_groups(split)]

    everyone = [["a@example.com", "b@example.com", "c@example.com", "d@example.com"]]
    per_to = [
        ["a@example.com", "c@example.com", "d@example.com"],
        ["b@example.com", "c@example.com", "d@example.com"],
    ]
    assert groups(payload_for(msg)) == everyone
    assert groups(payload_for(msg), split=True) == per_to
    msg.merge_metadata = {}
    assert groups(payload_for(msg)) == per_to
    assert groups(payload_for(msg), split=False) == everyone
    msg.to = []  # no "to": one message to the cc and bcc
    assert groups(payload_for(msg), split=True) == [["c@example.com", "d@example.com"]]


def test_recipient_statuses_match_addresses_ignoring_case() -> None:
    statuses = RecipientStatuses([EmailAddress("", "Ana", "example.com")], "unknown")
    assert statuses == {"Ana@example.com": AnymailRecipientStatus(None, "unknown")}
    statuses.set("ana@EXAMPLE.com", "id-1", "sent")  # as the ESP echoes it
    statuses.set("ANA@example.com", "id-2", "queued", replace=False)
    statuses.set("bo@example.com", None, "rejected", replace=False)
    assert statuses == {
        "Ana@example.com": AnymailRecipientStatus("id-1", "sent"),
        "bo@example.com": AnymailRecipientStatus(None, "rejected"),
    }


def test_unsupported_feature_is_reported_once() -> None:
    payload = payload_for(message(), ignore_unsupported_features=True)
    payload.unsupported_feature("thing")
    payload.unsupported_feature("other thing")
    payload.unsupported_feature("thing")
    assert payload.ignored_features == ["thing", "other thing"]


# --- template mode ---------------------------------------------------------------------

#: An ESP that merges only into stored templates, and whose templates take no attachments.
PLAIN = Capabilities(merge_data=False, merge_global_data=False)
WITH_TEMPLATE = PLAIN.replace(
    merge_data=True,
    merge_global_data=True,
    attachments=False,
    inline_images=False,
    refusals={"inline_images": "inline images beside a stored template"},
)


def template_backend(**kwargs: Any) -> AnymailTestBackend:
    backend = make_backend(PLAIN, **kwargs)
    backend.payload_class.template_capabilities = WITH_TEMPLATE
    return backend


def test_template_capabilities_apply_with_a_template_id() -> None:
    msg = message(template_id="welcome", merge_data={"to@example.com": {"name": "A"}})
    msg.merge_global_data = {"site": "Example"}
    assert template_backend().send_messages([msg]) == 1
    assert msg.anymail_send_params["merge_data"] == {"to@example.com": {"name": "A"}}

    msg.attach("a.txt", "text", "text/plain")
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        template_backend().send_messages([msg])
    assert str(excinfo.value).startswith("Tiny does not support attachments with template_id.")
    msg.attachments = []
    msg.attach_inline_image(PNG, "logo.png")
    with pytest.raises(
        AnymailUnsupportedFeature,
        match=r"^Tiny does not support inline images beside a stored template\.",
    ):
        template_backend().send_messages([msg])


def test_capabilities_without_a_template_id() -> None:
    msg = message(merge_data={"to@example.com": {"name": "A"}})
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        template_backend().send_messages([msg])
    assert str(excinfo.value).startswith("Tiny does not support merge_data without template_id.")
    # Empty per-recipient data only asks for a batch, which this ESP can send.
    batch = message(merge_data={"to@example.com": {}})
    assert template_backend().send_messages([batch]) == 1
    assert batch.anymail_send_params["merge_data"] == {"to@example.com": {}}
    # Attachments are fine without a template.
    msg = message()
    msg.attach("a.txt", "text", "text/plain")
    assert template_backend().send_messages([msg]) == 1


def test_template_mode_refusals_come_as_each_hook_is_due() -> None:
    msg = message(
        merge_data={"to@example.com": {"name": "A"}},
        merge_global_data={"site": "Example"},
        envelope_sender="bounces@example.com",
        track_opens=True,
    )
    capabilities = PLAIN.replace(envelope_sender=False, track_opens=False)
    backend = make_backend(capabilities, ignore_unsupported_features=True)
    backend.payload_class.template_capabilities = capabilities.replace(
        merge_data=True, merge_global_data=True
    )
    payload = backend.build_message_payload(msg, {})
    assert payload.ignored_features == [
        "envelope_sender",
        "track_opens",
        "merge_data without template_id",
        "merge_global_data without template_id",
    ]
    assert "merge_data" not in payload.send_params
    assert payload.is_batch is True  # still asked for: one message per "to"
    assert backend.send_messages([msg]) == 1
    assert "merge_global_data" not in msg.anymail_send_params


def test_a_template_declaration_can_refuse_the_subject_and_body() -> None:
    # As Amazon SES's templates: their own subject and body, nothing beside them.
    backend = make_backend(PLAIN, ignore_unsupported_features=True)
    backend.payload_class.template_capabilities = PLAIN.replace(
        subject=False, body=False, refusals={"body": "a body beside a template"}
    )
    msg = message(template_id="welcome")
    msg.attach_alternative("<p>Body</p>", "text/html")
    payload = backend.build_message_payload(msg, {})
    assert payload.ignored_features == ["subject with template_id", "a body beside a template"]
    assert not {"subject", "text_body", "html_body"} & set(payload.send_params)
    # Django's default subject is no subject: nothing to refuse.
    quiet = backend.build_message_payload(message(template_id="welcome", subject="", body=""), {})
    assert quiet.ignored_features == []
    # Without a template_id, the first declaration applies.
    assert backend.build_message_payload(message(), {}).ignored_features == []


# --- refused recipients ---------------------------------------------------------------


class RefusingBackend(AnymailTestBackend):
    """Reports the statuses given by ``STATUSES`` (by address) instead of "sent"."""

    esp_name = "Tiny"
    STATUSES: dict[str, str] = {}

    def parse_recipient_status(
        self, response: Any, payload: BasePayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        return {
            r.addr_spec: AnymailRecipientStatus(None, self.STATUSES.get(r.addr_spec, "sent"))
            for r in payload.all_recipients
        }


def refusing(statuses: dict[str, str], **kwargs: Any) -> RefusingBackend:
    backend = RefusingBackend(**kwargs)
    backend.STATUSES = statuses
    return backend


def test_all_recipients_refused_raises() -> None:
    msg = message(to=["a@example.com"], cc=["b@example.com"])
    backend = refusing({"a@example.com": "rejected", "b@example.com": "invalid"})
    with pytest.raises(AnymailRecipientsRefused) as excinfo:
        backend.send_messages([msg])
    assert str(excinfo.value) == (
        "Tiny refused every recipient of the message: a@example.com (rejected), "
        "b@example.com (invalid). See the message's anymail_status for details, or set "
        "ANYMAIL IGNORE_RECIPIENT_STATUS to True to treat this as sent."
    )
    assert msg.anymail_status.status == {"rejected", "invalid"}
    assert excinfo.value.email_message is msg


def test_post_send_runs_before_recipients_refused_is_raised() -> None:
    from anymail.signals import post_send

    seen: list[set[str] | None] = []

    def on_post_send(sender: Any, message: Any, status: Any, **kwargs: Any) -> None:
        seen.append(status.status)

    with connected(post_send, on_post_send), pytest.raises(AnymailRecipientsRefused):
        refusing({"to@example.com": "rejected"}).send_messages([message()])
    assert seen == [{"rejected"}]


def test_some_recipients_refused_is_a_send() -> None:
    msg = message(to=["a@example.com", "b@example.com"])
    assert refusing({"a@example.com": "rejected"}).send_messages([msg]) == 1
    assert msg.anymail_status.status == {"rejected", "sent"}


def test_failed_recipients_are_not_refused() -> None:
    msg = message(to=["a@example.com"])
    assert refusing({"a@example.com": "failed"}).send_messages([msg]) == 1


def test_ignore_recipient_status(settings: Any) -> None:
    statuses = {"to@example.com": "rejected"}
    assert refusing(statuses, ignore_recipient_status=True).send_messages([message()]) == 1
    settings.ANYMAIL = {"IGNORE_RECIPIENT_STATUS": True}
    msg = message()
    assert refusing(statuses).send_messages([msg]) == 1
    assert msg.anymail_status.status == {"rejected"}


def test_refused_recipients_with_fail_silently(caplog: pytest.LogCaptureFixture) -> None:
    backend = refusing({"to@example.com": "invalid"}, fail_silently=True)
    with caplog.at_level(logging.WARNING, logger="anymail"):
        assert backend.send_messages([message()]) == 0
    assert "Tiny send failed (fail_silently): Tiny refused every recipient" in caplog.text


# --- fail_silently ------------------------------------------------------------------


class FailingBackend(AnymailTestBackend):
    """An ESP whose API answers 503 for messages with subject "fail"."""

    esp_name = "Tiny"

    def post_to_esp(self, payload: BasePayload, message: EmailMessage) -> dict[str, Any]:
        if message.subject == "fail":
            raise AnymailAPIError("Tiny API error: HTTP 503.", status_code=503)
        return super().post_to_esp(payload, message)


def test_api_error_raises_with_status_reset() -> None:
    msg = message(subject="fail")
    with pytest.raises(AnymailAPIError) as excinfo:
        FailingBackend().send_messages([msg])
    assert excinfo.value.status_code == 503
    assert excinfo.value.email_message is msg
    assert isinstance(excinfo.value.backend, FailingBackend)
    assert msg.anymail_status.status is None
    assert msg.anymail_status.message_id is None
    assert msg.anymail_status.recipients == {}


def test_esp_response_is_kept_when_the_send_fails_with_one() -> None:
    answer = {"unreadable": True}

    class Unreadable(AnymailTestBackend):
        def post_to_esp(self, payload: BasePayload, message: EmailMessage) -> Any:
            raise AnymailAPIError("Tiny answered something unreadable.", response=answer)

    msg = message()
    with pytest.raises(AnymailAPIError):
        Unreadable().send_messages([msg])
    assert msg.anymail_status.esp_response is answer
    assert msg.anymail_status.status is None


def test_fail_silently_silences_delivery_failures(caplog: pytest.LogCaptureFixture) -> None:
    failing, working = message(subject="fail"), message(subject="ok")
    with caplog.at_level(logging.WARNING, logger="anymail"):
        assert FailingBackend(fail_silently=True).send_messages([failing, working]) == 1
    assert failing.anymail_status.status is None
    assert working.anymail_status.status == {"sent"}
    assert caplog.records[0].getMessage() == (
        "Tiny send failed (fail_silently): Tiny API error: HTTP 503."
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"to": ["Widgets, Inc. <w@example.com>"]}, AnymailInvalidAddress),
        ({"metadata": {"total": Decimal("1.5")}}, AnymailSerializationError),
    ],
)
def test_fail_silently_does_not_hide_mistakes_in_the_message(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        FailingBackend(fail_silently=True).send_messages([message(**kwargs)])


def test_fail_silently_does_not_hide_unsupported_features() -> None:
    with pytest.raises(AnymailUnsupportedFeature):
        make_backend(Capabilities(tags=False), fail_silently=True).send_messages(
            [message(tags=["t"])]
        )


@pytest.mark.skipif(django.VERSION >= (6, 1), reason="Django 5.2 API")
def test_message_send_fail_silently_django52(settings: Any) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    assert message(subject="fail").send(fail_silently=True) == 0
    with pytest.raises(AnymailAPIError):
        message(subject="fail").send()


@requires_mailers
def test_message_send_fail_silently_django61(settings: Any) -> None:
    from django.utils.deprecation import RemovedInDjango2028Warning

    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    with pytest.warns(RemovedInDjango2028Warning, match="fail_silently"):
        assert message(subject="fail").send(fail_silently=True) == 0


@requires_mailers
def test_mailers_options_fail_silently(settings: Any) -> None:
    settings.MAILERS = {
        "quiet": {"BACKEND": f"{__name__}.FailingBackend", "OPTIONS": {"fail_silently": True}},
        "loud": {"BACKEND": f"{__name__}.FailingBackend"},
    }
    assert message(subject="fail").send(using="quiet") == 0
    with pytest.raises(AnymailAPIError):
        message(subject="fail").send(using="loud")
    # As Django itself says: fail_silently and using= don't mix.
    with pytest.raises(TypeError, match="'fail_silently' is not compatible with 'using'"):
        message(subject="fail").send(fail_silently=True, using="loud")


# --- serialization ------------------------------------------------------------------


def test_serialization_error_names_the_offending_key() -> None:
    msg = message(metadata={"order": "1", "total": Decimal("19.99")})
    with pytest.raises(AnymailSerializationError) as excinfo:
        make_backend().send_messages([msg])
    assert isinstance(excinfo.value, TypeError)
    assert str(excinfo.value) == (
        "Don't know how to send Decimal metadata['total'] to the ESP: Object of type Decimal "
        "is not JSON serializable. Convert it to a str (or int/float) before sending; e.g. "
        "format Decimal, date and model values yourself."
    )
    assert isinstance(excinfo.value.orig_err, TypeError)
    assert mail.outbox == []


def test_serialization_error_in_nested_merge_data() -> None:
    from datetime import date

    msg = message(merge_data={"to@example.com": {"ship": date(2030, 1, 2)}})
    with pytest.raises(
        AnymailSerializationError, match=r"date merge_data\['to@example.com'\]\['ship'\]"
    ):
        make_backend().send_messages([msg])


def test_serialization_error_for_a_bad_key() -> None:
    msg = message(merge_global_data={("a", "b"): "x"})
    with pytest.raises(
        AnymailSerializationError, match=r"tuple merge_global_data key \('a', 'b'\)"
    ):
        make_backend().send_messages([msg])


# --- lazy strings ----------------------------------------------------------------------


def _all_plain(value: Any) -> bool:
    if isinstance(value, Promise):
        return False
    if isinstance(value, dict):
        return all(_all_plain(k) and _all_plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_all_plain(item) for item in value)
    return True


def test_lazy_strings_are_accepted_everywhere() -> None:
    lazy = gettext_lazy
    msg = EmailMultiAlternatives(
        subject=lazy("Subject"),
        body=lazy("Body"),
        from_email=lazy("From <from@example.com>"),
        to=[lazy("to@example.com")],
        cc=[lazy("cc@example.com")],
        bcc=[lazy("bcc@example.com")],
        reply_to=[lazy("reply@example.com")],
        headers={"X-Lazy": lazy("header")},
    )
    msg.attach_alternative(lazy("<p>HTML</p>"), "text/html")
    msg.tags = [lazy("tag")]
    msg.metadata = {lazy("key"): lazy("value")}
    msg.merge_data = {"to@example.com": {"name": lazy("Name"), "list": [lazy("item")]}}
    msg.merge_global_data = {"site": lazy("Site")}
    msg.merge_metadata = {"to@example.com": {"m": lazy("meta")}}
    msg.template_id = lazy("template")
    params = send(msg)
    assert params == {
        "from_email": "From <from@example.com>",
        "to": ["to@example.com"],
        "cc": ["cc@example.com"],
        "bcc": ["bcc@example.com"],
        "subject": "Subject",
        "reply_to": ["reply@example.com"],
        "extra_headers": {"X-Lazy": "header"},
        "text_body": "Body",
        "html_body": "<p>HTML</p>",
        "tags": ["tag"],
        "metadata": {"key": "value"},
        "merge_data": {"to@example.com": {"name": "Name", "list": ["item"]}},
        "merge_global_data": {"site": "Site"},
        "merge_metadata": {"to@example.com": {"m": "meta"}},
        "template_id": "template",
    }
    assert _all_plain(params)


def test_batch_send_refused_when_the_esp_cannot_batch_even_if_ignoring() -> None:
    no_batch = Capabilities(merge_data=False, merge_metadata=False, merge_headers=False)
    msg = message(to=["a@example.com", "b@example.com"])
    msg.merge_data = {"a@example.com": {"name": "A"}}
    with pytest.raises(AnymailUnsupportedFeature, match="show every recipient to the others"):
        send(msg, no_batch, ignore_unsupported_features=True)
    # One "to" recipient exposes no one: sent without the merge data.
    single = message(to=["a@example.com"], cc=["c@example.com"])
    single.merge_data = {"a@example.com": {"name": "A"}}
    params = send(single, no_batch, ignore_unsupported_features=True)
    assert "merge_data" not in params
    assert params["to"] == ["a@example.com"]


def test_fail_silently_covers_a_connection_that_cannot_open(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Unreachable(AnymailTestBackend):
        esp_name = "Tiny"

        def open(self) -> bool:
            raise AnymailAPIError("Tiny API unreachable")

    with pytest.raises(AnymailAPIError, match="unreachable"):
        Unreachable().send_messages([message()])
    with caplog.at_level(logging.WARNING, logger="anymail"):
        assert Unreachable(fail_silently=True).send_messages([message()]) == 0
    assert "Tiny connection failed (fail_silently): Tiny API unreachable" in caplog.text


@pytest.mark.parametrize(
    ("field", "headers"),
    [
        ("extra_headers", {"X-Note": "a\r\nBcc: attacker@example.com"}),
        ("extra_headers", {"X-Bad\nName": "value"}),
        ("merge_headers", {"X-Note": "line one\nline two"}),
    ],
)
def test_line_breaks_in_headers_are_refused(field: str, headers: dict[str, str]) -> None:
    from anymail.exceptions import AnymailInvalidHeader

    msg = message()
    if field == "extra_headers":
        msg.extra_headers.update(headers)
    else:
        msg.merge_headers = {"to@example.com": headers}
    with pytest.raises(AnymailInvalidHeader, match=f"in {field} contains a line break"):
        send(msg)
    assert not mail.outbox


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"subject": "Hi\r\nBcc: v@example.com"}, "The subject 'Hi\\r\\nBcc: v@example.com'"),
        ({"subject": "Hi\u2028there"}, "The subject 'Hi\\u2028there'"),
        ({"tags": ["ok", "a\x85b"]}, "The tag 'a\\x85b'"),
        ({"metadata": {"k\x0bey": "v"}}, "The metadata key 'k\\x0bey'"),
        ({"metadata": {"key": "v\x0c"}}, "The metadata value 'v\\x0c' (key 'key')"),
        (
            {"to": ["to@example.com"], "merge_metadata": {"to@example.com": {"k": "\x1cv"}}},
            "The metadata value '\\x1cv' (key 'k')",
        ),
        ({"template_id": "t\x1d1"}, "The template_id 't\\x1d1'"),
        ({"headers": {"X-Note": "a\x1eb"}}, "Header 'X-Note' in extra_headers"),
    ],
)
def test_line_breaks_in_header_bound_values(kwargs: dict[str, Any], error: str) -> None:
    # Every line end str.splitlines() knows, checked for every ESP before sending.
    with pytest.raises(AnymailInvalidHeader) as excinfo:
        send(message(**kwargs))
    assert str(excinfo.value).startswith(error + " contains a line break")
    assert mail.outbox == []


def test_line_breaks_in_attachment_details() -> None:
    named = message()
    named.attach("a\nb.txt", "text", "text/plain")
    typed = message()
    typed.attach("a.txt", "text", "text/plain\r\nX-Injected: yes")
    inline = message()
    image = MIMEImage(PNG, "png")
    image["Content-ID"] = "<logo\u2029@example.com>"
    inline.attachments.append(image)  # (attach() warns about email.mime parts on Django 6)
    for msg, error in [
        (named, "The attachment filename 'a\\nb.txt'"),
        (typed, "The attachment mimetype 'text/plain\\r\\nX-Injected: yes'"),
        (inline, "The Content-ID 'logo\\u2029@example.com'"),
    ]:
        with pytest.raises(AnymailInvalidHeader, match=re.escape(error)):
            send(msg, ignore_unsupported_features=True)
    assert mail.outbox == []


def test_send_at_str_where_the_esp_takes_one() -> None:
    # Passed through unchanged (an ESP's own format, e.g. Resend's "in 1 hour").
    params = send(message(send_at="in 1 hour"), Capabilities(send_at_str=True))
    assert params["send_at"] == "in 1 hour"
    lazy = gettext_lazy("in 1 hour")
    assert send(message(send_at=lazy), Capabilities(send_at_str=True))["send_at"] == "in 1 hour"


def test_send_at_str_elsewhere_is_a_type_error() -> None:
    with pytest.raises(TypeError) as excinfo:
        send(message(send_at="2030-01-01T00:00:00Z"), Capabilities())
    assert str(excinfo.value).startswith(
        "Tiny takes send_at as a datetime, date, or int/float POSIX timestamp, not a str "
        "('2030-01-01T00:00:00Z')."
    )
    assert mail.outbox == []
    # An ESP without send_at says that instead.
    with pytest.raises(AnymailUnsupportedFeature, match="Tiny does not support send_at"):
        send(message(send_at="2030-01-01T00:00:00Z"), Capabilities(send_at=False))


def test_from_header_envelope_sender_error_explains_itself() -> None:
    no_envelope = Capabilities(envelope_sender=False)
    msg = message(from_email="bounces@example.com", headers={"From": "Shop <shop@example.com>"})
    with pytest.raises(AnymailUnsupportedFeature, match="Django's convention makes from_email"):
        send(msg, no_envelope)
    # A From header with the same address as from_email needs no envelope sender.
    same = message(from_email="shop@example.com", headers={"From": "Shop <shop@example.com>"})
    params = send(same, no_envelope)
    assert params["from_email"] == "Shop <shop@example.com>"
    assert "envelope_sender" not in params
