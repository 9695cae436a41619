"""Scaleway TEM backend: the exact requests TEM receives, and how its answers are read."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from email.mime.image import MIMEImage
from typing import Any

import pytest
import responses

from anymail import __version__
from anymail.backends.scaleway import EmailBackend
from anymail.exceptions import (
    AnymailImproperlyConfigured,
    AnymailRequestsAPIError,
    AnymailUnsupportedFeature,
)
from anymail.message import AnymailRecipientStatus
from tests.backends.support import (
    answerer,
    answering,
    anymail_settings,
    api_error,
    invoice_message,
    sender,
)
from tests.utils import (
    PNG,
    fixture_json,
    make_message,
    only_request,
    only_request_json,
    request_json,
)

API_URL = "https://api.scaleway.com/transactional-email/v1alpha1/regions/fr-par/emails"
SECRET_KEY = "11111111-2222-4333-8444-555555555555"
PROJECT_ID = "00000000-0000-4000-8000-00000000abcd"


fixture = functools.partial(fixture_json, "scaleway")


esp_settings = anymail_settings(SCALEWAY_SECRET_KEY=SECRET_KEY, SCALEWAY_PROJECT_ID=PROJECT_ID)


def email_result(address: str, index: int, status: str = "new", rcpt_type: str = "to") -> dict:
    """One item of TEM's "emails" answer (the fields Anymail reads, and a few more)."""
    return {
        "id": f"655c27f2-b2a3-4a9f-8e1f-{index:012d}",
        "message_id": "3d928e21-187a-4539-b303-403156e37911",
        "project_id": PROJECT_ID,
        "mail_from": "from@example.com",
        "mail_rcpt": address,
        "rcpt_to": address,
        "rcpt_type": rcpt_type,
        "status": status,
        "status_details": "not yet processed",
        "try_count": 0,
        "last_tries": [],
        "flags": [],
    }


def accepted(*addresses: str) -> dict:
    return {"emails": [email_result(address, i) for i, address in enumerate(addresses, 1)]}


#: TEM's answer at the send endpoint (by default: one recipient accepted).
mock_tem = answerer(API_URL, lambda: accepted("to@example.com"))


send = sender(EmailBackend)

#: The ESP giving its default answer, and the ``responses`` mock to read requests from.
tem = answering(mock_tem)


def tem_request(**fields: Any) -> dict[str, Any]:
    """TEM's request for make_message(): ``fields`` add to or replace its keys (None
    leaves one out)."""
    request = {
        "project_id": PROJECT_ID,
        "from": {"email": "from@example.com"},
        "to": [{"email": "to@example.com"}],
        "subject": "Subject line",
        "text": "Body text of the message",
        **fields,
    }
    return {key: value for key, value in request.items() if value is not None}


# --- the request -------------------------------------------------------------


def test_every_supported_feature_whole_request(mocked_responses: responses.RequestsMock) -> None:
    mock_tem(mocked_responses, body=fixture("send_success.json"))
    message = invoice_message(
        headers={"X-Order-Id": 1234}, tags=["order", "receipt"], metadata={"order_id": "1234"}
    )
    assert send(message) == 1

    request = only_request(mocked_responses)
    assert request.url == API_URL
    assert request.headers["X-Auth-Token"] == SECRET_KEY
    assert only_request_json(mocked_responses) == fixture("send_request_basic.json")

    # One id per recipient (TEM's "id"; its shared "message_id" is not used).
    status = message.anymail_status
    assert status.recipients == {
        "alice@example.com": AnymailRecipientStatus(
            "655c27f2-b2a3-4a9f-8e1f-3e6dc268b1c1", "queued"
        ),
        "cc@example.com": AnymailRecipientStatus("655c27f2-b2a3-4a9f-8e1f-3e6dc268b1c2", "queued"),
        "bcc@example.com": AnymailRecipientStatus("655c27f2-b2a3-4a9f-8e1f-3e6dc268b1c3", "queued"),
    }
    assert status.message_id == {
        "655c27f2-b2a3-4a9f-8e1f-3e6dc268b1c1",
        "655c27f2-b2a3-4a9f-8e1f-3e6dc268b1c2",
        "655c27f2-b2a3-4a9f-8e1f-3e6dc268b1c3",
    }
    assert status.status == {"queued"}
    assert status.esp_response.json() == fixture("send_success.json")


