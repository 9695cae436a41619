"""Amazon SES backend: the exact SES v2 calls boto3 makes, and how their results are read.

Four ways of watching the backend, none of which leaves the machine:

- ``ses_wire``: a botocore ``before-send`` hook records the signed HTTP request
  botocore would send and answers it (real request and response handling);
- ``ses_stub``: botocore's ``Stubber`` checks the call's parameters against the
  real service model and returns canned results (used for template sends);
- ``mock_session``: boto3's Session replaced by a mock (client construction);
- moto's ``mock_aws``: an emulated SES for full round trips of raw sends.
"""

from __future__ import annotations

import base64
import email
import email.policy
import functools
import importlib
import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import MIMEPart
from email.mime.nonmultipart import MIMENonMultipart
from typing import Any
from unittest import mock

import boto3
import botocore.endpoint
import django
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.stub import Stubber
from django.core.mail import get_connection
from django.views.debug import ExceptionReporter
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from anymail import __version__
from anymail.backends import amazon_ses
from anymail.backends.amazon_ses import EmailBackend
from anymail.exceptions import (
    AnymailAPIError,
    AnymailDeprecationWarning,
    AnymailError,
    AnymailImproperlyConfigured,
    AnymailImproperlyInstalled,
    AnymailInvalidAddress,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailMessage, AnymailRecipientStatus
from tests.aws_environment import AWS_ENVIRONMENT_TO_CLEAR as ENVIRONMENT_TO_CLEAR
from tests.aws_environment import AWS_TEST_ENVIRONMENT as EMULATED_ENVIRONMENT
from tests.backends.support import assert_display_names_recipients, display_names_message
from tests.utils import PNG, fixture_json, make_message, requires_mailers, without_boto3

REGION = "us-east-1"
SEND_URL = f"https://email.{REGION}.amazonaws.com/v2/email/outbound-emails"
BULK_URL = f"https://email.{REGION}.amazonaws.com/v2/email/outbound-bulk-emails"
USER_AGENT = f"django-anymail/{__version__}-amazon-ses"
SIGNATURE_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=testing/\d{8}/us-east-1/ses/aws4_request, "
    r"SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}"
)

#: The contract suite's dummy credentials, region and hermetic environment, but
#: without a session token (these tests check the exact signed request).
AWS_TEST_ENVIRONMENT = {
    name: value for name, value in EMULATED_ENVIRONMENT.items() if name != "AWS_SESSION_TOKEN"
}
AWS_ENVIRONMENT_TO_CLEAR = (*ENVIRONMENT_TO_CLEAR, "AWS_SESSION_TOKEN")


def _no_network(sock: socket.socket, address: Any) -> None:
    raise AssertionError(f"A test tried to connect to {address!r}")


fixture = functools.partial(fixture_json, "amazon_ses")


def boto_response(name: str) -> dict[str, Any]:
    """A fixture as boto3 returns it (without the fixture's own notes)."""
    return {k: v for k, v in fixture(name).items() if not k.startswith("_")}


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, settings: Any) -> list[float]:
    for name, value in AWS_TEST_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    for name in AWS_ENVIRONMENT_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    # And in case anything slipped through: no socket may connect anywhere.
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    settings.ANYMAIL = {}
    # botocore's retries wait between attempts: record the waits instead.
    sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", sleeps.append)
    return sleeps


# --- the wire: botocore's own request, answered locally --------------------------------


class _Body:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.content


