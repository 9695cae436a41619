"""AnymailInboundMessage (anymail.inbound): parsing, normalized attributes, limits, construct()."""

from __future__ import annotations

import base64
import io
import pickle
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadedfile import (
    SimpleUploadedFile,
    TemporaryUploadedFile,
    UploadedFile,
)

from anymail.addresses import EmailAddress
from anymail.checks import check_anymail_settings
from anymail.exceptions import (
    AnymailImproperlyConfigured,
    AnymailInboundParseError,
    AnymailWebhookValidationFailure,
)
from anymail.inbound import AnymailInboundMessage

from .utils import PNG

FIXTURES = Path(__file__).parent / "fixtures" / "inbound"


def parse_fixture(name: str) -> AnymailInboundMessage:
    return AnymailInboundMessage.parse_raw_mime_bytes((FIXTURES / name).read_bytes())


def big_message(content: bytes, **headers: str) -> bytes:
    """A message with a text body and ``content`` as a base64 PDF attachment."""
    msg = EmailMessage()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("See the attached report.\n")
    msg.add_attachment(content, "application", "pdf", filename="report.pdf")
    return msg.as_bytes()


@pytest.fixture
def small_spool(settings):
    """Spool bodies above the minimum (64 KiB) instead of Django's 2.5 MB default."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0


# --- realistic messages ---------------------------------------------------------------


def test_multipart_alternative_every_attribute() -> None:
    msg = parse_fixture("amazon_ses_raw.eml")
    assert msg.from_email == EmailAddress("Renée Customer", "renee", "example.net")
    assert str(msg.from_email) == "Renée Customer <renee@example.net>"
    assert msg.to == [EmailAddress("Support", "support", "inbound.example.com")]
    assert msg.cc == [EmailAddress("", "team", "inbound.example.com")]
    assert msg.subject == "Order 12345 — question"
    assert msg.date == datetime(2026, 11, 21, 10, 14, 58, tzinfo=UTC)
    assert msg.text == "Hello — where is my order?\n"
    assert msg.html == "<p>Hello — where is my order?</p>\n"
    assert msg.attachments == []
    assert msg.inlines == []
    assert msg.content_id_map == {}
    assert msg["Message-ID"] == "<20261121101458.4f2a@mail.example.net>"
    assert msg.get_all("Received")[0].startswith("from mail.example.net")
    # Set by the ESP's webhook, not by parsing:
    assert (msg.envelope_sender, msg.envelope_recipient) == (None, None)
    assert (msg.stripped_text, msg.stripped_html) == (None, None)
    assert (msg.spam_detected, msg.spam_score) == (None, None)


def test_inline_image_and_forwarded_message() -> None:
    msg = parse_fixture("related_inline_image_forwarded.eml")
    cid = "emedfeb92f-a786-4718-a446-98db8afb53fb@kronos"
    assert msg.text is None
    assert msg.html == f'<html><body><img src="cid:{cid}" /></body></html> \n'

    [image] = msg.inlines
    assert image.is_inline() and image.is_inline_attachment() and not image.is_attachment()
    assert image.get_content_type() == "image/png"
    assert image.get_filename() == "img.png"
    assert image.get_content_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert len(image.get_content_bytes()) == 370
    assert msg.content_id_map == {cid: image}
    assert msg.inline_attachments == {cid: image}  # the spec's older name

    [forwarded] = msg.attachments
    assert forwarded.is_attachment() and not forwarded.is_inline()
    assert forwarded.get_content_type() == "message/rfc822"
    assert forwarded.get_filename() == "Testmail.eml"
    content = forwarded.get_content_bytes()
    assert content.startswith(b"Return-Path: <xxxx@xxxx.com>\n")
    # The attached message is itself an AnymailInboundMessage, with its own attributes.
    inner = forwarded.get_payload(0)
    assert isinstance(inner, AnymailInboundMessage)
    assert inner.subject == "Another PDF"
    assert inner.from_email == EmailAddress("Test Tester", "xxxx", "xxxx.com")
    assert AnymailInboundMessage.parse_raw_mime_bytes(content).subject == "Another PDF"


@pytest.mark.parametrize(
    ("fixture", "filename", "content"),
    [
        ("filename_rfc2231_latin1.eml", "attachment.äöü", b"Test\n"),
        ("filename_rfc2047_utf8.eml", "てすと.txt", "this is a test\nこれわてすと".encode()),
        ("filename_raw_8bit.eml", "管理.doc", b"<html>\n"),
    ],
)
def test_non_ascii_attachment_filenames(fixture: str, filename: str, content: bytes) -> None:
    [attachment] = parse_fixture(fixture).attachments
    assert attachment.get_filename() == filename
    assert attachment.get_content_bytes() == content
    uploaded = attachment.as_uploaded_file()
    assert uploaded.name == filename
    assert uploaded.read() == content


def test_8bit_body_survives() -> None:
    msg = parse_fixture("body_8bit.eml")
    assert msg.text == "Превел\n\n123\n"
    assert "<B>&#1055;&#1088;&#1077;&#1074;&#1077;&#1083;</B>" in msg.html
    assert "\r" not in msg.html


def test_8bit_body_declared_ascii_is_decoded_as_utf8() -> None:
    msg = parse_fixture("charset_wrong_ascii.eml")
    assert "∮ E⋅da = Q,  n → ∞" in msg.text
    assert "Linguistics and dictionaries:\n" in msg.text


def test_unknown_charsets_still_give_text() -> None:
    assert parse_fixture("charset_unknown.eml").text == "A text section"  # "fakescii"
    text = parse_fixture("charset_x_unknown_8bit.eml").text  # X-UNKNOWN, 8-bit UTF-8
    assert "Envoyé par le service de messagerie texte de Bell Mobilité.\n" in text
    assert "\r" not in text


def test_delivery_status_report() -> None:
    msg = parse_fixture("delivery_status.eml")
    assert msg.text.startswith("The original message was received at Sat, 2 Jul 1994")
    status, returned = msg.attachments
    assert status.get_content_type() == "message/delivery-status"
    assert status.get_content_bytes() == (
        b"Reporting-MTA: dns; cs.example.com\n\n"
        b"Original-Recipient: rfc822;foo@example.com\n"
        b"Final-Recipient: rfc822;foo@example.com\n"
        b"Action: failed\n"
        b"Status: 4.0.0\n"
        b"Diagnostic-Code: smtp; 426 connection timed out\n"
        b"Last-Attempt-Date: Thu, 7 Jul 1994 17:15:49 -0400\n\n"
    )
    assert "Status: 4.0.0" in status.get_content_text()
    assert returned.get_content_type() == "message/rfc822"
    assert returned.get_content_bytes() == (
        b"Content-Type: text/plain\nSubject: Hello, how are you\n\n[message body goes here]\n"
    )


def test_malformed_headers_give_none_or_empty() -> None:
    msg = parse_fixture("malformed_from.eml")
    # "Bob Dunite <bob@extern> Bobby Dunite <bobby@extern>": a missing comma.
    assert msg.from_email is None
    assert msg.to == [EmailAddress("", "alice", "intern")]
    assert msg.date is None  # no Date header
    assert msg.get_address_header("Reply-To") == []


def test_malformed_base64_still_gives_bytes() -> None:
    [attachment] = parse_fixture("base64_malformed.eml").attachments
    assert attachment.get_content_bytes() == b"<html>\n"  # "PGh0*bWw+Cg==": junk skipped


# --- headers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Ana <ana@example.com>", [EmailAddress("Ana", "ana", "example.com")]),
        (
            '"Smith, Jo" <jo@example.com>, (a comment, with a comma) kim@example.com',
            [
                EmailAddress("Smith, Jo", "jo", "example.com"),
                EmailAddress("", "kim", "example.com"),
            ],
        ),
        (
            "team: a@example.com, b@example.com;",
            [EmailAddress("", "a", "example.com"), EmailAddress("", "b", "example.com")],
        ),
        ("undisclosed-recipients:;", []),
        ("<>", []),
        ("not an address", []),
        ("Widgets, Inc. <w@example.com>", [EmailAddress("Inc.", "w", "example.com")]),
        (
            "=?utf-8?q?Jos=C3=A9?= <jose@exämple.com>",
            [EmailAddress("José", "jose", "xn--exmple-cua.com")],
        ),
        # Encoded-words in quotes (forbidden, common) and unknown charsets still work.
        ('"=?utf-8?b?SsO2cmc=?=" <j@example.com>', [EmailAddress("Jörg", "j", "example.com")]),
        ("=?x-unknown?q?caf=E9?= <c@example.com>", [EmailAddress("café", "c", "example.com")]),
    ],
)
def test_address_headers(header: str, expected: list[EmailAddress]) -> None:
    msg = AnymailInboundMessage.parse_raw_mime(f"To: {header}\nCc: {header}\n\nbody\n")
    assert msg.to == expected
    assert msg.cc == expected
    assert msg.get_address_header("to") == expected


def test_address_header_repeated_and_folded() -> None:
    msg = AnymailInboundMessage.parse_raw_mime_bytes(
        b"From: Ana\r\n <ana@example.com>\r\nTo: a@example.com\r\nTo: b@example.com,\r\n"
        b"\tc@example.com\r\n\r\nbody\r\n"
    )
    assert msg.from_email == EmailAddress("Ana", "ana", "example.com")
    assert [address.addr_spec for address in msg.to] == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "Tue, 10 May 2005 15:27:03 -0500",
            datetime(2005, 5, 10, 15, 27, 3, tzinfo=timezone(-timedelta(hours=5))),
        ),
        ("Tue, 10 May 2005 15:27:03 -0000", datetime(2005, 5, 10, 15, 27, 3)),  # "no zone": naive
        ("yesterday", None),
        ("Tue, 31 Feb 2005 15:27:03 +0000", None),
        ("Tue, 10 May 99999 15:27:03 +0000", None),
    ],
)
def test_date_headers(header: str, expected: datetime | None) -> None:
    msg = AnymailInboundMessage.parse_raw_mime(f"Date: {header}\nResent-Date: {header}\n\nx")
    assert msg.date == expected
    assert msg.get_date_header("resent-date") == expected
    if expected is not None:
        assert msg.date.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?utf-8?q?caf=C3=A9?= =?utf-8?q?_bar?=", "café bar"),  # space between words dropped
        ("Re: =?iso-8859-1?q?caf=E9?= menu", "Re: café menu"),
        ("=?utf-8*fr?b?Y2Fmw6k=?=", "café"),  # RFC 2231 language
        ("=?x-unknown?q?caf=E9?=", "café"),
        ("plain\r\n folded", "plain folded"),
    ],
)
def test_subject(header: str, expected: str) -> None:
    msg = AnymailInboundMessage.parse_raw_mime(f"Subject: {header}\r\n\r\nx")
    assert msg.subject == expected


def test_lone_surrogates_in_text_input() -> None:
    # JSON can carry "\\ud800"; such text is broken, but must not crash anything.
    msg = AnymailInboundMessage.parse_raw_mime("Subject: a\ud800b\n\nbody \ud800\n")
    assert (msg.subject, msg.text) == ("a?b", "body ?\n")
    built = AnymailInboundMessage.construct(raw_headers="Subject: x\ud800\n", text="hi")
    assert built.subject == "x?"


def test_missing_headers() -> None:
    msg = AnymailInboundMessage.parse_raw_mime("\nJust a body\n")
    assert (msg.from_email, msg.to, msg.cc, msg.subject, msg.date) == (None, [], [], None, None)
    assert msg.text == "Just a body\n"


def test_8bit_headers() -> None:
    utf8 = AnymailInboundMessage.parse_raw_mime_bytes(
        "From: José <jose@example.com>\nSubject: Café\n\nx".encode()
    )
    assert utf8.from_email == EmailAddress("José", "jose", "example.com")
    assert utf8.subject == "Café"
    latin1 = AnymailInboundMessage.parse_raw_mime_bytes("Subject: caf\xe9\n\nx".encode("latin-1"))
    assert latin1.subject == "café"


def test_long_headers_are_decoded_in_linear_time() -> None:
    # The email package's header parser needs minutes for these (quadratic).
    words = " ".join(["=?utf-8?q?caf=C3=A9?="] * 20000)
    addresses = ", ".join(f"=?utf-8?q?Jos=C3=A9_{i}?= <j{i}@example.com>" for i in range(2000))
    msg = AnymailInboundMessage.parse_raw_mime(f"Subject: {words}\nTo: {addresses}\n\nx")
    assert msg.subject == "café" * 20000
    assert len(msg.to) == 2000
    assert msg.to[-1] == EmailAddress("José 1999", "j1999", "example.com")


# --- bodies and parts -----------------------------------------------------------------


def test_text_and_html_line_endings_normalized() -> None:
    msg = AnymailInboundMessage.parse_raw_mime_bytes(
        b"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\none\r\ntwo\rthree\nfour\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<p>one</p>\r\n<p>two</p>\r\n--b--\r\n"
    )
    assert msg.text == "one\ntwo\nthree\nfour"
    assert msg.html == "<p>one</p>\n<p>two</p>"
    # get_content_text() is the content as sent (an attachment may need its CRLFs).
    assert msg.get_payload(0).get_content_text() == "one\r\ntwo\rthree\nfour"


def test_which_parts_are_bodies_inlines_and_attachments() -> None:
    msg = AnymailInboundMessage.parse_raw_mime(
        "Content-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain\nContent-Disposition: inline\n\nthe body\n"
        "--b\nContent-Type: text/plain\n\nmore body (Apple Mail splits bodies)\n"
        "--b\nContent-Type: text/plain\nContent-Disposition: attachment\n\nnotes\n"
        "--b\nContent-Type: text/plain; name=notes.txt\n\nnamed notes\n"
        "--b\nContent-Type: image/png\nContent-ID: <logo>\n\npng\n"
        "--b\nContent-Type: image/gif\nContent-Disposition: inline; filename=a.gif\n\ngif\n"
        "--b\nContent-Type: application/pdf\n\npdf\n"
        "--b\nContent-Type: text/calendar\n\ninvite\n"
        "--b--\n"
    )
    assert msg.text == "the body"
    assert msg.html is None
    assert [part.get_content_bytes() for part in msg.attachments] == [
        b"notes",
        b"named notes",
        b"pdf",
        b"invite",
    ]
    assert [part.get_content_bytes() for part in msg.inlines] == [b"png", b"gif"]
    assert list(msg.content_id_map) == ["logo"]
    assert not msg.is_attachment() and not msg.is_inline()  # a container


def test_single_part_attachment_message() -> None:
    msg = AnymailInboundMessage.parse_raw_mime(
        "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n"
    )
    assert msg.text is None
    assert msg.attachments == [msg]
    assert msg.get_content_bytes() == b"%PDF-"


def test_get_content_text_charset_and_errors() -> None:
    part = AnymailInboundMessage.parse_raw_mime_bytes(
        b"Content-Type: text/plain; charset=utf-8\n\ncaf\xe9\n"
    )
    assert part.get_content_text() == "caf\ufffd\n"
    assert part.get_content_text(charset="iso-8859-1") == "café\n"
    with pytest.raises(UnicodeDecodeError):
        part.get_content_text(errors="strict")


def test_filenames_lose_line_breaks_and_controls() -> None:
    msg = AnymailInboundMessage.parse_raw_mime_bytes(
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b'Content-Disposition: attachment; filename="quarterly\r\n report\x07.pdf"\r\n\r\n'
        b"x\r\n--b--\r\n"
    )
    [attachment] = msg.attachments
    assert attachment.get_filename() == "quarterly report .pdf"
    assert attachment.get_filename("default") == "quarterly report .pdf"
    assert msg.get_filename("default") == "default"


@pytest.mark.parametrize(
    ("disposition", "content_type", "name"),
    [
        ("attachment", "application/pdf", "attachment.pdf"),
        ('attachment; filename=".."', "text/plain", "attachment.txt"),
        ('attachment; filename="../../etc/passwd"', "text/plain", "passwd"),
        ("attachment", "x-unknown/type", "attachment"),
    ],
)
def test_uploaded_file_names_are_safe(disposition: str, content_type: str, name: str) -> None:
    part = AnymailInboundMessage.parse_raw_mime(
        f"Content-Type: {content_type}\nContent-Disposition: {disposition}\n\ncontent"
    )
    assert part.as_uploaded_file().name == name


def test_as_uploaded_file() -> None:
    [image] = parse_fixture("related_inline_image_forwarded.eml").inlines
    uploaded = image.as_uploaded_file()
    assert isinstance(uploaded, UploadedFile)
    assert (uploaded.name, uploaded.content_type, uploaded.size) == ("img.png", "image/png", 370)
    assert uploaded.read() == image.get_content_bytes()
    [attachment] = parse_fixture("filename_rfc2047_utf8.eml").attachments
    assert attachment.as_uploaded_file().charset == "utf-8"


def test_parse_from_text_and_files_gives_the_same_message(tmp_path: Path) -> None:
    raw = (FIXTURES / "body_8bit.eml").read_bytes()
    path = tmp_path / "message.eml"
    path.write_bytes(raw)
    with path.open("rb") as binary, path.open(encoding="utf-8", newline="") as text:
        parsed = [
            AnymailInboundMessage.parse_raw_mime_bytes(raw),
            AnymailInboundMessage.parse_raw_mime(raw),
            AnymailInboundMessage.parse_raw_mime(raw.decode("utf-8")),  # e.g. a JSON field
            AnymailInboundMessage.parse_raw_mime_file(binary),
            AnymailInboundMessage.parse_raw_mime_file(text),
        ]
    for msg in parsed:
        assert isinstance(msg, AnymailInboundMessage)
        assert msg.as_bytes() == parsed[0].as_bytes()
        assert msg.text == "Превел\n\n123\n"


def test_structure_matches_the_standard_library_parser() -> None:
    for path in sorted(FIXTURES.glob("*.eml")):
        raw = path.read_bytes()
        assert (
            AnymailInboundMessage.parse_raw_mime_bytes(raw).as_bytes()
            == BytesParser().parsebytes(raw).as_bytes()
        ), path.name


def test_subclasses_parse_into_themselves() -> None:
    class MyInbound(AnymailInboundMessage):
        pass

    msg = MyInbound.parse_raw_mime((FIXTURES / "delivery_status.eml").read_text())
    assert isinstance(msg, MyInbound)
    assert all(isinstance(part, MyInbound) for part in msg.walk())


# --- large attachments: spooled to temporary files ------------------------------------


def test_large_attachment_content_is_exact(small_spool: None) -> None:
    content = bytes(range(256)) * 1200  # 300 KiB: spooled
    raw = big_message(content, Subject="Report")
    msg = AnymailInboundMessage.parse_raw_mime_bytes(raw)
    [attachment] = msg.attachments
    assert attachment.get_content_bytes() == content
    assert attachment.get_payload(decode=True) == content
    assert attachment.as_uploaded_file().read() == content
    assert msg.text == "See the attached report.\n"
    # Everything the email package does still sees the whole message.
    assert msg.as_bytes() == BytesParser().parsebytes(raw).as_bytes()
    copy = pickle.loads(pickle.dumps(msg))  # noqa: S301 (our own data)
    assert copy.attachments[0].get_content_bytes() == content


def test_large_attachment_with_crlf_before_a_boundary(small_spool: None) -> None:
    content = bytes(range(256)) * 1200
    raw = big_message(content).replace(b"\n", b"\r\n")
    for msg in (
        AnymailInboundMessage.parse_raw_mime_bytes(raw),
        AnymailInboundMessage.parse_raw_mime_file(io.BytesIO(raw)),
    ):
        assert msg.attachments[0].get_content_bytes() == content
        assert msg.as_bytes() == BytesParser().parsebytes(raw).as_bytes()


def test_large_attachment_with_irregular_base64(small_spool: None) -> None:
    # Two base64 encodings run together ("=" mid-stream): the email package's
    # lenient decoder decides what that means, spooled or not.
    lines = base64.encodebytes(b"a" * 100_000) * 2
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        + lines
        + b"--b--\n"
    )
    [attachment] = AnymailInboundMessage.parse_raw_mime_bytes(raw).attachments
    expected = BytesParser().parsebytes(raw).get_payload(0).get_payload(decode=True)
    assert attachment.get_content_bytes() == expected
    assert attachment.as_uploaded_file().read() == expected


def test_parsing_a_large_message_keeps_attachments_out_of_memory(small_spool: None) -> None:
    raw = big_message(bytes(range(256)) * 12000)  # 4 MB
    tracemalloc.start()
    try:
        msg = AnymailInboundMessage.parse_raw_mime_bytes(raw)
        _ = (msg.subject, msg.text, msg.html)
        uploaded = msg.attachments[0].as_uploaded_file()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert uploaded.size == 256 * 12000
    # The email package alone needs about 2.7x (lines, then their join), plus decoding.
    assert peak < 0.5 * len(raw)


# --- limits ---------------------------------------------------------------------------


def test_size_limit(settings) -> None:
    settings.ANYMAIL = {"INBOUND_MAX_SIZE": 1000}
    raw = big_message(b"x" * 2000)
    with pytest.raises(AnymailInboundParseError, match="larger than 1000 bytes") as info:
        AnymailInboundMessage.parse_raw_mime_bytes(raw)
    assert "INBOUND_MAX_SIZE" in str(info.value)
    with pytest.raises(AnymailInboundParseError):
        AnymailInboundMessage.parse_raw_mime(raw.decode())
    with pytest.raises(AnymailInboundParseError):
        AnymailInboundMessage.parse_raw_mime_file(io.BytesIO(raw))
    # One endless line is refused as soon as it passes the limit.
    with pytest.raises(AnymailInboundParseError):
        AnymailInboundMessage.parse_raw_mime_file(io.BytesIO(b"x" * 10**6))


def test_parse_errors_are_webhook_validation_failures() -> None:
    # The webhook view answers these with a 400 (and so does Django, elsewhere).
    assert issubclass(AnymailInboundParseError, AnymailWebhookValidationFailure)
    assert issubclass(AnymailInboundParseError, SuspiciousOperation)
    assert issubclass(AnymailInboundParseError, ValueError)


def test_parts_limit(settings) -> None:
    settings.ANYMAIL_INBOUND_MAX_PARTS = 10
    parts = "".join(f"--b\nContent-Type: text/plain\n\npart {i}\n" for i in range(10))
    raw = f"Content-Type: multipart/mixed; boundary=b\n\n{parts}--b--\n"
    with pytest.raises(AnymailInboundParseError, match="more than 10 MIME parts"):
        AnymailInboundMessage.parse_raw_mime(raw)
    settings.ANYMAIL_INBOUND_MAX_PARTS = 11  # the root and ten parts
    assert len(AnymailInboundMessage.parse_raw_mime(raw).get_payload()) == 10


def test_depth_limit(settings) -> None:
    # 3000 nested messages: the email package alone hits Python's recursion limit.
    raw = "Content-Type: message/rfc822\n\n" * 3000 + "Subject: deep\n\nbody\n"
    with pytest.raises(AnymailInboundParseError, match="more than 50 deep"):
        AnymailInboundMessage.parse_raw_mime(raw)
    settings.ANYMAIL = {"INBOUND_MAX_DEPTH": 3}
    nested = "Content-Type: message/rfc822\n\n" * 3 + "Subject: deep\n\nbody\n"
    msg = AnymailInboundMessage.parse_raw_mime(nested)
    assert msg.get_payload(0).get_payload(0).get_payload(0).subject == "deep"
    with pytest.raises(AnymailInboundParseError, match="more than 3 deep"):
        AnymailInboundMessage.parse_raw_mime("Content-Type: message/rfc822\n\n" + nested)


def test_limit_settings_are_known_to_the_system_checks(settings) -> None:
    settings.ANYMAIL = {"INBOUND_MAX_SIZE": 10**6, "INBOUND_MAX_PARTS": 100}
    settings.ANYMAIL_INBOUND_MAX_DEPTH = 10
    assert check_anymail_settings() == []


@pytest.mark.parametrize("value", [0, -1, "100", 1.5, True, None])
def test_invalid_limit_settings(settings, value: object) -> None:
    settings.ANYMAIL = {"INBOUND_MAX_PARTS": value}
    with pytest.raises(AnymailImproperlyConfigured, match="INBOUND_MAX_PARTS"):
        AnymailInboundMessage.parse_raw_mime("\nx")


# --- construct() ----------------------------------------------------------------------


def test_construct_from_parsed_fields() -> None:
    report = AnymailInboundMessage.construct_attachment(
        "application/pdf", b"%PDF-1.4 report", filename="Résumé\r\n.pdf"
    )
    logo = AnymailInboundMessage.construct_attachment(
        "image/png",
        base64.b64encode(PNG).decode(),
        filename="logo.png",
        content_id="logo",
        base64=True,
    )
    notes = AnymailInboundMessage.construct_attachment(
        "text/plain", "Grüße", charset="iso-8859-1", filename="notes.txt"
    )
    msg = AnymailInboundMessage.construct(
        raw_headers=(
            "Received: from a\r\nReceived: from b\r\nSubject: replaced\r\n"
            "Content-Type: multipart/alternative; boundary=original\r\nMIME-Version: 1.0\r\n"
        ),
        from_email="Renée <renee@example.com>",
        to=["support@example.com", EmailAddress("José", "jose", "example.com")],
        subject="Grüße — hello",
        headers={"Message-ID": "<abc@example.com>", "X-Seen": ["one", "two"]},
        text="Hi,\r\nsee attached.\r\n",
        html='<p>Hi</p><img src="cid:logo">',
        attachments=[report, logo, notes],
    )
    assert msg.from_email == EmailAddress("Renée", "renee", "example.com")
    assert msg.to == [
        EmailAddress("", "support", "example.com"),
        EmailAddress("José", "jose", "example.com"),
    ]
    assert msg.subject == "Grüße — hello"
    assert msg.get_all("Received") == ["from a", "from b"]
    assert msg.get_all("X-Seen") == ["one", "two"]
    assert msg["Message-ID"] == "<abc@example.com>"
    assert msg.text == "Hi,\nsee attached.\n"
    assert msg.html == '<p>Hi</p><img src="cid:logo">'
    assert msg.inlines == [logo]
    assert msg.content_id_map == {"logo": logo}
    assert logo.get_content_bytes() == PNG
    assert msg.attachments == [report, notes]
    assert report.get_filename() == "Résumé .pdf"
    assert report.get_content_bytes() == b"%PDF-1.4 report"
    assert notes.get_content_text() == "Grüße"
    assert notes.get_content_bytes() == "Grüße".encode("iso-8859-1")

    # The usual structure, and one header of each kind (no leftovers of the original's).
    assert [part.get_content_type() for part in msg.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "application/pdf",
        "text/plain",
    ]
    assert msg.get_all("Content-Type") == [msg["Content-Type"]]
    assert msg.get_all("MIME-Version") == ["1.0"]
    # It survives a round trip through MIME (address headers RFC 2047-encoded).
    reparsed = AnymailInboundMessage.parse_raw_mime_bytes(msg.as_bytes())
    assert b"=?utf-8?" in msg.as_bytes()
    for name in ("from_email", "to", "subject", "text", "html"):
        assert getattr(reparsed, name) == getattr(msg, name), name
    assert [part.get_filename() for part in reparsed.attachments] == ["Résumé .pdf", "notes.txt"]


def test_construct_minimal() -> None:
    text_only = AnymailInboundMessage.construct(text="hello")
    assert text_only.get_content_type() == "text/plain"
    assert (text_only.text, text_only.html, text_only.attachments) == ("hello", None, [])
    empty = AnymailInboundMessage.construct(headers=[("Subject", "nothing")])
    assert (empty.subject, empty.text) == ("nothing", "")
    html_and_file = AnymailInboundMessage.construct(
        html="<p>x</p>",
        attachments=[AnymailInboundMessage.construct_attachment(None, b"data")],
    )
    assert [part.get_content_type() for part in html_and_file.walk()] == [
        "multipart/mixed",
        "text/html",
        "application/octet-stream",
    ]
    assert html_and_file.attachments[0].get_filename() is None


def test_construct_text_in_a_charset_that_cannot_hold_it() -> None:
    msg = AnymailInboundMessage.construct(text="Grüße €", text_charset="iso-8859-1")
    assert msg.text == "Grüße €"


def test_construct_attachment_from_uploaded_files(small_spool: None) -> None:
    small = SimpleUploadedFile("small.txt", b"hello", content_type="text/plain")
    small.charset = "utf-8"
    large_content = bytes(range(256)) * 1000
    large = TemporaryUploadedFile("large.bin", "application/octet-stream", len(large_content), None)
    large.write(large_content)
    parts = [
        AnymailInboundMessage.construct_attachment_from_uploaded_file(small),
        AnymailInboundMessage.construct_attachment_from_uploaded_file(large, content_id="big"),
    ]
    large.close()
    msg = AnymailInboundMessage.construct(text="see files", attachments=parts)
    [attachment] = msg.attachments
    assert attachment.get_filename() == "small.txt"
    assert attachment.get_content_text() == "hello"
    assert attachment.get_content_charset() == "utf-8"
    assert msg.content_id_map["big"].get_content_bytes() == large_content
    assert msg.content_id_map["big"].get_filename() == "large.bin"
    reparsed = AnymailInboundMessage.parse_raw_mime_bytes(msg.as_bytes())
    assert reparsed.inlines[0].get_content_bytes() == large_content
