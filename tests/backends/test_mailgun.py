"""Mailgun backend: the exact multipart requests Mailgun receives, and how its answers are read."""

from __future__ import annotations

import base64
import functools
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from email.mime.image import MIMEImage
from typing import Any

import django
import pytest
import responses
from django.core.mail import EmailMessage

from anymail.backends.mailgun import EmailBackend
from anymail.exceptions import (
    AnymailError,
    AnymailImproperlyConfigured,
    AnymailRequestsAPIError,
    AnymailSerializationError,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailMessage
from tests.backends.support import (
    DISPLAY_NAMES_RECIPIENTS,
    answering,
    anymail_settings,
    api_error,
    assert_sent,
    display_names_message,
    plain_message,
    refused,
)
from tests.utils import PNG, add_response, form_fields, form_parts
from tests.utils import fixture_text as shared_fixture_text

API_KEY = "key-test-mailgun-NOT-REAL"
BACKEND = "anymail.backends.mailgun.EmailBackend"
US_API = "https://api.mailgun.net/v3"
EU_API = "https://api.eu.mailgun.net/v3"
SEND_URL = f"{US_API}/example.com/messages"
MESSAGE_ID = "<20260115093012.5f3e1a2b4c6d8e90@mg.example.com>"


fixture_text = functools.partial(shared_fixture_text, "mailgun")


def basic_auth(key: str = API_KEY) -> str:
    return "Basic " + base64.b64encode(f"api:{key}".encode()).decode("ascii")


esp_settings = anymail_settings(MAILGUN_API_KEY=API_KEY)


def mock_mailgun(
    mock: responses.RequestsMock,
    url: str | re.Pattern[str] = SEND_URL,
    status: int = 200,
    body: str | Exception | None = None,
    content_type: str = "application/json",
    **kwargs: Any,
) -> None:
    """Mailgun answering at ``url``: by default, the success fixture."""
    if body is None:
        body = fixture_text("send_success.json")
    add_response(mock, url, body, status, content_type=content_type, **kwargs)


def connection(**kwargs: Any) -> EmailBackend:
    # (Django 6.1 deprecates get_connection(); test_get_connection_kwargs covers it.)
    return EmailBackend(**kwargs)


def send(message: EmailMessage, **kwargs: Any) -> int:
    return connection(**kwargs).send_messages([message])


#: The ESP giving its default answer, and the ``responses`` mock to read requests from.
mailgun = answering(mock_mailgun)


def sent_call(
    mock: responses.RequestsMock, message: EmailMessage, url: str = SEND_URL
) -> responses.Call:
    """The one request ``message`` is sent in, checked to go to ``url`` (where Mailgun
    answers with the success fixture)."""
    mock_mailgun(mock, url)
    assert send(message) == 1
    (call,) = mock.calls
    assert call.request.url == url
    return call


def form_field(call: responses.Call, name: str) -> str:
    values = [value for field, value in form_fields(call) if field == name]
    assert len(values) == 1, (name, values)
    return values[0]


def recipient_variables(call: responses.Call) -> Any:
    return json.loads(form_field(call, "recipient-variables"))


def batch_fields(call: responses.Call) -> tuple[list[tuple[str, str]], Any]:
    """A batch send's form fields but the last, and that last one: the
    recipient-variables, as JSON."""
    *fields, (name, value) = form_fields(call)
    assert name == "recipient-variables"
    return fields, json.loads(value)


def inline_image_without_content_id() -> Any:
    if django.VERSION >= (6, 0):
        from email.message import MIMEPart

        part = MIMEPart()
        part.set_content(
            PNG, maintype="image", subtype="png", disposition="inline", filename="logo.png"
        )
        return part
    image = MIMEImage(PNG, "png")
    image.add_header("Content-Disposition", "inline", filename="logo.png")
    return image


# --- whole requests -----------------------------------------------------------------


def test_plain_message(mailgun: responses.RequestsMock) -> None:
    message = EmailMessage("Hello", "Hi there", "Sender <from@example.com>", ["to@example.com"])
    assert send(message) == 1

    assert len(mailgun.calls) == 1
    call = mailgun.calls[0]
    assert call.request.method == "POST"
    assert call.request.url == SEND_URL
    assert call.request.headers["Authorization"] == basic_auth()
    assert call.request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert form_parts(call) == [
        ("from", "Sender <from@example.com>"),
        ("to", "to@example.com"),
        ("subject", "Hello"),
        ("text", "Hi there"),
    ]

    assert_sent(message, "queued", MESSAGE_ID, json.loads(fixture_text("send_success.json")))


def test_every_supported_feature(mocked_responses: responses.RequestsMock) -> None:
    message = display_names_message(
        subject="Your order ✓",
        body="Text body",
        reply_to=["Support <support@example.com>", "help@example.com"],
        headers={"X-Custom": "café", "List-Unsubscribe": "<mailto:unsub@example.com>"},
        envelope_sender="anything@mg.example.com",
        metadata={"order": "A-1", "user_id": 42},
        tags=["receipt", "test"],
        track_opens=False,
        track_clicks=True,
        send_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        esp_extra={"o:testmode": "yes"},
    )
    message.attach_alternative("<p>HTML body</p>", "text/html")
    message.attach_alternative("<!doctype html><html ⚡4email>AMP</html>", "text/x-amp-html")
    message.attach("résumé.txt", "Olá", "text/plain")
    message.attach(None, b"\x00\x01binary", "application/octet-stream")
    cid = message.attach_inline_image(PNG, "logo.png")
    call = sent_call(mocked_responses, message, f"{US_API}/mg.example.com/messages")
    assert call.request.headers["Authorization"] == basic_auth()
    assert form_parts(call) == [
        ("from", '"Müller, Jörg" <from@xn--bcher-kva.example>'),
        ("to", '"Müller, Jörg" <to@example.com>'),
        ("to", '"Smith, Jo" <jo@example.com>'),
        ("to", "Zoë <zoe@xn--exmple-cua.com>"),
        ("cc", '"Ana (García)" <cc@example.com>'),
        ("bcc", '"Zoë @ Shop" <bcc@example.com>'),
        ("subject", "Your order ✓"),
        ("h:Reply-To", "Support <support@example.com>, help@example.com"),
        ("h:X-Custom", "café"),
        ("h:List-Unsubscribe", "<mailto:unsub@example.com>"),
        ("text", "Text body"),
        ("html", "<p>HTML body</p>"),
        ("amp-html", "<!doctype html><html ⚡4email>AMP</html>"),
        ("v:order", "A-1"),
        ("v:user_id", "42"),
        ("o:tag", "receipt"),
        ("o:tag", "test"),
        ("o:tracking-clicks", "yes"),
        ("o:tracking-opens", "no"),
        ("o:deliverytime", "Wed, 02 Jan 2030 03:04:05 +0000"),
        ("o:testmode", "yes"),
        ("attachment", "résumé.txt", "text/plain; charset=utf-8", "Olá".encode()),
        ("attachment", "attachment.bin", "application/octet-stream", b"\x00\x01binary"),
        ("inline", cid, "image/png", PNG),
    ]

    assert_sent(message, "queued", MESSAGE_ID, recipients=DISPLAY_NAMES_RECIPIENTS)


def test_batch_send(mocked_responses: responses.RequestsMock) -> None:
    message = AnymailMessage(
        from_email="shop@example.com",
        to=["Alice <alice@example.com>", "bob@example.com", "carol@example.com"],
        cc=["cc@example.com"],
        subject="Order %recipient.order_no%",
        body="Hi %recipient.name%",
        headers={"List-Unsubscribe": "<mailto:default@example.com>"},
        metadata={"campaign": "spring", "segment": "all"},
        merge_data={
            "alice@example.com": {"name": "Alice", "order_no": "1"},
            "bob@example.com": {"name": "Bob"},
        },
        merge_global_data={"order_no": "(none)", "shop": "Example"},
        merge_metadata={
            "alice@example.com": {"customer": "c-1", "segment": "vip"},
            "bob@example.com": {"customer": "c-2"},
        },
        merge_headers={
            "alice@example.com": {"List-Unsubscribe": "<mailto:alice@unsub.example.com>"},
            "bob@example.com": {"X-Bob": "yes"},
        },
    )
    call = sent_call(mocked_responses, message)
    fields, variables = batch_fields(call)
    assert fields == [
        ("from", "shop@example.com"),
        ("to", "Alice <alice@example.com>"),
        ("to", "bob@example.com"),
        ("to", "carol@example.com"),
        ("cc", "cc@example.com"),
        ("subject", "Order %recipient.order_no%"),
        ("text", "Hi %recipient.name%"),
        ("v:campaign", "spring"),
        # merge_metadata keys refer to recipient-variables (under a "v:" prefix):
        ("v:segment", "%recipient.v:segment%"),
        ("v:customer", "%recipient.v:customer%"),
        # ... and so do merge_headers (under "h:"):
        ("h:List-Unsubscribe", "%recipient.h:List-Unsubscribe%"),
        ("h:X-Bob", "%recipient.h:X-Bob%"),
    ]
    assert len(form_parts(call)) == len(fields) + 1
    # Every "to" gets an entry, with defaults filled in; cc recipients get none.
    assert variables == {
        "alice@example.com": {
            "order_no": "1",
            "shop": "Example",
            "name": "Alice",
            "v:customer": "c-1",
            "v:segment": "vip",
            "h:List-Unsubscribe": "<mailto:alice@unsub.example.com>",
            "h:X-Bob": "",
        },
        "bob@example.com": {
            "order_no": "(none)",
            "shop": "Example",
            "name": "Bob",
            "v:customer": "c-2",
            "v:segment": "all",  # from metadata
            "h:List-Unsubscribe": "<mailto:default@example.com>",  # from headers
            "h:X-Bob": "yes",
        },
        "carol@example.com": {
            "order_no": "(none)",
            "shop": "Example",
            "name": "",
            "v:customer": "",
            "v:segment": "all",
            "h:List-Unsubscribe": "<mailto:default@example.com>",
            "h:X-Bob": "",
        },
    }

    # One id for the whole batch.
    to = ("alice@example.com", "bob@example.com", "carol@example.com", "cc@example.com")
    assert_sent(message, "queued", MESSAGE_ID, recipients=to)


@pytest.mark.parametrize("feature", ["merge_data", "merge_metadata", "merge_headers"])
def test_empty_merge_attribute_makes_a_batch_send(
    mailgun: responses.RequestsMock, feature: str
) -> None:
    message = AnymailMessage(
        "Subject", "Body", "from@example.com", ["a@example.com", "B <b@example.com>"]
    )
    setattr(message, feature, {})
    assert send(message) == 1
    assert form_parts(mailgun.calls[0]) == [
        ("from", "from@example.com"),
        ("to", "a@example.com"),
        ("to", "B <b@example.com>"),
        ("subject", "Subject"),
        ("text", "Body"),
        # An entry per address, so that Mailgun splits the message.
        ("recipient-variables", '{"a@example.com": {}, "b@example.com": {}}'),
    ]


def test_merge_global_data_without_template_is_copied_per_recipient(
    mocked_responses: responses.RequestsMock,
) -> None:
    # Mailgun has no global substitution channel: the values go to every recipient,
    # which also makes the send a batch send.
    message = AnymailMessage(
        "Hi from %recipient.shop%",
        "Body",
        "from@example.com",
        ["a@example.com", "b@example.com"],
        merge_global_data={"shop": "Example Shop"},
    )
    call = sent_call(mocked_responses, message)
    assert [name for name, _ in form_fields(call)] == [
        "from",
        "to",
        "to",
        "subject",
        "text",
        "recipient-variables",
    ]
    assert recipient_variables(call) == {
        "a@example.com": {"shop": "Example Shop"},
        "b@example.com": {"shop": "Example Shop"},
    }


def test_merge_data_keys_match_recipients_loosely(mailgun: responses.RequestsMock) -> None:
    message = AnymailMessage(
        "Subject",
        "Hi %recipient.name%",
        "from@example.com",
        ["ana@EXAMPLE.com", "jo@exämple.com", "kim@example.com"],
        merge_data={
            "ana@example.com": {"name": "Ana"},  # domain case differs
            "Jo <jo@exämple.com>": {"name": "Jo"},  # display name, Unicode domain
            "nobody@example.com": {"name": "Nobody"},  # not a recipient: ignored
        },
    )
    assert send(message) == 1
    assert recipient_variables(mailgun.calls[0]) == {
        "ana@EXAMPLE.com": {"name": "Ana"},
        "jo@xn--exmple-cua.com": {"name": "Jo"},
        "kim@example.com": {"name": ""},
    }


def test_merge_metadata_values_and_defaults(mocked_responses: responses.RequestsMock) -> None:
    message = plain_message(
        to=["a@example.com", "b@example.com"],
        metadata={"source": "web"},
        merge_metadata={"a@example.com": {"user_id": 17, "source": "app"}},
    )
    call = sent_call(mocked_responses, message)
    assert form_fields(call)[5:-1] == [
        ("v:source", "%recipient.v:source%"),
        ("v:user_id", "%recipient.v:user_id%"),
    ]
    assert recipient_variables(call) == {
        "a@example.com": {"v:user_id": "17", "v:source": "app"},
        "b@example.com": {"v:user_id": "", "v:source": "web"},
    }


# --- stored templates -------------------------------------------------------------------


def test_template_batch_send(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_SENDER_DOMAIN": "mg.example.com"}
    message = AnymailMessage(
        to=["alice@example.com", "Bob <bob@example.com>"],
        template_id="order-shipped",
        merge_data={
            "alice@example.com": {"name": "Alice", "order_no": "12345"},
            "bob@example.com": {"name": "Bob"},
        },
        merge_global_data={"shop": "Example Shop"},
        metadata={"campaign": "spring"},
    )
    message.from_email = None  # use the template's From
    message.subject = None  # ... and subject
    call = sent_call(mocked_responses, message, f"{US_API}/mg.example.com/messages")
    fields, variables = batch_fields(call)
    assert fields == [
        ("to", "alice@example.com"),
        ("to", "Bob <bob@example.com>"),
        ("v:campaign", "spring"),
        ("template", "order-shipped"),
        # Mailgun templates see per-recipient values only through custom data:
        ("v:shop", "%recipient.shop%"),
        ("v:name", "%recipient.name%"),
        ("v:order_no", "%recipient.order_no%"),
    ]
    assert variables == {
        "alice@example.com": {"shop": "Example Shop", "name": "Alice", "order_no": "12345"},
        "bob@example.com": {"shop": "Example Shop", "name": "Bob", "order_no": ""},
    }
    assert message.anymail_status.status == {"queued"}


def test_template_with_only_global_data_uses_template_variables(
    mailgun: responses.RequestsMock,
) -> None:
    # A single (non-batch) message: the global data goes in t:variables, where
    # nested values are allowed.
    message = AnymailMessage(
        from_email="shop@example.com",
        to=["a@example.com", "b@example.com"],
        template_id="newsletter",
        merge_global_data={"issue": 12, "items": [{"title": "Spring sale"}], "café": "ouvert"},
    )
    message.subject = None
    assert send(message) == 1
    assert form_parts(mailgun.calls[0]) == [
        ("from", "shop@example.com"),
        ("to", "a@example.com"),
        ("to", "b@example.com"),
        ("template", "newsletter"),
        ("t:variables", '{"issue": 12, "items": [{"title": "Spring sale"}], "café": "ouvert"}'),
    ]


def test_template_without_merge_data(mailgun: responses.RequestsMock) -> None:
    message = AnymailMessage(
        "Subject", from_email="shop@example.com", to=["a@example.com"], template_id=1234
    )
    assert send(message) == 1
    assert form_parts(mailgun.calls[0]) == [
        ("from", "shop@example.com"),
        ("to", "a@example.com"),
        ("subject", "Subject"),
        ("template", "1234"),
    ]


def template_message(**kwargs: Any) -> AnymailMessage:
    return AnymailMessage(
        from_email="shop@example.com",
        to=["a@example.com", "b@example.com"],
        template_id="welcome",
        **kwargs,
    )


def test_template_merge_data_conflicting_with_metadata(mailgun: responses.RequestsMock) -> None:
    message = template_message(
        merge_data={"a@example.com": {"name": "A", "plan": "pro"}},
        metadata={"plan": "internal-plan-id"},
    )
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        send(message)
    assert str(excinfo.value).startswith(
        "Mailgun does not support conflicting merge_data and metadata keys ('plan') "
        "when using template_id."
    )
    assert len(mailgun.calls) == 0

    # Ignoring: the metadata keeps its v: field; the merge value stays in recipient-variables.
    assert send(message, ignore_unsupported_features=True) == 1
    call = mailgun.calls[0]
    assert form_field(call, "v:plan") == "internal-plan-id"
    assert form_field(call, "v:name") == "%recipient.name%"
    assert recipient_variables(call)["a@example.com"] == {"name": "A", "plan": "pro"}


def test_template_merge_data_conflicting_with_merge_metadata(
    mocked_responses: responses.RequestsMock,
) -> None:
    message = template_message(
        merge_data={"a@example.com": {"id": "x"}},
        merge_metadata={"b@example.com": {"id": "y"}},
    )
    with refused(
        mocked_responses, AnymailUnsupportedFeature, match=r"conflicting merge_data and metadata"
    ):
        send(message)


def test_template_nested_merge_data_is_unsupported(mailgun: responses.RequestsMock) -> None:
    message = template_message(
        merge_data={"a@example.com": {"items": ["x", "y"], "name": "A"}},
    )
    with refused(
        mailgun,
        AnymailUnsupportedFeature,
        match=r"^Mailgun does not support nested \(dict or list\) merge_data values "
        r"with template_id \(keys 'items'\)",
    ):
        send(message)

    assert send(message, ignore_unsupported_features=True) == 1
    assert recipient_variables(mailgun.calls[0]) == {
        "a@example.com": {"items": "", "name": "A"},
        "b@example.com": {"items": "", "name": ""},
    }


def test_template_send_without_from_needs_a_sender_domain(
    mocked_responses: responses.RequestsMock,
) -> None:
    message = AnymailMessage(to=["a@example.com"], template_id="welcome")
    message.from_email = None
    with refused(mocked_responses, AnymailError, match="Set MAILGUN_SENDER_DOMAIN") as excinfo:
        send(message)
    assert API_KEY not in str(excinfo.value)


# --- sender domain and API URL -----------------------------------------------------------


@pytest.mark.parametrize(
    ("esp_extra_domain", "envelope_sender", "setting", "expected"),
    [
        ("extra.example.com", "x@envelope.example.com", "setting.example.com", "extra.example.com"),
        (None, "x@envelope.example.com", "setting.example.com", "envelope.example.com"),
        (None, None, "setting.example.com", "setting.example.com"),
        (None, None, None, "from.example.com"),
    ],
)
def test_sender_domain_precedence(
    mocked_responses: responses.RequestsMock,
    settings: Any,
    esp_extra_domain: str | None,
    envelope_sender: str | None,
    setting: str | None,
    expected: str,
) -> None:
    if setting:
        settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_SENDER_DOMAIN": setting}
    message = AnymailMessage("Subject", "Body", "Shop <shop@from.example.com>", ["to@example.com"])
    if esp_extra_domain:
        message.esp_extra = {"sender_domain": esp_extra_domain}
    if envelope_sender:
        message.envelope_sender = envelope_sender
    call = sent_call(mocked_responses, message, f"{US_API}/{expected}/messages")
    # Neither the envelope sender nor esp_extra's sender_domain is a form field.
    assert form_parts(call) == [
        ("from", "Shop <shop@from.example.com>"),
        ("to", "to@example.com"),
        ("subject", "Subject"),
        ("text", "Body"),
    ]


def test_sender_domain_from_first_of_several_from_addresses(
    mocked_responses: responses.RequestsMock,
) -> None:
    mock_mailgun(mocked_responses, f"{US_API}/one.example.com/messages")
    message = AnymailMessage(
        "Subject", "Body", "A <a@one.example.com>, b@two.example.com", ["to@example.com"]
    )
    assert send(message) == 1
    assert form_fields(mocked_responses.calls[0])[:2] == [
        ("from", "A <a@one.example.com>"),
        ("from", "b@two.example.com"),
    ]


def test_from_header_makes_from_email_the_envelope_sender(
    mocked_responses: responses.RequestsMock, settings: Any
) -> None:
    # As with Django's SMTP backend, a From header is what recipients see and
    # from_email is the envelope sender, so from_email's domain selects the
    # Mailgun sender domain (ahead of MAILGUN_SENDER_DOMAIN).
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_SENDER_DOMAIN": "setting.example.com"}
    mock_mailgun(mocked_responses, f"{US_API}/bounces.example.com/messages")
    message = AnymailMessage(
        "Subject",
        "Body",
        "app@bounces.example.com",
        ["to@example.com"],
        headers={"From": "Shop <shop@example.com>"},
    )
    assert send(message) == 1
    assert form_fields(mocked_responses.calls[0])[0] == ("from", "Shop <shop@example.com>")


def test_sender_domain_is_idna_encoded_and_quoted(
    mocked_responses: responses.RequestsMock, settings: Any
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_SENDER_DOMAIN": "mg.exämple.com"}
    mock_mailgun(mocked_responses, f"{US_API}/mg.xn--exmple-cua.com/messages")
    assert send(plain_message()) == 1

    message = plain_message()
    message.esp_extra = {"sender_domain": "odd?domain#"}
    mock_mailgun(mocked_responses, f"{US_API}/odd%3Fdomain%23/messages")
    assert send(message) == 1
    assert mocked_responses.calls[1].request.url == f"{US_API}/odd%3Fdomain%23/messages"


@pytest.mark.parametrize(
    "domain", ["mg.example.com/../v2", "mg.example.com%2Fevents", "mg.example.com%2f", ""]
)
def test_sender_domain_that_would_change_the_url_path_is_refused(
    mocked_responses: responses.RequestsMock, domain: str
) -> None:
    message = plain_message()
    message.esp_extra = {"sender_domain": domain}
    with refused(
        mocked_responses, AnymailError, match=r"Invalid Mailgun sender domain .* esp_extra"
    ):
        send(message)


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        (EU_API, f"{EU_API}/example.com/messages"),
        (EU_API + "/", f"{EU_API}/example.com/messages"),  # trailing slash tolerated
        ("http://localhost:8025/v3", "http://localhost:8025/v3/example.com/messages"),
    ],
)
def test_api_url(
    mocked_responses: responses.RequestsMock, settings: Any, api_url: str, expected: str
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": api_url}
    mock_mailgun(mocked_responses, expected)
    assert send(plain_message()) == 1
    assert mocked_responses.calls[0].request.url == expected


@pytest.mark.parametrize(
    "api_url",
    ["https://api.mailgun.net/v3/mg.example.com/messages", "api.mailgun.net/v3"],
)
def test_api_url_must_be_the_base_url(settings: Any, api_url: str) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": api_url}
    with pytest.raises(AnymailImproperlyConfigured, match="MAILGUN_API_URL"):
        connection()


# --- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["ANYMAIL", "prefixed", "bare", "kwarg"])
def test_api_key_setting(
    mocked_responses: responses.RequestsMock, settings: Any, where: str
) -> None:
    settings.ANYMAIL = {}
    kwargs = {}
    if where == "ANYMAIL":
        settings.ANYMAIL = {"MAILGUN_API_KEY": "key-from-dict"}
    elif where == "prefixed":
        settings.ANYMAIL_MAILGUN_API_KEY = "key-from-dict"
    elif where == "bare":
        settings.MAILGUN_API_KEY = "key-from-dict"
    else:
        kwargs["api_key"] = "key-from-dict"
    mock_mailgun(mocked_responses)
    assert send(plain_message(), **kwargs) == 1
    assert mocked_responses.calls[0].request.headers["Authorization"] == basic_auth("key-from-dict")


@pytest.mark.parametrize("where", ["ANYMAIL", "prefixed", "bare", "kwarg"])
def test_sender_domain_setting(
    mocked_responses: responses.RequestsMock, settings: Any, where: str
) -> None:
    kwargs = {}
    if where == "ANYMAIL":
        settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_SENDER_DOMAIN": "mg.example.com"}
    elif where == "prefixed":
        settings.ANYMAIL_MAILGUN_SENDER_DOMAIN = "mg.example.com"
    elif where == "bare":
        settings.MAILGUN_SENDER_DOMAIN = "mg.example.com"
    else:
        kwargs["sender_domain"] = "mg.example.com"
    mock_mailgun(mocked_responses, f"{US_API}/mg.example.com/messages")
    assert send(plain_message(), **kwargs) == 1


@pytest.mark.parametrize("where", ["ANYMAIL", "prefixed", "kwarg"])
def test_api_url_setting(
    mocked_responses: responses.RequestsMock, settings: Any, where: str
) -> None:
    kwargs = {}
    if where == "ANYMAIL":
        settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": EU_API}
    elif where == "prefixed":
        settings.ANYMAIL_MAILGUN_API_URL = EU_API
    else:
        kwargs["api_url"] = EU_API
    mock_mailgun(mocked_responses, f"{EU_API}/example.com/messages")
    assert send(plain_message(), **kwargs) == 1


def test_bare_api_url_setting_is_not_used(settings: Any) -> None:
    settings.MAILGUN_API_URL = EU_API  # only the API key (and sender domain) may be bare
    assert connection().api_url == US_API


def test_send_defaults(mocked_responses: responses.RequestsMock, settings: Any) -> None:
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "SEND_DEFAULTS": {"tags": ["global"], "track_opens": True},
        "MAILGUN_SEND_DEFAULTS": {"tags": ["mailgun"], "esp_extra": {"o:dkim": "no"}},
    }
    mock_mailgun(mocked_responses)
    message = plain_message(tags=["msg"])
    assert send(message) == 1
    assert form_fields(mocked_responses.calls[0])[4:] == [
        ("o:tag", "mailgun"),  # MAILGUN_SEND_DEFAULTS replaces SEND_DEFAULTS' tags
        ("o:tag", "msg"),
        ("o:tracking-opens", "yes"),
        ("o:dkim", "no"),
    ]


# --- attachments, addresses, unsupported features -----------------------------------------


def test_text_attachment_keeps_its_charset(mailgun: responses.RequestsMock) -> None:
    message = plain_message()
    message.encoding = "iso-8859-1"
    message.attach("notes.txt", "Olá", "text/plain")
    assert send(message) == 1
    assert form_parts(mailgun.calls[0])[-1] == (
        "attachment",
        "notes.txt",
        "text/plain; charset=iso-8859-1",
        b"Ol\xe1",
    )


def test_inline_image_without_content_id(mailgun: responses.RequestsMock) -> None:
    message = plain_message()
    message.attach(inline_image_without_content_id())
    with refused(
        mailgun,
        AnymailUnsupportedFeature,
        match=r"^Mailgun does not support inline attachments without Content-ID",
    ):
        send(message)

    # Ignoring it sends the image anyway, as an ordinary attachment: nothing is lost.
    assert send(message, ignore_unsupported_features=True) == 1
    assert form_parts(mailgun.calls[0]) == [
        ("from", "from@example.com"),
        ("to", "to@example.com"),
        ("subject", "Subject"),
        ("text", "Body"),
        ("attachment", "logo.png", "image/png", PNG),
    ]


def test_eai_from_is_unsupported(mocked_responses: responses.RequestsMock) -> None:
    message = plain_message(from_email="jörg@example.com")
    with refused(
        mocked_responses, AnymailUnsupportedFeature, match=r"^Mailgun does not support .*jörg"
    ):
        send(message)


def test_eai_recipient_is_sent(mailgun: responses.RequestsMock) -> None:
    message = plain_message(to=["Jörg <jörg@exämple.com>"])
    assert send(message) == 1
    assert form_field(mailgun.calls[0], "to") == "Jörg <jörg@xn--exmple-cua.com>"
    assert set(message.anymail_status.recipients) == {"jörg@xn--exmple-cua.com"}


def test_multiple_amp_parts_are_unsupported(mocked_responses: responses.RequestsMock) -> None:
    message = plain_message()
    message.attach_alternative("<html ⚡4email>1</html>", "text/x-amp-html")
    message.attach_alternative("<html ⚡4email>2</html>", "text/x-amp-html")
    with pytest.raises(AnymailUnsupportedFeature, match="multiple AMP html parts"):
        send(message)


@pytest.mark.parametrize(
    ("send_at", "expected"),
    [
        (
            datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=-7))),
            "Mon, 06 May 2030 14:08:09 +0000",
        ),
        (date(2030, 5, 6), "Mon, 06 May 2030 04:00:00 +0000"),  # midnight America/New_York
        (1893456000, "Tue, 01 Jan 2030 00:00:00 +0000"),
    ],
)
def test_send_at(mailgun: responses.RequestsMock, send_at: Any, expected: str) -> None:
    message = plain_message(send_at=send_at)
    assert send(message) == 1
    assert form_field(mailgun.calls[0], "o:deliverytime") == expected