class SESWire:
    """Records each HTTP request botocore makes and answers it (default: success)."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.answers: list[Any] = []

    def add(self, status: int = 200, body: Any = None, headers: Any = None) -> None:
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.answers.append((status, headers or {"content-type": "application/json"}, body))

    def add_exception(self, error: Exception) -> None:
        self.answers.append(error)

    def handle(self, request: Any, **kwargs: Any) -> AWSResponse:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else self.success(request)
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        return AWSResponse(request.url, status, headers, _Body(body))

    @staticmethod
    def success(request: Any) -> tuple[int, dict[str, str], bytes]:
        data = json.loads(request.body)
        if "BulkEmailEntries" in data:
            answer: dict[str, Any] = {
                "BulkEmailEntryResults": [
                    {"Status": "SUCCESS", "MessageId": f"bulk-message-id-{index}"}
                    for index, _entry in enumerate(data["BulkEmailEntries"])
                ]
            }
        else:
            answer = {"MessageId": "0100019a8c3e5f21-6b1d2c4e-8f3a-4d7b-9c2e-5a1f3b7d9e01-000000"}
        return 200, {"content-type": "application/json"}, json.dumps(answer).encode()

    # --- what was sent ---

    @property
    def request(self) -> Any:
        assert len(self.requests) == 1
        return self.requests[0]

    def json(self, index: int = 0) -> Any:
        return json.loads(self.requests[index].body)

    def raw_data(self, index: int = 0) -> bytes:
        return base64.b64decode(self.json(index)["Content"]["Raw"]["Data"])

    def mime(self, index: int = 0) -> Any:
        return email.message_from_bytes(self.raw_data(index), policy=email.policy.default)


@pytest.fixture
def ses_wire(monkeypatch: pytest.MonkeyPatch) -> SESWire:
    wire = SESWire()
    create_client = EmailBackend.create_client

    def create_hooked_client(self: EmailBackend) -> Any:
        client = create_client(self)
        client.meta.events.register("before-send.sesv2", wire.handle)
        return client

    monkeypatch.setattr(EmailBackend, "create_client", create_hooked_client)
    return wire


@pytest.fixture
def ses_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.session.Session().client("sesv2")
    stubber = Stubber(client)
    monkeypatch.setattr(EmailBackend, "create_client", lambda self: client)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def mock_session() -> Iterator[mock.MagicMock]:
    with mock.patch("anymail.backends.amazon_ses.boto3.session.Session", autospec=True) as session:
        client = session.return_value.client.return_value
        client.send_email.return_value = boto_response("send_email_success.json")
        yield session


def mock_client(session: mock.MagicMock) -> mock.MagicMock:
    return session.return_value.client.return_value


def send(message: Any, **backend_kwargs: Any) -> int:
    return EmailBackend(**backend_kwargs).send_messages([message])


def eight_bit_part(content_type: str, data: bytes, filename: str) -> Any:
    """An attachment Django passes through as it is, with an 8-bit body."""
    if django.VERSION >= (6, 0):
        part: Any = MIMEPart()  # Django 6 deprecates email.mime attachments
        part.set_type(content_type)
    else:
        part = MIMENonMultipart(*content_type.split("/"))
    if content_type.startswith("text/"):
        part.set_param("charset", "iso-8859-1")
    part.set_payload(data.decode("ascii", "surrogateescape"))
    part["Content-Transfer-Encoding"] = "8bit"
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def without_data(params: dict[str, Any]) -> dict[str, Any]:
    """The send_email JSON with the (separately checked) raw MIME replaced."""
    result = json.loads(json.dumps(params))
    result["Content"]["Raw"]["Data"] = "..."
    return result


# --- raw sends (send_email) ------------------------------------------------------------


def test_plain_message_whole_request(ses_wire: SESWire) -> None:
    message = make_message(
        headers={"Date": "Sat, 21 Nov 2026 09:30:10 -0000", "Message-ID": "<plain@example.com>"}
    )
    assert send(message) == 1

    request = ses_wire.request
    assert request.method == "POST"
    assert request.url == SEND_URL
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["content-type"] == b"application/json"
    assert SIGNATURE_RE.fullmatch(headers["authorization"].decode())
    assert headers["user-agent"].decode().endswith(USER_AGENT)
    if django.VERSION >= (6, 0):
        headers_part = (
            b'Content-Type: text/plain; charset="utf-8"\r\n'
            b"Content-Transfer-Encoding: 7bit\r\nMIME-Version: 1.0\r\n"
        )
        ending = b"Body text of the message\r\n"
    else:
        headers_part = (
            b'Content-Type: text/plain; charset="utf-8"\r\n'
            b"MIME-Version: 1.0\r\nContent-Transfer-Encoding: 7bit\r\n"
        )
        ending = b"Body text of the message"
    mime = (
        headers_part + b"Subject: Subject line\r\nFrom: from@example.com\r\nTo: to@example.com\r\n"
        b"Date: Sat, 21 Nov 2026 09:30:10 -0000\r\nMessage-ID: <plain@example.com>\r\n"
        b"\r\n" + ending
    )
    assert json.loads(request.body) == {
        "Destination": {"ToAddresses": ["to@example.com"]},
        "Content": {"Raw": {"Data": base64.b64encode(mime).decode()}},
    }
    assert message.anymail_status.status == {"queued"}
    assert message.anymail_status.message_id == (
        "0100019a8c3e5f21-6b1d2c4e-8f3a-4d7b-9c2e-5a1f3b7d9e01-000000"
    )


def test_fixture_raw_send(ses_wire: SESWire, settings: Any) -> None:
    """The send recorded in send_request_raw.json, made through Anymail."""
    expected = fixture("send_request_raw.json")
    settings.ANYMAIL = {"AMAZON_SES_CONFIGURATION_SET_NAME": "TrackingConfigSet"}
    message = AnymailMessage(
        subject="Your receipt for order 12345",
        body="Thanks for your order \u2014 total \u20ac42.00",
        from_email="Shop <orders@example.com>",
        to=["alice@example.org", "Bob <bob@example.org>"],
        cc=["accounts@example.net"],
        bcc=["archive@example.com"],
        reply_to=["Support <support@example.com>"],
        envelope_sender="bounces@example.com",
        metadata={"order_id": 12345, "user": "u-17"},
        tags=["receipt", "Cohort 11/2026"],
        esp_extra={"EmailTags": [{"Name": "Campaign", "Value": "receipt"}]},
    )
    message.attach_alternative("<p>Thanks for your order \u2014 total \u20ac42.00</p>", "text/html")
    assert send(message) == 1

    request = ses_wire.request
    assert (request.method, request.url) == (expected["wire"]["method"], expected["wire"]["url"])
    assert request.headers["Content-Type"] == expected["wire"]["content_type"].encode()
    assert without_data(ses_wire.json()) == without_data(expected["wire"]["body"])

    sent = ses_wire.mime()
    recorded = email.message_from_bytes(
        base64.b64decode(expected["wire"]["body"]["Content"]["Raw"]["Data"]),
        policy=email.policy.default,
    )
    for header in ("Subject", "From", "To", "Cc", "Reply-To", "X-Metadata"):
        assert sent[header] == recorded[header], header
    assert sent.get_all("X-Tag") == recorded.get_all("X-Tag") == ["receipt", "Cohort 11/2026"]
    assert sent["Bcc"] is None
    for kind in ("plain", "html"):
        sent_part = sent.get_body((kind,))
        recorded_part = recorded.get_body((kind,))
        assert sent_part["Content-Transfer-Encoding"] == "quoted-printable"
        assert sent_part.get_content().strip() == recorded_part.get_content().strip()


def test_every_raw_feature(ses_wire: SESWire, settings: Any) -> None:
    settings.ANYMAIL = {
        "AMAZON_SES_CONFIGURATION_SET_NAME": "TrackingConfigSet",
        "AMAZON_SES_MESSAGE_TAG_NAME": "Type",
    }
    message = display_names_message(
        subject="Grüße ✓",
        body="Text body — €",
        headers={"X-Custom": "välue", "To": "Shown Instead <shown@example.com>"},
        envelope_sender="Bounces <bounces@exämple.com>",
        metadata={"user": "u-17", "note": "ünïcode"},
        tags=["Receipt"],
        track_opens=True,
        track_clicks=False,
        esp_extra={"FromEmailAddressIdentityArn": "arn:aws:ses:us-east-1:123:identity/x.com"},
    )
    message.attach_alternative("<p>HTML body — €</p>", "text/html")
    message.attach_alternative("<!doctype html><html ⚡4email></html>", "text/x-amp-html")
    message.attach("résumé.txt", "Tëxt attachment", "text/plain")
    message.attach("data.bin", b"\x00\x01\xfe\xff", "application/octet-stream")
    cid = message.attach_inline_image(PNG, "logo.png")
    assert send(message) == 1

    assert without_data(ses_wire.json()) == {
        "Destination": {
            "ToAddresses": ["to@example.com", "jo@example.com", "zoe@xn--exmple-cua.com"],
            "CcAddresses": ["cc@example.com"],
            "BccAddresses": ["bcc@example.com"],
        },
        "Content": {"Raw": {"Data": "..."}},
        "FeedbackForwardingEmailAddress": "bounces@xn--exmple-cua.com",
        "EmailTags": [{"Name": "Type", "Value": "Receipt"}],
        "ConfigurationOverrides": {
            "Tracking": {"OpenTrackingEnabled": "ENABLED", "ClickTrackingEnabled": "DISABLED"}
        },
        "ConfigurationSetName": "TrackingConfigSet",
        "FromEmailAddressIdentityArn": "arn:aws:ses:us-east-1:123:identity/x.com",
    }

    data = ses_wire.raw_data()
    assert data.isascii()  # 7-bit clean, headers and bodies
    assert b"\r\n" in data and re.search(rb"[^\r]\n", data) is None
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    sent = ses_wire.mime()
    assert sent["Subject"] == "Grüße ✓"
    assert sent["From"] == '"Müller, Jörg" <from@xn--bcher-kva.example>'
    assert sent["To"] == "Shown Instead <shown@example.com>"  # the spoofed To header
    assert sent["Cc"] == '"Ana (García)" <cc@example.com>'
    assert sent["Reply-To"] == '"Müller, Jörg" <reply@example.com>'
    assert sent["Bcc"] is None
    assert sent["X-Custom"] == "välue"
    assert json.loads(sent["X-Metadata"]) == {"user": "u-17", "note": "ünïcode"}
    assert sent.get_all("X-Tag") == ["Receipt"]

    assert sent.get_body(("plain",)).get_content().strip() == "Text body — €"
    assert sent.get_body(("html",)).get_content().strip() == "<p>HTML body — €</p>"
    parts = {part.get_content_type(): part for part in sent.walk() if not part.is_multipart()}
    assert parts["text/x-amp-html"].get_content().startswith("<!doctype html><html ⚡4email>")
    image = parts["image/png"]
    assert image["Content-ID"] == f"<{cid}>"
    assert image.get_content() == PNG
    attachments = {part.get_filename(): part for part in sent.iter_attachments()}
    assert attachments["résumé.txt"].get_content().strip() == "Tëxt attachment"
    assert attachments["data.bin"].get_content() == b"\x00\x01\xfe\xff"
    for part in sent.walk():
        if not part.is_multipart():
            assert part["Content-Transfer-Encoding"] in ("7bit", "quoted-printable", "base64")

    assert_display_names_recipients(message)
    assert message.anymail_status.status == {"queued"}


def test_header_domains_use_the_envelope_idna_encoding(ses_wire: SESWire) -> None:
    """IDNA 2008 with UTS #46 in the MIME headers, as in Destination ("ß" stays "ß")."""
    message = make_message(
        from_email="Jörg <from@faß.example>",
        to=["to@faß.example", "Two <two@example.com>"],
        cc=["cc@bücher.example"],
        reply_to=["reply@faß.example"],
        headers={
            "Sender": "sender@faß.example",
            "Resent-To": "Zoë <resent@faß.example>",
            "X-Note": "faß.example",  # not an address header: left as text
        },
    )
    assert send(message) == 1

    assert ses_wire.json()["Destination"] == {
        "ToAddresses": ["to@xn--fa-hia.example", "two@example.com"],
        "CcAddresses": ["cc@xn--bcher-kva.example"],
    }
    lines = ses_wire.raw_data().split(b"\r\n\r\n")[0].split(b"\r\n")
    headers = {line.split(b":")[0]: line for line in lines if not line.startswith(b" ")}
    # (Django 5.2 and 6.1 encode display names differently: "b" or "q" encoded-words.)
    assert re.fullmatch(
        rb"From: =\?utf-8\?[bq]\?\S+\?= <from@xn--fa-hia\.example>", headers[b"From"]
    )
    assert headers[b"To"] == b"To: to@xn--fa-hia.example, Two <two@example.com>"
    assert headers[b"Cc"] == b"Cc: cc@xn--bcher-kva.example"
    assert headers[b"Reply-To"] == b"Reply-To: reply@xn--fa-hia.example"
    assert headers[b"Sender"] == b"Sender: sender@xn--fa-hia.example"
    assert re.fullmatch(
        rb"Resent-To: =\?utf-8\?[bq]\?\S+\?= <resent@xn--fa-hia\.example>", headers[b"Resent-To"]
    )
    sent = ses_wire.mime()
    assert (sent["From"], sent["Resent-To"]) == (
        "Jörg <from@xn--fa-hia.example>",
        "Zoë <resent@xn--fa-hia.example>",
    )
    assert sent["X-Note"] == "faß.example"
    assert b"fass.example" not in ses_wire.raw_data()
    # The caller's message is left as it was.
    assert message.to == ["to@faß.example", "Two <two@example.com>"]
    assert message.extra_headers["Sender"] == "sender@faß.example"


@pytest.mark.parametrize("header", ["Sender", "Resent-Cc"])
def test_header_domain_that_cannot_be_encoded(ses_wire: SESWire, header: str) -> None:
    # IDNA 2008 and IDNA 2003 both refuse a label longer than 63 characters.
    message = make_message(headers={header: "x@" + "ä" * 60 + ".example"})
    with pytest.raises(
        AnymailInvalidAddress,
        match=rf"^Invalid email address domain '(ä){{60}}\.example' .*: Label too long\. "
        rf"Check the address for typos\. \(in {header} header\)$",
    ):
        send(message)
    assert ses_wire.requests == []