def test_display_names_and_idn_domains(mocked_responses: responses.RequestsMock) -> None:
    mock_tem(mocked_responses, body=accepted("ana@xn--exmple-cua.com", "jo@example.net"))
    message = make_message(
        from_email='"Widgets, Inc." <shop@exämple.com>',
        to=["Ana García <ana@exämple.com>", '"Smith, Jo" <jo@example.net>'],
    )
    send(message)
    data = only_request_json(mocked_responses)
    # Display names are sent raw (TEM encodes them); domains in their ASCII form.
    assert data["from"] == {"email": "shop@xn--exmple-cua.com", "name": "Widgets, Inc."}
    assert data["to"] == [
        {"email": "ana@xn--exmple-cua.com", "name": "Ana García"},
        {"email": "jo@example.net", "name": "Smith, Jo"},
    ]
    assert set(message.anymail_status.recipients) == {"ana@xn--exmple-cua.com", "jo@example.net"}


def test_html_only_message(tem: responses.RequestsMock) -> None:
    message = make_message(body="<p>An HTML-only message</p>")
    message.content_subtype = "html"
    send(message)
    assert only_request_json(tem) == tem_request(html="<p>An HTML-only message</p>", text=None)


def test_reply_to_encoding(tem: responses.RequestsMock) -> None:
    message = make_message(
        reply_to=["Équipe Support <help@exämple.com>", '"Help, Desk" <desk@example.com>']
    )
    send(message)
    # Anymail builds this header, so it encodes the non-ASCII name (RFC 2047).
    assert only_request_json(tem)["additional_headers"] == [
        {
            "key": "Reply-To",
            "value": "=?utf-8?q?=C3=89quipe_Support?= <help@xn--exmple-cua.com>, "
            '"Help, Desk" <desk@example.com>',
        }
    ]


def test_reply_to_long_encoded_name_stays_on_one_line(
    mocked_responses: responses.RequestsMock,
) -> None:
    # The email package folds a long RFC 2047 name over several lines; TEM gets
    # the header value as one line, with the encoded-words joined by spaces.
    name = "Équipe du service client de la société Exemple Internationale"
    mock_tem(mocked_responses)
    send(make_message(reply_to=[f"{name} <help@example.com>"]))
    assert only_request_json(mocked_responses)["additional_headers"] == [
        {
            "key": "Reply-To",
            "value": "=?utf-8?q?=C3=89quipe_du_service_client_de_la_"
            "soci=C3=A9t=C3=A9_Exemple_Inte?= =?utf-8?q?rnationale?= <help@example.com>",
        }
    ]


def test_esp_name_in_signals(mocked_responses: responses.RequestsMock) -> None:
    from anymail.signals import post_send

    seen: list[str] = []

    def receiver(sender: Any, message: Any, status: Any, esp_name: str, **kwargs: Any) -> None:
        seen.append(esp_name)

    post_send.connect(receiver)
    try:
        mock_tem(mocked_responses)
        send(make_message())
    finally:
        post_send.disconnect(receiver)
    # The fact sheet's name (Scaleway's docs say "Scaleway TEM"; receivers compare this).
    assert seen == ["Scaleway"]
    user_agent = only_request(mocked_responses).headers["User-Agent"]
    assert user_agent.startswith(f"django-anymail/{__version__}-scaleway python-requests/")


def test_reply_to_from_headers(tem: responses.RequestsMock) -> None:
    send(make_message(reply_to=["ignored@example.com"], headers={"Reply-To": "hdr@example.com"}))
    assert only_request_json(tem)["additional_headers"] == [
        {"key": "Reply-To", "value": "hdr@example.com"}
    ]