def test_metadata_values(mailgun: responses.RequestsMock) -> None:
    message = plain_message(
        metadata={"text": "hé", "number": 1.5, "flag": True, "nested": {"a": [1, "ü"]}},
    )
    assert send(message) == 1
    assert form_fields(mailgun.calls[0])[4:] == [
        ("v:text", "hé"),
        ("v:number", "1.5"),
        ("v:flag", "true"),
        ("v:nested", '{"a": [1, "ü"]}'),
    ]


def test_unserializable_merge_data(mocked_responses: responses.RequestsMock) -> None:
    message = plain_message(
        merge_data={"to@example.com": {"when": datetime(2030, 1, 1, tzinfo=UTC)}},
    )
    with refused(mocked_responses, AnymailSerializationError, match="when"):
        send(message)


def test_esp_extra_updates_form_fields(mailgun: responses.RequestsMock) -> None:
    message = plain_message(
        tags=["a", "b"],
        track_clicks=True,
        esp_extra={
            "o:tag": ["replaced"],  # replaces the tags
            "o:tracking-clicks": "htmlonly",  # overrides Anymail's value
            "o:testmode": True,  # booleans become yes/no
            "o:require-tls": False,
            "o:deliverytime-optimize-period": 24,
            "t:variables": {"nested": {"x": 1}},  # dicts are sent as JSON
            "text": None,  # None removes a field
        },
    )
    assert send(message) == 1
    assert form_parts(mailgun.calls[0]) == [
        ("from", "from@example.com"),
        ("to", "to@example.com"),
        ("subject", "Subject"),
        ("o:tag", "replaced"),
        ("o:tracking-clicks", "htmlonly"),
        ("o:testmode", "yes"),
        ("o:require-tls", "no"),
        ("o:deliverytime-optimize-period", "24"),
        ("t:variables", '{"nested": {"x": 1}}'),
    ]