def test_8bit_parts_are_reencoded(ses_wire: SESWire) -> None:
    """Non-UTF-8 text and 8-bit binary parts become quoted-printable or base64."""
    message = make_message(body="Plain ASCII")
    message.attach(eight_bit_part("text/plain", "Café crème\n".encode("latin-1"), "latin1.txt"))
    message.attach(eight_bit_part("application/x-thing", b"\x80\x81\r\n\xff", "thing.bin"))
    assert send(message) == 1

    assert ses_wire.raw_data().isascii()
    attachments = {part.get_filename(): part for part in ses_wire.mime().iter_attachments()}
    text = attachments["latin1.txt"]
    assert text["Content-Transfer-Encoding"] == "quoted-printable"
    # (Text line breaks are sent as CRLF, the canonical form.)
    assert text.get_payload(decode=True) == "Café crème\r\n".encode("latin-1")
    assert text.get_content().splitlines() == ["Café crème"]
    thing = attachments["thing.bin"]
    assert thing["Content-Transfer-Encoding"] == "base64"
    assert thing.get_payload(decode=True) == b"\x80\x81\r\n\xff"


def test_forwarded_message_attachment_is_7bit(ses_wire: SESWire) -> None:
    forwarded = make_message(subject="Inner", body="Ïnner bödy").message()
    message = make_message()
    message.attach("forwarded.eml", forwarded, "message/rfc822")
    assert send(message) == 1
    assert ses_wire.raw_data().isascii()
    (attachment,) = ses_wire.mime().iter_attachments()
    assert attachment.get_content_type() == "message/rfc822"
    assert attachment.get("Content-Transfer-Encoding", "7bit") == "7bit"
    assert attachment.get_content().get_content().strip() == "Ïnner bödy"


def test_metadata_is_one_ascii_header(ses_wire: SESWire) -> None:
    # (Line breaks in metadata never get this far: the contract suite checks
    # that every backend refuses them.)
    metadata = {"quote": 'say "hi"', "ünï": "cödé"}
    message = make_message(metadata=metadata)
    assert send(message) == 1
    sent = ses_wire.mime()
    assert sent.get_all("X-Metadata") is not None and len(sent.get_all("X-Metadata")) == 1
    assert json.loads(sent["X-Metadata"]) == metadata
    assert ses_wire.raw_data().isascii()


def test_tags_as_headers(ses_wire: SESWire) -> None:
    message = make_message(tags=["Receipt", "Cöhort 11/2026", "receipt"])
    assert send(message) == 1
    assert ses_wire.mime().get_all("X-Tag") == ["Receipt", "Cöhort 11/2026", "receipt"]
    assert "EmailTags" not in ses_wire.json()  # no message tags without the setting


def test_message_tag_name_setting(ses_wire: SESWire, settings: Any) -> None:
    settings.ANYMAIL = {"AMAZON_SES_MESSAGE_TAG_NAME": "Campaign"}
    assert send(make_message(tags=["spring-sale_2026"])) == 1
    assert ses_wire.json()["EmailTags"] == [{"Name": "Campaign", "Value": "spring-sale_2026"}]

    with pytest.raises(
        AnymailUnsupportedFeature,
        match=r"^Amazon SES does not support multiple tags with the "
        r"AMAZON_SES_MESSAGE_TAG_NAME setting\.",
    ):
        send(make_message(tags=["one", "two"]))
    with pytest.raises(AnymailUnsupportedFeature, match="as an SES message tag"):
        send(make_message(tags=["not allowed!"]))
    assert len(ses_wire.requests) == 1

    # Ignoring: the first tag is the message tag; every tag is still an X-Tag header.
    assert send(make_message(tags=["one", "two"]), ignore_unsupported_features=True)
    assert ses_wire.json(1)["EmailTags"] == [{"Name": "Campaign", "Value": "one"}]
    assert ses_wire.mime(1).get_all("X-Tag") == ["one", "two"]
    assert send(make_message(tags=["not allowed!"]), ignore_unsupported_features=True)
    assert "EmailTags" not in ses_wire.json(2)
    assert ses_wire.mime(2).get_all("X-Tag") == ["not allowed!"]


@pytest.mark.parametrize("name", ["has space", "", "x" * 257, 42])
def test_invalid_message_tag_name_setting(settings: Any, name: Any) -> None:
    settings.ANYMAIL = {"AMAZON_SES_MESSAGE_TAG_NAME": name}
    with pytest.raises(AnymailImproperlyConfigured, match="AMAZON_SES_MESSAGE_TAG_NAME"):
        EmailBackend()


def test_envelope_sender_from_header_semantics(ses_wire: SESWire) -> None:
    """A From header shows in the MIME; from_email becomes the envelope (feedback) address."""
    message = make_message(
        from_email="Real Sender <sender@example.com>", headers={"From": "Shown <shown@example.com>"}
    )
    assert send(message) == 1
    assert ses_wire.json()["FeedbackForwardingEmailAddress"] == "sender@example.com"
    assert ses_wire.mime()["From"] == "Shown <shown@example.com>"


def test_multiple_from_addresses(ses_wire: SESWire) -> None:
    message = make_message(headers={"From": "one@example.com, Two <two@example.com>"})
    with pytest.raises(
        AnymailUnsupportedFeature, match=r"^Amazon SES does not support multiple from addresses"
    ):
        send(message)
    assert ses_wire.requests == []
    assert send(message, ignore_unsupported_features=True) == 1
    assert ses_wire.mime()["From"] == "one@example.com"


def test_subject_none(ses_wire: SESWire) -> None:
    message = make_message()
    message.subject = None
    assert send(message) == 1
    assert "Subject" not in ses_wire.mime()


def test_from_email_none_needs_a_template(ses_wire: SESWire) -> None:
    message = make_message()
    message.from_email = None
    with pytest.raises(AnymailError, match="Amazon SES needs a from_email for messages without"):
        send(message, fail_silently=True)  # a mistake in the message, not a failed delivery
    assert ses_wire.requests == []


@pytest.mark.skipif(django.VERSION >= (6, 0), reason="Django 6 refuses a Bcc header itself")
def test_bcc_header_never_reaches_the_mime(ses_wire: SESWire) -> None:
    message = make_message(headers={"Bcc": "hidden@example.com"}, bcc=["bcc@example.com"])
    assert send(message) == 1
    assert b"hidden@example.com" not in ses_wire.raw_data()
    assert b"bcc@example.com" not in ses_wire.raw_data()
    assert ses_wire.json()["Destination"]["BccAddresses"] == ["bcc@example.com"]


@pytest.mark.parametrize(
    ("setup", "feature"),
    [
        (lambda m: setattr(m, "merge_data", {}), "merge_data without template_id"),
        (
            lambda m: setattr(m, "merge_global_data", {"a": 1}),
            "merge_global_data without template_id",
        ),
        (lambda m: setattr(m, "merge_metadata", {}), "merge_metadata without template_id"),
        (lambda m: setattr(m, "merge_headers", {}), "merge_headers without template_id"),
    ],
)
def test_unsupported_features(ses_wire: SESWire, setup: Any, feature: str) -> None:
    message = make_message()
    setup(message)
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        send(message)
    assert str(excinfo.value).startswith(f"Amazon SES does not support {feature}.")
    assert ses_wire.requests == []


def test_ignored_merge_features_with_several_to_are_refused(ses_wire: SESWire) -> None:
    # A raw send is one message: it would show each "to" to the others.
    message = make_message(
        to=["a@example.com", "b@example.com"], merge_data={"a@example.com": {"x": 1}}
    )
    with pytest.raises(AnymailUnsupportedFeature, match="show every recipient to the others"):
        send(message, ignore_unsupported_features=True)
    assert ses_wire.requests == []


def test_ignored_merge_features_send_one_raw_message(ses_wire: SESWire) -> None:
    message = make_message(
        to=["a@example.com"],
        cc=["b@example.com"],
        merge_data={"a@example.com": {"x": 1}},
        merge_global_data={"y": 2},
        merge_metadata={"a@example.com": {"z": 3}},
        merge_headers={"a@example.com": {"X-Z": "3"}},
        send_at=datetime(2030, 1, 2, tzinfo=UTC),
    )
    assert send(message, ignore_unsupported_features=True) == 1
    assert ses_wire.json()["Destination"] == {
        "ToAddresses": ["a@example.com"],
        "CcAddresses": ["b@example.com"],
    }
    assert ses_wire.mime()["X-Metadata"] is None