def test_header_features_share_additional_headers(tem: responses.RequestsMock) -> None:
    message = make_message(
        headers={
            "X-Priority": 1,
            "List-Unsubscribe": "<mailto:unsub@example.com>",
            "X-Émoji": "ça",
        },
        reply_to=["reply@example.com"],
        tags=["one", "two, three", "café"],
        metadata={"user_id": 42, "plan": "pro"},
    )
    send(message)
    assert only_request_json(tem)["additional_headers"] == [
        {"key": "X-Priority", "value": "1"},
        {"key": "List-Unsubscribe", "value": "<mailto:unsub@example.com>"},
        {"key": "X-Émoji", "value": "ça"},
        {"key": "Reply-To", "value": "reply@example.com"},
        {"key": "X-Tags", "value": '["one", "two, three", "caf\\u00e9"]'},
        {"key": "X-Metadata", "value": '{"user_id": 42, "plan": "pro"}'},
    ]


def test_generated_headers_replace_extra_headers_of_the_same_name(
    tem: responses.RequestsMock,
) -> None:
    send(make_message(headers={"x-metadata": "manual", "X-Tags": "manual"}, tags=["auto"]))
    assert only_request_json(tem)["additional_headers"] == [
        {"key": "x-metadata", "value": "manual"},  # no metadata: kept
        {"key": "X-Tags", "value": '["auto"]'},
    ]


def test_attachments(tem: responses.RequestsMock) -> None:
    message = make_message()
    message.encoding = "iso-8859-1"
    message.attach("Résumé café.pdf", b"%PDF-1.4", "application/pdf")
    message.attach(None, b"raw bytes", "application/octet-stream")
    message.attach("notes.txt", "latin-1 text: é", "text/plain")
    message.attach("data.csv", b"a,b\n1,2\n")  # type guessed from the filename
    send(message)
    assert only_request_json(tem)["attachments"] == [
        {"name": "Résumé café.pdf", "type": "application/pdf", "content": "JVBERi0xLjQ="},
        # No filename: one made from the type (TEM's schema requires a name).
        {"name": "attachment.bin", "type": "application/octet-stream", "content": "cmF3IGJ5dGVz"},
        # The charset stays with the content, which stays in that charset.
        {
            "name": "notes.txt",
            "type": "text/plain; charset=iso-8859-1",
            "content": "bGF0aW4tMSB0ZXh0OiDp",
        },
        {"name": "data.csv", "type": "text/csv; charset=iso-8859-1", "content": "YSxiCjEsMgo="},
    ]


def test_ignored_inline_images_become_ordinary_attachments(tem: responses.RequestsMock) -> None:
    # (TEM refuses inline images unless ignoring: the contract suite checks that.)
    message = make_message()
    message.attach("first.txt", "first", "text/plain")
    cid = message.attach_inline_image(PNG, "logo.png")
    logo = MIMEImage(PNG, "png")
    logo["Content-ID"] = "<logo2@example.com>"
    message.attachments.append(logo)  # inline without a filename
    message.attach_alternative(f'<p><img src="cid:{cid}"> An image</p>', "text/html")
    send(message, ignore_unsupported_features=True)
    png = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4//8/"
        "AAX+Av6n1qTAAAAAAElFTkSuQmCC"
    )
    assert only_request_json(tem)["attachments"] == [
        {"name": "first.txt", "type": "text/plain; charset=utf-8", "content": "Zmlyc3Q="},
        {"name": "logo.png", "type": "image/png", "content": png},
        {"name": "attachment.png", "type": "image/png", "content": png},
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("from_email", "Jörg <jörg@example.com>"),
        ("to", ["jörg@example.com"]),
        ("cc", ["jörg@example.com"]),
        ("bcc", ["jörg@example.com"]),
        ("reply_to", ["jörg@example.com"]),
    ],
)
def test_eai_addresses_unsupported(tem: responses.RequestsMock, field: str, value: Any) -> None:
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        send(make_message(**{field: value}))
    text = str(excinfo.value)
    assert "Scaleway does not support" in text
    assert f"in {field}" in text
    assert "EAI" in text
    assert len(tem.calls) == 0