# --- responses and errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fixture", "quoted"),
    [
        (400, "send_error_400_invalid_to.json", "to parameter is not a valid address"),
        (400, "send_error_400_missing_body.json", "Need at least one of 'text', 'html'"),
        (500, "send_error_500.json", "Internal Server Error"),
    ],
)
def test_api_error_quotes_mailgun_message(
    mocked_responses: responses.RequestsMock, status: int, fixture: str, quoted: str
) -> None:
    mock_mailgun(mocked_responses, status=status, body=fixture_text(fixture))
    err = api_error(send, plain_message(), status, API_KEY)
    assert str(err).startswith(f"Mailgun API error: HTTP {status}")
    assert quoted in str(err)


def test_api_error_401_forbidden(mocked_responses: responses.RequestsMock) -> None:
    mock_mailgun(
        mocked_responses,
        status=401,
        body=fixture_text("send_error_401_forbidden.txt"),
        content_type="text/plain",
    )
    err = api_error(send, plain_message(), 401, API_KEY)
    text = str(err)
    assert "Forbidden" in text
    assert "Check MAILGUN_API_KEY" in text
    assert f"same region as MAILGUN_API_URL ({US_API})" in text
    assert API_KEY not in text


def test_api_error_404_domain_not_found(
    mocked_responses: responses.RequestsMock, settings: Any
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_SENDER_DOMAIN": "mg.example.com"}
    mock_mailgun(
        mocked_responses,
        f"{US_API}/mg.example.com/messages",
        status=404,
        body=fixture_text("send_error_404_domain_not_found.json"),
    )
    err = api_error(send, plain_message(), 404, API_KEY)
    text = str(err)
    assert "Domain not found: mg.example.com" in text
    assert (
        "The sender domain 'mg.example.com' (from the MAILGUN_SENDER_DOMAIN setting) must be "
        f"a domain of your Mailgun account, in the region of MAILGUN_API_URL ({US_API}); "
        'EU domains need "https://api.eu.mailgun.net/v3".'
    ) in text


def test_api_error_429_keeps_response_headers(mocked_responses: responses.RequestsMock) -> None:
    mock_mailgun(
        mocked_responses,
        status=429,
        body=fixture_text("send_error_429_rate_limit.json"),
        headers={"Retry-After": "120", "X-RateLimit-Limit": "100"},
    )
    err = api_error(send, plain_message(), 429, API_KEY)
    assert "account-requests-per-sec limit exceeded, try again after 120 seconds" in str(err)
    assert err.response.headers["Retry-After"] == "120"
    assert err.response.headers["X-RateLimit-Limit"] == "100"


def test_api_error_html_body(mocked_responses: responses.RequestsMock) -> None:
    mock_mailgun(
        mocked_responses,
        status=502,
        body="<html><body><h1>502 Bad Gateway</h1></body></html>",
        content_type="text/html",
    )
    with pytest.raises(AnymailRequestsAPIError, match="502 Bad Gateway") as excinfo:
        send(plain_message())
    assert excinfo.value.status_code == 502


def test_api_home_page_answer_is_an_error(mocked_responses: responses.RequestsMock) -> None:
    mock_mailgun(
        mocked_responses, body=fixture_text("send_bad_endpoint_200.txt"), content_type="text/html"
    )
    message = plain_message()
    err = api_error(send, message, 200, API_KEY)
    text = str(err)
    assert text.startswith(
        "Mailgun answered with its API home page instead of sending the message: "
        f"the request URL {SEND_URL} is not the Messages API."
    )
    assert "sender domain 'example.com' (from from_email)" in text
    assert message.anymail_status.status is None


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("Queued. Thank you.", "text/plain", "Invalid JSON in the Mailgun API response"),
        ('{"message": "Queued. Thank you."}', "application/json", "Invalid/unrecognized"),
        ('{"id": "<x@y>", "message": "Hmm"}', "application/json", "Invalid/unrecognized"),
        ('["<x@y>"]', "application/json", "Invalid/unrecognized"),
    ],
)
def test_unrecognized_success_response(
    mocked_responses: responses.RequestsMock, body: str, content_type: str, expected: str
) -> None:
    mock_mailgun(mocked_responses, body=body, content_type=content_type)
    with pytest.raises(AnymailRequestsAPIError, match=expected) as excinfo:
        send(plain_message())
    assert excinfo.value.status_code == 200
    assert body in str(excinfo.value)


USERINFO_API = "https://proxy-user:proxy-pass-0123@api.mailgun.net/v3"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, "Forbidden", f"same region as MAILGUN_API_URL ({US_API})"),
        (404, '{"message": "Domain not found: example.com"}', f"MAILGUN_API_URL ({US_API});"),
        (200, fixture_text("send_bad_endpoint_200.txt"), f"the request URL {SEND_URL} is not"),
    ],
)
def test_api_url_userinfo_is_never_quoted(
    mocked_responses: responses.RequestsMock,
    capsys: pytest.CaptureFixture[str],
    status: int,
    body: str,
    expected: str,
) -> None:
    # An API URL with user:password@ (e.g. for a proxy): the URL is quoted without them.
    mock_mailgun(mocked_responses, re.compile(r"https://.*"), status=status, body=body)
    with pytest.raises(AnymailRequestsAPIError) as excinfo:
        send(plain_message(), api_url=USERINFO_API, debug_api_requests=True)
    for shown in (str(excinfo.value), repr(excinfo.value), capsys.readouterr().out):
        assert "proxy-user" not in shown
        assert "proxy-pass-0123" not in shown
    assert expected in str(excinfo.value)