@pytest.mark.parametrize("attr", ["from_email", "bcc", "subject", "headers", "attachments"])
def test_send_defaults_for_standard_attributes(ses_wire: SESWire, settings: Any, attr: str) -> None:
    default = {
        "from_email": "default@example.com",
        "bcc": ["audit@example.com"],
        "subject": "Default subject",
        "headers": {"X-Default": "yes"},
        "attachments": [("default.txt", "text", "text/plain")],
    }[attr]
    settings.ANYMAIL = {"AMAZON_SES_SEND_DEFAULTS": {attr: default, "tags": ["default-tag"]}}
    with pytest.raises(
        AnymailUnsupportedFeature,
        match=f"^Amazon SES does not support Anymail send defaults for the standard "
        f"EmailMessage attribute '{attr}'",
    ):
        send(make_message(subject=""))
    assert ses_wire.requests == []

    # Ignoring: the message is sent as it is, with the Anymail-attribute defaults only.
    assert send(make_message(subject=""), ignore_unsupported_features=True) == 1
    assert ses_wire.json()["Destination"] == {"ToAddresses": ["to@example.com"]}
    sent = ses_wire.mime()
    assert sent["From"] == "from@example.com"
    assert sent["Subject"] == ""
    assert sent["X-Default"] is None
    assert list(sent.iter_attachments()) == []
    assert sent.get_all("X-Tag") == ["default-tag"]


def test_esp_send_defaults(ses_wire: SESWire, settings: Any) -> None:
    settings.ANYMAIL = {
        "SEND_DEFAULTS": {"metadata": {"site": "global"}, "tags": ["global"]},
        "AMAZON_SES_SEND_DEFAULTS": {
            "metadata": {"site": "ses"},
            "esp_extra": {"ConfigurationSetName": "FromDefaults"},
        },
    }
    assert send(make_message(metadata={"user": "u-1"})) == 1
    body = ses_wire.json()
    assert body["ConfigurationSetName"] == "FromDefaults"
    sent = ses_wire.mime()
    assert json.loads(sent["X-Metadata"]) == {"site": "ses", "user": "u-1"}
    assert sent.get_all("X-Tag") == ["global"]


def test_esp_extra_is_a_shallow_update(ses_wire: SESWire, settings: Any) -> None:
    settings.ANYMAIL = {
        "AMAZON_SES_CONFIGURATION_SET_NAME": "FromSettings",
        "AMAZON_SES_MESSAGE_TAG_NAME": "Type",
    }
    message = make_message(
        tags=["receipt"],
        track_opens=True,
        esp_extra={
            "ConfigurationSetName": "FromEspExtra",
            "EmailTags": [{"Name": "UserID", "Value": "u-17"}],
            "ConfigurationOverrides": {"Tracking": {"ClickTrackingEnabled": "DISABLED"}},
            "ListManagementOptions": {"ContactListName": "News", "TopicName": "Weekly"},
        },
    )
    assert send(message) == 1
    assert without_data(ses_wire.json()) == {
        "Destination": {"ToAddresses": ["to@example.com"]},
        "Content": {"Raw": {"Data": "..."}},
        "EmailTags": [{"Name": "UserID", "Value": "u-17"}],
        "ConfigurationOverrides": {"Tracking": {"ClickTrackingEnabled": "DISABLED"}},
        "ConfigurationSetName": "FromEspExtra",
        "ListManagementOptions": {"ContactListName": "News", "TopicName": "Weekly"},
    }


def test_esp_extra_v1_parameter_names(ses_wire: SESWire) -> None:
    """The 6.0 manual's esp_extra names (SES v1) still work, with a deprecation warning."""
    arn = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
    message = make_message(
        esp_extra={"SourceArn": arn, "Tags": [{"Name": "UserID", "Value": "u-17"}]}
    )
    with pytest.warns(AnymailDeprecationWarning) as warned:
        assert send(message) == 1
    assert sorted(str(warning.message) for warning in warned) == [
        "Amazon SES esp_extra 'SourceArn' is a v1 API parameter: use "
        "'FromEmailAddressIdentityArn' (Anymail now calls the SES v2 send_email API).",
        "Amazon SES esp_extra 'Tags' is a v1 API parameter: use 'EmailTags' "
        "(Anymail now calls the SES v2 send_email API).",
    ]
    body = ses_wire.json()
    assert body["FromEmailAddressIdentityArn"] == arn
    assert body["EmailTags"] == [{"Name": "UserID", "Value": "u-17"}]
    assert "SourceArn" not in body and "Tags" not in body


def test_unknown_esp_extra_parameter(ses_wire: SESWire) -> None:
    with pytest.raises(AnymailAPIError, match='Unknown parameter in input: "Bogus"') as excinfo:
        send(make_message(esp_extra={"Bogus": 1}))
    assert excinfo.value.status_code is None
    assert ses_wire.requests == []  # botocore refused it before sending


def test_tracking_needs_a_recent_botocore(
    ses_wire: SESWire, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(amazon_ses, "_model_has", lambda client, shape, member: False)
    with pytest.raises(
        AnymailUnsupportedFeature,
        match=r"track_opens / track_clicks with this boto3 version \(needs botocore 1\.43\.76",
    ):
        send(make_message(track_clicks=True))
    assert send(make_message(track_clicks=True), ignore_unsupported_features=True) == 1
    assert "ConfigurationOverrides" not in ses_wire.json()


def test_service_model_probe() -> None:
    client = boto3.session.Session().client("sesv2")
    assert amazon_ses._model_has(client, "SendEmailRequest", "ConfigurationOverrides")
    assert amazon_ses._model_has(client, "BulkEmailEntry", "ReplacementHeaders")
    assert not amazon_ses._model_has(client, "BulkEmailEntry", "NoSuchMember")
    assert not amazon_ses._model_has(client, "NoSuchShape", "ReplacementHeaders")


# --- responses and errors --------------------------------------------------------------


def test_send_email_result(mock_session: mock.MagicMock) -> None:
    message = make_message(
        to=["To <to@example.com>"], cc=["cc@example.com"], bcc=["bcc@example.com"]
    )
    assert send(message) == 1
    message_id = "0100019a8c3e5f21-6b1d2c4e-8f3a-4d7b-9c2e-5a1f3b7d9e01-000000"
    queued = AnymailRecipientStatus(message_id=message_id, status="queued")
    assert message.anymail_status.recipients == {
        "to@example.com": queued,
        "cc@example.com": queued,
        "bcc@example.com": queued,
    }
    assert message.anymail_status.message_id == message_id
    assert message.anymail_status.esp_response == boto_response("send_email_success.json")


def test_send_email_result_without_message_id(mock_session: mock.MagicMock) -> None:
    odd = {"ResponseMetadata": {"HTTPStatusCode": 200}}
    mock_client(mock_session).send_email.return_value = odd
    message = make_message()
    with pytest.raises(AnymailAPIError, match="parsing Amazon SES send result"):
        send(message)
    assert message.anymail_status.status is None
    assert message.anymail_status.esp_response == odd


def test_non_json_success_body(ses_wire: SESWire) -> None:
    ses_wire.add(200, "<html>Not JSON</html>", {"content-type": "text/html"})
    message = make_message()
    with pytest.raises(AnymailAPIError, match="parsing Amazon SES send result"):
        send(message)
    assert message.anymail_status.status is None


@pytest.mark.parametrize(
    "name",
    [
        "send_error_message_rejected.json",
        "send_error_access_denied.json",
        "send_error_not_found.json",
        "send_error_too_many_requests.json",
    ],
)
def test_error_responses(ses_wire: SESWire, aws_environment: list[float], name: str) -> None:
    error = fixture(name)
    response = error["response"]
    metadata = response["ResponseMetadata"]
    attempts = metadata["RetryAttempts"] + 1  # botocore retries throttling itself
    for _attempt in range(attempts):
        ses_wire.add(
            metadata["HTTPStatusCode"],
            {"message": response["Error"]["Message"]},
            metadata["HTTPHeaders"],
        )
    message = make_message()
    with pytest.raises(AnymailAPIError) as excinfo:
        send(message)
    err = excinfo.value
    assert str(err).startswith(f"Amazon SES API error: {error['str']}")
    assert response["Error"]["Code"] in str(err)
    assert err.status_code == metadata["HTTPStatusCode"]
    assert err.response == response
    # Not chained: botocore's error quotes SES's answer, which can echo a credential.
    assert err.__cause__ is None and err.__context__ is None
    assert len(ses_wire.requests) == attempts
    assert len(aws_environment) == attempts - 1  # backoff waits between attempts
    assert message.anymail_status.status is None
    assert message.anymail_status.recipients == {}


def test_throttling_keeps_response_details(ses_wire: SESWire) -> None:
    response = fixture("send_error_too_many_requests.json")["response"]
    for _attempt in range(3):
        ses_wire.add(
            429,
            {"message": "Maximum sending rate exceeded."},
            {
                "x-amzn-errortype": "TooManyRequestsException",
                "x-amzn-requestid": "b2f4c6d8-0a1c-4e3f-9a5b-7c9d1e3f5a70",
            },
        )
    with pytest.raises(AnymailAPIError) as excinfo:
        send(make_message())
    err = excinfo.value
    assert err.status_code == 429
    # SES sends no rate-limit headers; what it does send stays reachable.
    assert err.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == (
        "TooManyRequestsException"
    )
    assert err.response["ResponseMetadata"]["MaxAttemptsReached"] is True
    assert err.response["Error"] == response["Error"]


def test_error_fails_silently(ses_wire: SESWire) -> None:
    error = fixture("send_error_message_rejected.json")["response"]
    ses_wire.add(
        400, {"message": error["Error"]["Message"]}, {"x-amzn-errortype": "MessageRejected"}
    )
    message = make_message()
    assert send(message, fail_silently=True) == 0
    assert message.anymail_status.status is None


def test_server_error_with_html_body(ses_wire: SESWire, aws_environment: list[float]) -> None:
    for _attempt in range(3):
        ses_wire.add(502, "<html><h1>Bad Gateway</h1></html>", {"content-type": "text/html"})
    with pytest.raises(AnymailAPIError, match=r"An error occurred \(502\).*Bad Gateway") as e:
        send(make_message())
    assert e.value.status_code == 502
    assert len(ses_wire.requests) == 3


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url=SEND_URL),
        ConnectTimeoutError(endpoint_url=SEND_URL),
        ReadTimeoutError(endpoint_url=SEND_URL),
    ],
    ids=lambda e: type(e).__name__,
)
def test_connection_failures(ses_wire: SESWire, error: Exception) -> None:
    for _attempt in range(3):
        ses_wire.add_exception(error)
    message = make_message()
    with pytest.raises(AnymailAPIError) as excinfo:
        send(message)
    err = excinfo.value
    assert str(err).startswith(
        f"Amazon SES API call send_email failed: {type(error).__name__}: {error}"
    )
    assert err.response is None and err.status_code is None
    assert err.__cause__ is None and err.__context__ is None  # (its frames hold the request)
    assert message.anymail_status.status is None

    for _attempt in range(3):
        ses_wire.add_exception(error)
    assert send(make_message(), fail_silently=True) == 0