def test_eai_with_ignore_unsupported_features_is_sent(
    mocked_responses: responses.RequestsMock,
) -> None:
    mock_tem(mocked_responses, body=accepted("jörg@example.com"))
    message = make_message(to=["jörg@example.com"])
    send(message, ignore_unsupported_features=True)
    assert only_request_json(mocked_responses)["to"] == [{"email": "jörg@example.com"}]
    assert message.anymail_status.recipients["jörg@example.com"].status == "queued"


def test_ignore_unsupported_features(mocked_responses: responses.RequestsMock) -> None:
    mock_tem(mocked_responses, body=accepted("to@example.com", "cc@example.com"))
    message = make_message(
        to=["to@example.com"],
        cc=["cc@example.com"],
        send_at=datetime(2030, 1, 2, tzinfo=UTC),
        envelope_sender="bounces@example.com",
        track_opens=True,
        track_clicks=True,
        template_id="welcome",
        merge_data={},
        merge_global_data={"site": "Example"},
        merge_metadata={"to@example.com": {"a": "1"}},
        merge_headers={"to@example.com": {"X-A": "1"}},
    )
    assert send(message, ignore_unsupported_features=True) == 1
    # No batch: one ordinary message (safe with one "to"), without the unsupported features.
    assert only_request_json(mocked_responses) == tem_request(cc=[{"email": "cc@example.com"}])
    assert set(message.anymail_status.recipients) == {"to@example.com", "cc@example.com"}

    # With several "to", one message would show them to each other: refused.
    batch = make_message(to=["to@example.com", "other@example.com"], merge_data={})
    with pytest.raises(AnymailUnsupportedFeature, match="show every recipient to the others"):
        send(batch, ignore_unsupported_features=True)


def test_no_template_values_from_none(tem: responses.RequestsMock) -> None:
    # Without templates, subject=None just leaves the subject out (TEM then
    # reports the missing field itself).
    message = make_message()
    message.subject = None
    send(message)
    assert "subject" not in only_request_json(tem)


def test_esp_extra_shallow_update(tem: responses.RequestsMock) -> None:
    send(
        make_message(
            tags=["tag"],
            esp_extra={
                "send_before": "2026-08-13T02:22:00Z",
                "from": {"email": "other@example.com"},  # replaces Anymail's value as a whole
            },
        )
    )
    assert only_request_json(tem) == tem_request(
        **{"from": {"email": "other@example.com"}},
        additional_headers=[{"key": "X-Tags", "value": '["tag"]'}],
        send_before="2026-08-13T02:22:00Z",
    )


def test_esp_extra_can_replace_additional_headers(tem: responses.RequestsMock) -> None:
    send(
        make_message(
            tags=["tag"],
            esp_extra={"additional_headers": [{"key": "X-Only", "value": "this"}]},
        )
    )
    assert only_request_json(tem)["additional_headers"] == [{"key": "X-Only", "value": "this"}]


# --- minimum content length -----------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "article", "field"),
    [
        ({"subject": "Too short"}, "a", "subject"),
        ({"body": "Too short"}, "a", "text body"),
        ({"body": "<b>hi</b>"}, "an", "HTML body"),
    ],
)
def test_content_shorter_than_10_characters(
    tem: responses.RequestsMock, attributes: dict, article: str, field: str
) -> None:
    message = make_message(**attributes)
    if field == "HTML body":
        message.content_subtype = "html"
    with pytest.raises(AnymailUnsupportedFeature) as excinfo:
        send(message)
    assert str(excinfo.value) == (
        f"Scaleway does not support {article} {field} shorter than 10 characters: its API "
        f"refuses the message (the {field} has 9). Make it longer, or set ANYMAIL "
        "IGNORE_UNSUPPORTED_FEATURES to True to send it anyway and let TEM decide."
    )
    assert len(tem.calls) == 0


def test_short_content_sent_when_ignoring(tem: responses.RequestsMock) -> None:
    message = make_message(subject="Hi", body="Hello")
    message.attach_alternative("<p>Hi</p>", "text/html")
    backend = EmailBackend(ignore_unsupported_features=True)
    payload = backend.build_message_payload(message, {})
    assert payload.ignored_features == [
        "a subject shorter than 10 characters",
        "a text body shorter than 10 characters",
        "an HTML body shorter than 10 characters",
    ]
    assert backend.send_messages([message]) == 1
    data = only_request_json(tem)
    assert (data["subject"], data["text"], data["html"]) == ("Hi", "Hello", "<p>Hi</p>")


def test_content_length_limits(tem: responses.RequestsMock) -> None:
    mock_tem(tem)
    # Exactly 10 characters is enough.
    send(make_message(subject="0123456789", body="0123456789"))
    # Fewer than 10 characters but 10 or more UTF-8 bytes: TEM may count either
    # way, so the API decides.
    send(make_message(subject="Été à Nîm", body="Grüße!!!é"))
    assert [request_json(call)["subject"] for call in tem.calls] == [
        "0123456789",
        "Été à Nîm",
    ]


def test_empty_subject_is_left_out(tem: responses.RequestsMock) -> None:
    send(make_message(subject=""))
    assert "subject" not in only_request_json(tem)


# --- settings ------------------------------------------------------------------


def test_region_setting(settings: Any, mocked_responses: responses.RequestsMock) -> None:
    settings.ANYMAIL = {
        "SCALEWAY_SECRET_KEY": SECRET_KEY,
        "SCALEWAY_PROJECT_ID": PROJECT_ID,
        "SCALEWAY_REGION": "nl-ams",
    }
    url = "https://api.scaleway.com/transactional-email/v1alpha1/regions/nl-ams/emails"
    mock_tem(mocked_responses, url=url)
    send(make_message())
    assert only_request(mocked_responses).url == url


def test_region_prefixed_setting_and_kwarg(settings: Any) -> None:
    settings.ANYMAIL_SCALEWAY_REGION = "pl-waw"
    assert EmailBackend().api_url.endswith("/regions/pl-waw/")
    assert EmailBackend(region="nl-ams").api_url.endswith("/regions/nl-ams/")
    settings.SCALEWAY_REGION = "bare-ignored"  # not a bare setting
    del settings.ANYMAIL_SCALEWAY_REGION
    assert EmailBackend().api_url.endswith("/regions/fr-par/")


def test_region_is_url_quoted() -> None:
    backend = EmailBackend(region="fr par/../x?")
    assert backend.api_url == (
        "https://api.scaleway.com/transactional-email/v1alpha1/regions/fr%20par%2F..%2Fx%3F/"
    )


@pytest.mark.parametrize("region", ["", "  ", None, 3])
def test_invalid_region(region: Any) -> None:
    with pytest.raises(AnymailImproperlyConfigured, match="SCALEWAY_REGION"):
        EmailBackend(region=region)


def test_api_url_settings(settings: Any, mocked_responses: responses.RequestsMock) -> None:
    assert EmailBackend().api_url == (
        "https://api.scaleway.com/transactional-email/v1alpha1/regions/fr-par/"
    )
    settings.SCALEWAY_API_URL = "https://bare.example.com/"  # not a bare setting: ignored
    assert EmailBackend().api_url.startswith("https://api.scaleway.com/")
    settings.ANYMAIL_SCALEWAY_API_URL = "https://prefixed.example.com/tem/"
    assert EmailBackend().api_url == "https://prefixed.example.com/tem/"

    # {region} is substituted; a missing trailing slash is added.
    settings.ANYMAIL = {
        "SCALEWAY_SECRET_KEY": SECRET_KEY,
        "SCALEWAY_PROJECT_ID": PROJECT_ID,
        "SCALEWAY_REGION": "nl-ams",
        "SCALEWAY_API_URL": "https://proxy.example.com/tem/v1/regions/{region}",
    }
    url = "https://proxy.example.com/tem/v1/regions/nl-ams/emails"
    mock_tem(mocked_responses, url=url)
    send(make_message())
    assert only_request(mocked_responses).url == url