def test_no_credentials(ses_wire: SESWire, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(AnymailAPIError, match="NoCredentialsError: Unable to locate credentials"):
        send(make_message())
    assert send(make_message(), fail_silently=True) == 0
    assert ses_wire.requests == []


def test_no_region(ses_wire: SESWire, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(AnymailAPIError, match="NoRegionError: You must specify a region"):
        send(make_message())
    # fail_silently covers failures to make the client, too.
    messages = [make_message(), make_message()]
    assert EmailBackend(fail_silently=True).send_messages(messages) == 0
    assert all(message.anymail_status.status is None for message in messages)


# --- template sends (send_bulk_email) ----------------------------------------------------


def test_template_send_fixture(ses_stub: Stubber, settings: Any) -> None:
    """The template send recorded in send_bulk_email_request.json, made through Anymail."""
    settings.ANYMAIL = {
        "AMAZON_SES_CONFIGURATION_SET_NAME": "TrackingConfigSet",
        "AMAZON_SES_MESSAGE_TAG_NAME": "Campaign",
    }
    result = boto_response("send_bulk_email_success_mixed.json")
    ses_stub.add_response(
        "send_bulk_email", result, fixture("send_bulk_email_request.json")["params"]
    )
    message = AnymailMessage(
        from_email="Shop <orders@example.com>",
        to=["alice@example.org", "罗伯特 <bob@example.org>"],
        cc=["accounts@example.net"],
        reply_to=["Support <support@example.com>"],
        envelope_sender="bounces@example.com",
        template_id="OrderReceipt",
        merge_global_data={"shop": "Example Shop"},
        merge_data={
            "alice@example.org": {"name": "Alice", "order_no": "12345"},
            "bob@example.org": {"name": "Bob", "order_no": "54321"},
        },
        metadata={"batch": "b-9"},
        merge_metadata={"alice@example.org": {"user": "u-17"}, "bob@example.org": {"user": "u-18"}},
        tags=["receipt"],
    )
    assert send(message) == 1
    assert message.anymail_status.recipients == {
        "alice@example.org": AnymailRecipientStatus(
            "0100019a8c41aa01-1d3f5b7d-9f1b-4d3f-a5b7-c9d1f3b5d7e9-000000", "queued"
        ),
        "bob@example.org": AnymailRecipientStatus(None, "failed"),
    }
    assert message.anymail_status.status == {"queued", "failed"}
    assert message.anymail_status.esp_response == result


def test_template_send_whole_request(ses_wire: SESWire) -> None:
    message = make_message(
        subject=None,
        body="",
        from_email="Shop <orders@example.com>",
        to=["Zoë <zoe@example.com>", "bob@example.com"],
        bcc=["audit@exämple.com"],
        template_id="OrderReceipt",
        merge_data={"zoe@example.com": {"name": "Zoë"}},
    )
    assert send(message) == 1
    request = ses_wire.request
    assert (request.method, request.url) == ("POST", BULK_URL)
    assert request.headers["Content-Type"] == b"application/json"
    assert SIGNATURE_RE.fullmatch(request.headers["Authorization"].decode())
    assert ses_wire.json() == {
        "FromEmailAddress": "Shop <orders@example.com>",
        "DefaultContent": {"Template": {"TemplateName": "OrderReceipt"}},
        "BulkEmailEntries": [
            {
                "Destination": {
                    "ToAddresses": ["=?utf-8?q?Zo=C3=AB?= <zoe@example.com>"],
                    "BccAddresses": ["audit@xn--exmple-cua.com"],
                },
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {"ReplacementTemplateData": '{"name": "Zo\\u00eb"}'}
                },
            },
            {
                "Destination": {
                    "ToAddresses": ["bob@example.com"],
                    "BccAddresses": ["audit@xn--exmple-cua.com"],
                },
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {"ReplacementTemplateData": "{}"}
                },
            },
        ],
    }
    assert message.anymail_status.recipients == {
        "zoe@example.com": AnymailRecipientStatus("bulk-message-id-0", "queued"),
        "bob@example.com": AnymailRecipientStatus("bulk-message-id-1", "queued"),
    }
    assert message.anymail_status.message_id == {"bulk-message-id-0", "bulk-message-id-1"}


def bulk_success(count: int, prefix: str = "id") -> dict[str, Any]:
    return {
        "BulkEmailEntryResults": [
            {"Status": "SUCCESS", "MessageId": f"{prefix}-{index}"} for index in range(count)
        ]
    }


#: The bulk entry content of a template message without merge data.
NO_MERGE_DATA = {"ReplacementTemplate": {"ReplacementTemplateData": "{}"}}


def template_request(**entry: Any) -> dict[str, Any]:
    """The send_bulk_email request for template "T" from from@example.com, without merge
    data, in one bulk entry to to@example.com (``entry`` adds to or replaces its keys)."""
    return {
        "FromEmailAddress": "from@example.com",
        "DefaultContent": {"Template": {"TemplateName": "T"}},
        "BulkEmailEntries": [
            {
                "Destination": {"ToAddresses": ["to@example.com"]},
                "ReplacementEmailContent": NO_MERGE_DATA,
                **entry,
            }
        ],
    }


def test_template_long_display_names_stay_on_one_line(ses_stub: Stubber) -> None:
    # The email package folds a long RFC 2047 name over several lines; an SES
    # address parameter gets it on one line, the encoded-words joined by a space.
    name = "Équipe du service client de la société Exemple Internationale"
    encoded = (
        "=?utf-8?q?=C3=89quipe_du_service_client_de_la_soci=C3=A9t=C3=A9_Exemple_Inte?= "
        "=?utf-8?q?rnationale?="
    )
    ses_stub.add_response(
        "send_bulk_email",
        bulk_success(1),
        {
            "FromEmailAddress": f"{encoded} <from@example.com>",
            "ReplyToAddresses": [f"{encoded} <reply@example.com>"],
            "DefaultContent": {"Template": {"TemplateName": "T"}},
            "BulkEmailEntries": [
                {
                    "Destination": {
                        "ToAddresses": [f"{encoded} <to@example.com>"],
                        "CcAddresses": [f"{encoded} <cc@example.com>"],
                    },
                    "ReplacementEmailContent": NO_MERGE_DATA,
                }
            ],
        },
    )
    message = make_message(
        subject="",
        body="",
        from_email=f"{name} <from@example.com>",
        to=[f"{name} <to@example.com>"],
        cc=[f"{name} <cc@example.com>"],
        reply_to=[f"{name} <reply@example.com>"],
        template_id="T",
    )
    assert send(message) == 1