@pytest.mark.parametrize(
    "api_url",
    [
        "https://api.scaleway.com/transactional-email/v1alpha1/regions/fr-par/emails",
        "https://api.scaleway.com/transactional-email/v1alpha1/regions/{region}/emails/",
        "",
        None,
    ],
)
def test_invalid_api_url(api_url: Any) -> None:
    with pytest.raises(AnymailImproperlyConfigured, match="SCALEWAY_API_URL"):
        EmailBackend(api_url=api_url)


def test_scaleway_send_defaults(settings: Any, mocked_responses: responses.RequestsMock) -> None:
    settings.ANYMAIL = {
        "SCALEWAY_SECRET_KEY": SECRET_KEY,
        "SCALEWAY_PROJECT_ID": PROJECT_ID,
        "SEND_DEFAULTS": {"tags": ["global"], "metadata": {"site": "global"}},
        "SCALEWAY_SEND_DEFAULTS": {
            "tags": ["scaleway"],  # replaces the global tags (not merged)
            "esp_extra": {"send_before": "2030-01-01T00:00:00Z"},
        },
    }
    mock_tem(mocked_responses)
    send(make_message(tags=["message"], esp_extra={"send_before": "2031-01-01T00:00:00Z"}))
    data = only_request_json(mocked_responses)
    assert data["additional_headers"] == [
        {"key": "X-Tags", "value": '["scaleway", "message"]'},
        {"key": "X-Metadata", "value": '{"site": "global"}'},
    ]
    assert data["send_before"] == "2031-01-01T00:00:00Z"


def test_webhook_routes_tracking_only() -> None:
    # TEM's webhooks deliver tracking events; TEM receives no mail, so no inbound route.
    from anymail import urls

    routes = [str(pattern.pattern) for pattern in urls.urlpatterns]
    assert [route for route in routes if "scaleway" in route] == ["scaleway/tracking/"]


# --- response parsing ------------------------------------------------------------


def test_legacy_rcpt_to_response(mocked_responses: responses.RequestsMock) -> None:
    mock_tem(mocked_responses, body=fixture("send_success_legacy_rcpt_to.json"))
    message = make_message(to=["alice@example.com"])
    send(message)
    assert message.anymail_status.recipients == {
        "alice@example.com": AnymailRecipientStatus(
            "655c27f2-b2a3-4a9f-8e1f-3e6dc268b1c4", "queued"
        )
    }
    assert message.anymail_status.message_id == "655c27f2-b2a3-4a9f-8e1f-3e6dc268b1c4"


@pytest.mark.parametrize(
    ("tem_status", "anymail_status"),
    [
        ("new", "queued"),
        ("sending", "queued"),
        ("sent", "sent"),
        ("failed", "failed"),
        ("canceled", "failed"),
        ("unknown", "unknown"),
        ("something_new", "unknown"),
        (None, "unknown"),
    ],
)
def test_status_mapping(
    mocked_responses: responses.RequestsMock, tem_status: Any, anymail_status: str
) -> None:
    mock_tem(mocked_responses, body={"emails": [email_result("to@example.com", 7, tem_status)]})
    message = make_message()
    # Even "failed" for every recipient is no AnymailRecipientsRefused: it is
    # not a refusal at send time.
    assert send(message) == 1
    assert message.anymail_status.recipients == {
        "to@example.com": AnymailRecipientStatus(
            "655c27f2-b2a3-4a9f-8e1f-000000000007", anymail_status
        )
    }


def test_statuses_keyed_by_the_addresses_sent(mocked_responses: responses.RequestsMock) -> None:
    # TEM may normalize the case of an address; the status keeps the one sent.
    # A recipient TEM doesn't list is "unknown".
    mock_tem(mocked_responses, body={"emails": [email_result("mixed.case@example.com", 1)]})
    message = make_message(to=["Mixed.Case@Example.com"], cc=["cc@example.com"])
    send(message)
    assert message.anymail_status.recipients == {
        "Mixed.Case@Example.com": AnymailRecipientStatus(
            "655c27f2-b2a3-4a9f-8e1f-000000000001", "queued"
        ),
        "cc@example.com": AnymailRecipientStatus(None, "unknown"),
    }
    assert message.anymail_status.status == {"queued", "unknown"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"message": "ok"}, "expected an 'emails' list"),
        ({"emails": {"id": "x"}}, "expected an 'emails' list"),
        ([], "expected an 'emails' list"),
        ({"emails": ["x"]}, "each 'emails' item must be an object"),
        ({"emails": [{"id": "x", "status": "new"}]}, "an 'emails' item has no 'mail_rcpt'"),
        (
            {"emails": [{"mail_rcpt": "to@example.com", "status": "new"}]},
            "an 'emails' item has no 'id'",
        ),
    ],
)
def test_invalid_response(
    mocked_responses: responses.RequestsMock, body: Any, problem: str
) -> None:
    mock_tem(mocked_responses, body=body)
    message = make_message()
    err = api_error(send, message, 200, SECRET_KEY)
    assert f"Invalid response from Scaleway API: {problem}." in str(err)


# --- errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture_name", "status", "expected"),
    [
        (
            "send_error_400_invalid_arguments.json",
            400,
            "Scaleway API error: HTTP 400 Bad Request: invalid argument(s) "
            "(from.email: Invalid email from address).",
        ),
        (
            "send_error_400_subject_too_short.json",
            400,
            "Scaleway API error: HTTP 400 Bad Request: invalid argument(s) "
            "(subject: length must be greater than or equal to 10).",
        ),
        (
            "send_error_401_denied_authentication.json",
            401,
            "Scaleway API error: HTTP 401 Unauthorized: authentication is denied. "
            "Check your SCALEWAY_SECRET_KEY setting: it must be an IAM API secret key "
            "(not the SCW... access key).",
        ),
        (
            "send_error_403_permissions_denied.json",
            403,
            "Scaleway API error: HTTP 403 Forbidden: insufficient permissions "
            "(create tem_email). The API key needs the TransactionalEmailEmailApiCreate "
            "permission on the project in your SCALEWAY_PROJECT_ID setting.",
        ),
    ],
)
def test_api_errors(
    mocked_responses: responses.RequestsMock, fixture_name: str, status: int, expected: str
) -> None:
    body = fixture(fixture_name)
    mock_tem(mocked_responses, body=body, status=status)
    err = api_error(send, make_message(), status, SECRET_KEY)
    text = str(err)
    assert text.startswith(expected + "\n")
    # The whole response is quoted too.
    assert f"Scaleway API response {status}: {json.dumps(body)}" in text
    assert err.response.json() == body


def test_non_json_success_response(mocked_responses: responses.RequestsMock) -> None:
    mock_tem(mocked_responses, body="<html>oops</html>")
    with pytest.raises(AnymailRequestsAPIError, match="Invalid JSON") as excinfo:
        send(make_message())
    assert excinfo.value.status_code == 200
    assert "<html>oops</html>" in str(excinfo.value)


def test_api_error_fails_silently(mocked_responses: responses.RequestsMock) -> None:
    mock_tem(
        mocked_responses, body=fixture("send_error_401_denied_authentication.json"), status=401
    )
    message = make_message()
    assert EmailBackend(fail_silently=True).send_messages([message]) == 0
    assert message.anymail_status.status is None