def test_template_with_subject_and_from_none(ses_stub: Stubber) -> None:
    """subject=None and from_email=None, set after construction, leave them to the template
    (and the sender identity to esp_extra)."""
    arn = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
    ses_stub.add_response(
        "send_bulk_email",
        bulk_success(1),
        {
            "DefaultContent": {"Template": {"TemplateName": "Welcome"}},
            "BulkEmailEntries": [
                {
                    "Destination": {"ToAddresses": ["to@example.com"]},
                    "ReplacementEmailContent": NO_MERGE_DATA,
                }
            ],
            "FromEmailAddressIdentityArn": arn,
        },
    )
    message = make_message(template_id="Welcome", esp_extra={"FromEmailAddressIdentityArn": arn})
    message.subject = None
    message.body = None
    message.from_email = None
    assert send(message) == 1
    assert message.anymail_status.status == {"queued"}


def test_template_arn(ses_stub: Stubber) -> None:
    arn = "arn:aws:ses:us-east-1:123456789012:template/Welcome"
    ses_stub.add_response(
        "send_bulk_email",
        bulk_success(1),
        {
            "FromEmailAddress": "from@example.com",
            "DefaultContent": {"Template": {"TemplateArn": arn, "TemplateData": '{"a": 1}'}},
            "BulkEmailEntries": [
                {
                    "Destination": {"ToAddresses": ["to@example.com"]},
                    "ReplacementEmailContent": NO_MERGE_DATA,
                }
            ],
        },
    )
    message = make_message(subject="", body="", template_id=arn, merge_global_data={"a": 1})
    assert send(message) == 1


def test_template_headers_and_merge_headers(ses_stub: Stubber) -> None:
    tags = [{"Name": "X-Tag", "Value": "one"}, {"Name": "X-Tag", "Value": "=?utf-8?q?tw=C3=B6?="}]

    def entry(to: str, *headers: dict[str, str]) -> dict[str, Any]:
        # Every entry has the cc copy, and the message's tags as its last headers.
        return {
            "Destination": {
                "ToAddresses": [to],
                "CcAddresses": ["=?utf-8?b?w4dj?= <cc@example.com>"],
            },
            "ReplacementEmailContent": NO_MERGE_DATA,
            "ReplacementHeaders": [*headers, *tags],
        }

    ses_stub.add_response(
        "send_bulk_email",
        bulk_success(2),
        {
            "FromEmailAddress": "from@example.com",
            "DefaultContent": {"Template": {"TemplateName": "T"}},
            "BulkEmailEntries": [
                entry(
                    "a@example.com",
                    {"Name": "List-Unsubscribe", "Value": "<https://example.com/u/a>"},
                    {"Name": "X-Custom", "Value": "=?utf-8?b?dsOkbHVl?="},
                ),
                entry(
                    "b@example.com",
                    {"Name": "List-Unsubscribe", "Value": "<https://example.com/u/default>"},
                    {"Name": "X-Metadata", "Value": '{"user": "b"}'},
                ),
            ],
        },
    )
    message = make_message(
        subject="",
        to=["a@example.com", "b@example.com"],
        cc=["Çc <cc@example.com>"],
        body="",
        template_id="T",
        headers={"List-Unsubscribe": "<https://example.com/u/default>", "X-Custom": "välue"},
        # Keys match addresses case-insensitively; an empty value leaves the header out.
        merge_headers={
            "A@Example.com": {"list-unsubscribe": "<https://example.com/u/a>"},
            "b@example.com": {"X-Custom": ""},
        },
        merge_metadata={"b@example.com": {"user": "b"}},
        tags=["one", "twö"],
    )
    assert send(message) == 1
    # cc recipients get a copy per entry: they have no status of their own.
    assert set(message.anymail_status.recipients) == {"a@example.com", "b@example.com"}


@pytest.mark.parametrize(
    ("setup", "feature"),
    [
        (lambda m: setattr(m, "subject", "Hi"), "overriding template subject"),
        (lambda m: setattr(m, "body", "Text"), "overriding template body content"),
        (
            lambda m: m.attach_alternative("<p>Hi</p>", "text/html"),
            "overriding template body content",
        ),
        (lambda m: m.attach("a.txt", "text", "text/plain"), "attachments with template"),
        (lambda m: m.attach_inline_image(PNG, "logo.png"), "inline images with template"),
        (
            lambda m: m.extra_headers.update({"To": "Shown <shown@example.com>"}),
            "a To header that differs from the recipients with template_id",
        ),
    ],
)
def test_template_conflicts(ses_stub: Stubber, setup: Any, feature: str) -> None:
    message = make_message(subject="", body="", template_id="T")
    setup(message)
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        send(message)
    assert str(excinfo.value).startswith(f"Amazon SES does not support {feature}.")

    ses_stub.add_response("send_bulk_email", bulk_success(1))
    assert send(message, ignore_unsupported_features=True) == 1


def test_template_header_limits(ses_stub: Stubber) -> None:
    too_long = make_message(subject="", body="", template_id="T", metadata={"x": "y" * 1000})
    with pytest.raises(
        AnymailUnsupportedFeature,
        match=r"a header value longer than 995 characters .* with template_id "
        r"\(header 'X-Metadata'\)",
    ):
        send(too_long)

    many = make_message(
        subject="", body="", template_id="T", headers={f"X-H{i}": "v" for i in range(16)}
    )
    with pytest.raises(AnymailUnsupportedFeature, match="more than 15 headers"):
        send(many)

    bad_name = make_message(subject="", body="", template_id="T", headers={"X Bad Name": "v"})
    with pytest.raises(AnymailUnsupportedFeature, match="a header name that is not"):
        send(bad_name)

    # Ignoring: the headers SES would refuse are left out.
    ses_stub.add_response(
        "send_bulk_email",
        bulk_success(1),
        template_request(ReplacementHeaders=[{"Name": f"X-H{i}", "Value": "v"} for i in range(15)]),
    )
    assert send(many, ignore_unsupported_features=True) == 1


def test_template_without_to_recipients(ses_stub: Stubber) -> None:
    ses_stub.add_response(
        "send_bulk_email",
        bulk_success(1, prefix="cc"),
        template_request(
            Destination={"CcAddresses": ["cc@example.com"], "BccAddresses": ["bcc@example.com"]}
        ),
    )
    message = make_message(
        subject="", body="", to=[], cc=["cc@example.com"], bcc=["bcc@example.com"], template_id="T"
    )
    assert send(message) == 1
    assert message.anymail_status.recipients == {
        "cc@example.com": AnymailRecipientStatus("cc-0", "queued"),
        "bcc@example.com": AnymailRecipientStatus("cc-0", "queued"),
    }


def test_large_template_batches_are_split(ses_stub: Stubber) -> None:
    to = [f"user{i}@example.com" for i in range(120)]
    for count, prefix in ((50, "a"), (50, "b"), (20, "c")):
        ses_stub.add_response("send_bulk_email", bulk_success(count, prefix))
    message = make_message(subject="", body="", to=to, template_id="T", merge_data={})
    assert send(message) == 1
    recipients = message.anymail_status.recipients
    assert len(recipients) == 120
    assert recipients["user0@example.com"] == AnymailRecipientStatus("a-0", "queued")
    assert recipients["user50@example.com"] == AnymailRecipientStatus("b-0", "queued")
    assert recipients["user119@example.com"] == AnymailRecipientStatus("c-19", "queued")
    assert len(message.anymail_status.esp_response) == 3


def test_split_batch_failing_later(ses_stub: Stubber) -> None:
    ses_stub.add_response("send_bulk_email", bulk_success(50))
    ses_stub.add_client_error(
        "send_bulk_email",
        service_error_code="TooManyRequestsException",
        service_message="Maximum sending rate exceeded.",
        http_status_code=429,
    )
    to = [f"user{i}@example.com" for i in range(60)]
    with pytest.raises(AnymailAPIError) as excinfo:
        send(make_message(subject="", body="", to=to, template_id="T"))
    assert "Maximum sending rate exceeded." in str(excinfo.value)
    assert "The first 50 bulk entries were already sent" in str(excinfo.value)
    assert excinfo.value.status_code == 429


def test_template_every_entry_failed(ses_stub: Stubber) -> None:
    ses_stub.add_response("send_bulk_email", boto_response("send_bulk_email_all_failed.json"))
    message = make_message(
        subject="", body="", to=["a@example.com", "b@example.com"], template_id="OrderReceipt"
    )
    with pytest.raises(
        AnymailAPIError,
        match=r"^Amazon SES sent none of the template messages: "
        r"TEMPLATE_NOT_FOUND: Template OrderReceipt does not exist\.$",
    ) as excinfo:
        send(message)
    assert excinfo.value.response == boto_response("send_bulk_email_all_failed.json")
    assert message.anymail_status.status is None
    assert message.anymail_status.esp_response == boto_response("send_bulk_email_all_failed.json")

    ses_stub.add_response("send_bulk_email", boto_response("send_bulk_email_all_failed.json"))
    assert send(message, fail_silently=True) == 0


def test_template_failures_with_different_statuses(ses_stub: Stubber) -> None:
    ses_stub.add_response(
        "send_bulk_email",
        {
            "BulkEmailEntryResults": [
                {"Status": "MESSAGE_REJECTED", "Error": "Address is suppressed."},
                {"Status": "TRANSIENT_FAILURE"},
            ]
        },
    )
    message = make_message(
        subject="", body="", to=["a@example.com", "b@example.com"], template_id="T"
    )
    with pytest.raises(
        AnymailAPIError,
        match=r"MESSAGE_REJECTED: Address is suppressed\.; TRANSIENT_FAILURE: TRANSIENT_FAILURE$",
    ):
        send(message)


def test_template_result_count_mismatch(ses_stub: Stubber) -> None:
    ses_stub.add_response("send_bulk_email", bulk_success(1))
    message = make_message(
        subject="", body="", to=["a@example.com", "b@example.com"], template_id="T"
    )
    with pytest.raises(AnymailAPIError, match="parsing Amazon SES send result"):
        send(message)


def test_template_headers_need_a_recent_botocore(
    ses_stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        amazon_ses, "_model_has", lambda client, shape, member: member != "ReplacementHeaders"
    )
    message = make_message(subject="", body="", template_id="T", tags=["t"])
    with pytest.raises(AnymailUnsupportedFeature, match=r"needs botocore 1\.34\.98 or later"):
        send(message)
    ses_stub.add_response(
        "send_bulk_email",
        bulk_success(1),
        template_request(),
    )
    assert send(message, ignore_unsupported_features=True) == 1


def test_template_esp_extra_v1_names(ses_stub: Stubber) -> None:
    ses_stub.add_response(
        "send_bulk_email",
        bulk_success(1),
        {
            **template_request(),
            "DefaultEmailTags": [{"Name": "UserID", "Value": "u-1"}],
        },
    )
    message = make_message(
        subject="",
        body="",
        template_id="T",
        esp_extra={"DefaultTags": [{"Name": "UserID", "Value": "u-1"}]},
    )
    with pytest.warns(AnymailDeprecationWarning, match="use 'DefaultEmailTags'"):
        assert send(message) == 1


# --- moto: a real boto3 round trip -------------------------------------------------------


def test_moto_round_trip() -> None:
    with mock_aws():
        boto3.client("sesv2").create_email_identity(EmailIdentity="example.com")
        message = make_message(
            subject="Grüße",
            body="Bödy",
            from_email="Sender <sender@example.com>",
            to=["To <to@example.net>"],
            cc=["cc@example.net"],
            bcc=["bcc@example.net"],
            metadata={"order": "A-1"},
            tags=["receipt"],
        )
        message.attach_alternative("<p>Bödy</p>", "text/html")
        message.attach("notes.txt", "Nötes", "text/plain")
        assert send(message) == 1
        sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages[-1]

    assert message.anymail_status.message_id == sent.id
    assert message.anymail_status.recipients == {
        address: AnymailRecipientStatus(sent.id, "queued")
        for address in ("to@example.net", "cc@example.net", "bcc@example.net")
    }
    assert sent.source == "sender@example.com"
    assert {"to@example.net", "cc@example.net", "bcc@example.net"} <= set(sent.destinations)
    received = email.message_from_string(sent.raw_data, policy=email.policy.default)
    assert received["Subject"] == "Grüße"
    assert received["Bcc"] is None
    assert received["X-Tag"] == "receipt"
    assert json.loads(received["X-Metadata"]) == {"order": "A-1"}
    assert received.get_body(("html",)).get_content().strip() == "<p>Bödy</p>"


def test_moto_unverified_sender() -> None:
    with mock_aws():
        message = make_message(from_email="nobody@unverified.example")
        with pytest.raises(AnymailAPIError) as excinfo:
            send(message)
    assert "MessageRejected" in str(excinfo.value)
    assert "Did not have authority to send from email nobody@unverified.example" in str(
        excinfo.value
    )
    assert excinfo.value.status_code == 400
    assert excinfo.value.response["Error"]["Code"] == "MessageRejected"


# --- the boto3 session and client --------------------------------------------------------


def test_default_client(mock_session: mock.MagicMock) -> None:
    assert send(make_message()) == 1
    mock_session.assert_called_once_with()
    mock_session.return_value.client.assert_called_once_with("sesv2", config=mock.ANY)
    config = mock_session.return_value.client.call_args.kwargs["config"]
    assert isinstance(config, Config)
    assert config.user_agent_extra == USER_AGENT
    mock_client(mock_session).close.assert_called_once_with()


def test_client_and_session_params(mock_session: mock.MagicMock, settings: Any) -> None:
    client_params = {
        "region_name": "eu-west-1",
        "aws_access_key_id": "AKID-FROM-SETTINGS",
        "aws_secret_access_key": "secret-from-settings",
        "config": {"read_timeout": 30, "retries": {"max_attempts": 2, "mode": "standard"}},
    }
    session_params = {"profile_name": "anymail-testing"}
    settings.ANYMAIL = {
        "AMAZON_SES_CLIENT_PARAMS": client_params,
        "AMAZON_SES_SESSION_PARAMS": session_params,
    }
    assert send(make_message()) == 1
    mock_session.assert_called_once_with(profile_name="anymail-testing")
    mock_session.return_value.client.assert_called_once_with(
        "sesv2",
        region_name="eu-west-1",
        aws_access_key_id="AKID-FROM-SETTINGS",
        aws_secret_access_key="secret-from-settings",
        config=mock.ANY,
    )
    config = mock_session.return_value.client.call_args.kwargs["config"]
    assert config.read_timeout == 30
    assert config.retries == {"max_attempts": 2, "mode": "standard"}
    assert config.user_agent_extra == USER_AGENT
    # The settings themselves are untouched.
    assert client_params["config"] == {
        "read_timeout": 30,
        "retries": {"max_attempts": 2, "mode": "standard"},
    }
    assert session_params == {"profile_name": "anymail-testing"}


def test_client_config_object(mock_session: mock.MagicMock) -> None:
    config = Config(connect_timeout=5, user_agent_extra="my-app/1.0")
    assert send(make_message(), client_params={"config": config}) == 1
    used = mock_session.return_value.client.call_args.kwargs["config"]
    assert used.connect_timeout == 5
    assert used.user_agent_extra == f"my-app/1.0 {USER_AGENT}"
    assert config.user_agent_extra == "my-app/1.0"


def test_connection_kwargs_override_settings(mock_session: mock.MagicMock, settings: Any) -> None:
    settings.ANYMAIL = {
        "AMAZON_SES_CLIENT_PARAMS": {"region_name": "eu-west-1"},
        "AMAZON_SES_SESSION_PARAMS": {"profile_name": "from-settings"},
        "AMAZON_SES_CONFIGURATION_SET_NAME": "FromSettings",
    }
    connection = get_connection(
        "anymail.backends.amazon_ses.EmailBackend",
        client_params={"region_name": "ap-northeast-1"},
        session_params={},
        configuration_set_name="FromKwargs",
        message_tag_name="Type",
    )
    assert connection.send_messages([make_message(tags=["t"])]) == 1
    mock_session.assert_called_once_with()
    mock_session.return_value.client.assert_called_once_with(
        "sesv2", region_name="ap-northeast-1", config=mock.ANY
    )
    params = mock_client(mock_session).send_email.call_args.kwargs
    assert params["ConfigurationSetName"] == "FromKwargs"
    assert params["EmailTags"] == [{"Name": "Type", "Value": "t"}]


@pytest.mark.parametrize(
    "configure",
    [
        lambda s: setattr(s, "ANYMAIL", {"AMAZON_SES_CONFIGURATION_SET_NAME": "Cfg"}),
        lambda s: setattr(s, "ANYMAIL_AMAZON_SES_CONFIGURATION_SET_NAME", "Cfg"),
    ],
    ids=["ANYMAIL dict", "ANYMAIL_ prefix"],
)
def test_configuration_set_setting(
    mock_session: mock.MagicMock, settings: Any, configure: Any
) -> None:
    configure(settings)
    assert send(make_message()) == 1
    assert mock_client(mock_session).send_email.call_args.kwargs["ConfigurationSetName"] == "Cfg"


def test_no_bare_settings(mock_session: mock.MagicMock, settings: Any) -> None:
    settings.AMAZON_SES_CONFIGURATION_SET_NAME = "Bare"
    settings.AMAZON_SES_CLIENT_PARAMS = {"region_name": "eu-west-1"}
    assert send(make_message()) == 1
    mock_session.return_value.client.assert_called_once_with("sesv2", config=mock.ANY)
    params = mock_client(mock_session).send_email.call_args.kwargs
    assert set(params) == {"Destination", "Content"}  # no unused optional parameters


def test_settings_from_anymail_prefixed_names(mock_session: mock.MagicMock, settings: Any) -> None:
    settings.ANYMAIL_AMAZON_SES_CLIENT_PARAMS = {"region_name": "eu-west-1"}
    settings.ANYMAIL_AMAZON_SES_SESSION_PARAMS = {"profile_name": "prefixed"}
    settings.ANYMAIL_AMAZON_SES_MESSAGE_TAG_NAME = "Type"
    assert send(make_message(tags=["t"])) == 1
    mock_session.assert_called_once_with(profile_name="prefixed")
    mock_session.return_value.client.assert_called_once_with(
        "sesv2", region_name="eu-west-1", config=mock.ANY
    )
    params = mock_client(mock_session).send_email.call_args.kwargs
    assert params["EmailTags"] == [{"Name": "Type", "Value": "t"}]


@pytest.mark.parametrize(
    ("anymail", "match"),
    [
        (
            {"AMAZON_SES_CLIENT_PARAMS": "region=eu-west-1"},
            "AMAZON_SES_CLIENT_PARAMS: expected a dict",
        ),
        ({"AMAZON_SES_SESSION_PARAMS": ["x"]}, "AMAZON_SES_SESSION_PARAMS: expected a dict"),
        (
            {"AMAZON_SES_CLIENT_PARAMS": {"config": {"read_timout": 5}}},
            "AMAZON_SES_CLIENT_PARAMS: its 'config' is invalid: .*read_timout",
        ),
        (
            {"AMAZON_SES_CLIENT_PARAMS": {"config": 30}},
            "'config' must be a botocore Config or a dict",
        ),
        ({"AMAZON_SES_CONFIGURATION_SET_NAME": 7}, "AMAZON_SES_CONFIGURATION_SET_NAME"),
    ],
)
def test_invalid_settings(settings: Any, anymail: dict[str, Any], match: str) -> None:
    settings.ANYMAIL = anymail
    with pytest.raises(AnymailImproperlyConfigured, match=match):
        EmailBackend()


def test_unknown_client_param_never_shows_secrets(settings: Any) -> None:
    settings.ANYMAIL = {
        "AMAZON_SES_CLIENT_PARAMS": {
            "aws_secret_access_key": "super-secret-value",
            "regin_name": "eu-west-1",
        }
    }
    with pytest.raises(AnymailImproperlyConfigured, match="regin_name") as excinfo:
        send(make_message())
    assert "super-secret-value" not in str(excinfo.value)
    assert "super-secret-value" not in repr(EmailBackend())


def test_one_client_per_connection(mock_session: mock.MagicMock) -> None:
    backend = EmailBackend(send_concurrency=1)
    assert backend.send_messages([make_message(), make_message(), make_message()]) == 3
    assert mock_session.call_count == 1
    assert mock_session.return_value.client.call_count == 1
    client = mock_client(mock_session)
    assert client.send_email.call_count == 3
    client.close.assert_called_once_with()
    assert backend.client is None

    # An open connection is reused across send_messages calls, and closed by close().
    with EmailBackend() as connection:
        connection.send_messages([make_message()])
        connection.send_messages([make_message()])
    assert mock_session.return_value.client.call_count == 2
    assert client.close.call_count == 2


def test_post_to_esp_without_open(mock_session: mock.MagicMock) -> None:
    """Outside send_messages(), a client is made for the one call and closed after."""
    backend = EmailBackend()
    message = make_message()
    payload = backend.build_message_payload(message, {})
    response = backend.post_to_esp(payload, message)
    assert response["MessageId"]
    mock_client(mock_session).close.assert_called_once_with()
    assert backend.client is None


@requires_mailers
def test_mailers_options(mock_session: mock.MagicMock, settings: Any) -> None:
    from django.core.mail import mailers

    settings.MAILERS = {
        "default": {"BACKEND": "anymail.backends.test.EmailBackend"},
        "ses": {
            "BACKEND": "anymail.backends.amazon_ses.EmailBackend",
            "OPTIONS": {
                "client_params": {"region_name": "eu-central-1"},
                "session_params": {"profile_name": "mailers"},
                "configuration_set_name": "FromMailers",
                "message_tag_name": "Type",
                "send_defaults": {"tags": ["mailers"]},
            },
        },
    }
    assert mailers["ses"].send_messages([make_message()]) == 1
    mock_session.assert_called_once_with(profile_name="mailers")
    mock_session.return_value.client.assert_called_once_with(
        "sesv2", region_name="eu-central-1", config=mock.ANY
    )
    params = mock_client(mock_session).send_email.call_args.kwargs
    assert params["ConfigurationSetName"] == "FromMailers"
    assert params["EmailTags"] == [{"Name": "Type", "Value": "mailers"}]


def test_missing_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    without_boto3(monkeypatch, "anymail.backends.amazon_ses")
    with pytest.raises(AnymailImproperlyInstalled, match=r"django-anymail\[amazon-ses\]") as e:
        importlib.import_module("anymail.backends.amazon_ses")
    assert e.value.missing_package == "boto3"
    assert isinstance(e.value, ImportError)


# --- hostile responses and credentials -------------------------------------------------------

#: (status, body, template send?) answers that botocore or Anymail can't read.
HOSTILE_SES_ANSWERS = {
    "invalid UTF-8": (200, b'{"MessageId": "\xff\xfe"}', False),
    "invalid UTF-8 error": (400, b"\xff\xfe", False),
    "a list": (200, b"[]", False),
    "a list error": (400, b"[1, 2]", False),
    "a string": (200, b'"x"', True),
    "deeply nested array": (200, b"[" * 100_000 + b"]" * 100_000, False),
    "deeply nested object error": (400, b'{"a":' * 5000 + b"1" + b"}" * 5000, False),
    "MessageId of the wrong type": (200, b'{"MessageId": ["x"]}', False),
    "bulk results of the wrong types": (
        200,
        b'{"BulkEmailEntryResults": [{"Status": [], "MessageId": 1}]}',
        True,
    ),
    "bulk success with a wrong MessageId": (
        200,
        b'{"BulkEmailEntryResults": [{"Status": "SUCCESS", "MessageId": ["x"]}]}',
        True,
    ),
}


@pytest.mark.parametrize("answer", list(HOSTILE_SES_ANSWERS), ids=list(HOSTILE_SES_ANSWERS))
def test_hostile_responses_are_api_errors(ses_wire: SESWire, answer: str) -> None:
    # botocore parses SES's answer itself, trusting it (AttributeError, UnicodeDecodeError,
    # RecursionError): whatever it raises for a bad answer is an AnymailAPIError.
    status, body, template = HOSTILE_SES_ANSWERS[answer]
    ses_wire.add(status, body)
    message = make_message(subject="", body="", template_id="T") if template else make_message()
    backend = EmailBackend()
    with pytest.raises(AnymailAPIError) as excinfo:
        backend.send_messages([message])
    text = str(excinfo.value)
    text.encode("utf-8")
    assert text.startswith(("Amazon SES ", "Error parsing Amazon SES "))
    assert len(text) < 4500
    assert message.anymail_status.status is None
    ses_wire.add(status, body)
    backend.fail_silently = True
    assert backend.send_messages([message]) == 0


def test_lone_surrogates_in_an_error_stay_printable(ses_wire: SESWire) -> None:
    ses_wire.add(400, b'{"message": "bad \\ud800 value"}', {"x-amzn-errortype": "BadRequest"})
    with pytest.raises(AnymailAPIError) as excinfo:
        send(make_message())
    assert "bad \\ud800 value" in str(excinfo.value)
    str(excinfo.value).encode("utf-8")


def _send_and_catch(backend: EmailBackend) -> AnymailAPIError:
    # (A frame of its own: Django's reports show the locals of every frame from here down.)
    try:
        backend.send_messages([make_message()])
    except AnymailAPIError as err:
        return err
    raise AssertionError("no AnymailAPIError")


def test_credentials_from_settings_are_never_shown(ses_wire: SESWire, settings: Any) -> None:
    secret = "-".join(("wJalrXUtnFEMI", "K7MDENG", "bPxRfiCYEXAMPLEKEY"))
    ses_wire.add(
        400,
        {"message": f"The security token {secret} included in the request is invalid."},
        {"x-amzn-errortype": "UnrecognizedClientException"},
    )
    backend = EmailBackend(
        session_params={"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": secret}
    )
    err = _send_and_catch(backend)
    assert "The security token [REDACTED] included" in str(err)
    shown = [str(err), repr(err), repr(err.args)]
    for debug in (False, True):  # Django's error mails, and its debug page
        settings.DEBUG = debug
        reporter = ExceptionReporter(None, type(err), err, err.__traceback__)
        shown += [reporter.get_traceback_text(), reporter.get_traceback_html()]
    for text in shown:
        assert secret not in text
