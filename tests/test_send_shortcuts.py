"""What the send path's per-message shortcuts (issue 11 point 9) must leave unchanged.

Normalization skips work whose result would be dropped (Django's empty lists, an
empty headers dict, the address headers a message doesn't have) and reads
DEFAULT_CHARSET once per message; enforce() looks only for the gated features the
declaration refuses. Each test goes through the whole pipeline of the test backend.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.mail import EmailMessage
from django.test import override_settings

from anymail.backends.base import Capabilities
from anymail.backends.test import EmailBackend
from anymail.backends.test import TestPayload as RecordingPayload
from anymail.exceptions import AnymailUnsupportedFeature


def build(
    message: EmailMessage, payload_class: type[RecordingPayload] = RecordingPayload, **kwargs: Any
) -> RecordingPayload:
    backend = type("Backend", (EmailBackend,), {"payload_class": payload_class})(**kwargs)
    return backend.build_message_payload(message, backend.send_defaults)


def test_a_plain_django_message_has_only_the_features_it_sets() -> None:
    message = EmailMessage("Hi", "Body", "from@example.com", ["to@example.com"])
    assert list(build(message).send_params) == ["from_email", "to", "subject", "text_body"]


def test_address_headers_in_any_letter_case_from_defaults_and_message() -> None:
    message = EmailMessage(
        "Hi", "Body", "env@example.com", ["to@example.com"], headers={"reply-TO": "r@example.com"}
    )
    params = build(
        message, send_defaults={"extra_headers": {"FROM": "Shown <shown@example.com>", "X-A": "1"}}
    ).send_params
    assert [a.address for a in params["from_email"]] == ["Shown <shown@example.com>"]
    assert params["envelope_sender"].address == "env@example.com"
    assert [a.address for a in params["reply_to"]] == ["r@example.com"]
    assert dict(params["extra_headers"]) == {"X-A": "1"}


def test_an_address_header_of_none_is_no_header() -> None:
    message = EmailMessage(
        "Hi",
        "Body",
        "from@example.com",
        ["to@example.com"],
        reply_to=["own@example.com"],
        headers={"Reply-To": None, "From": None},
    )
    params = build(message).send_params
    assert [a.address for a in params["reply_to"]] == ["own@example.com"]
    assert [a.address for a in params["from_email"]] == ["from@example.com"]
    assert "extra_headers" not in params


@override_settings(DEFAULT_CHARSET="iso-8859-1")
def test_text_attachments_use_the_message_encoding_else_default_charset() -> None:
    def message(encoding: str | None) -> EmailMessage:
        msg = EmailMessage("Hi", "Body", "from@example.com", ["to@example.com"])
        msg.encoding = encoding
        msg.attach("a.txt", "café", "text/plain")
        msg.attach("b.txt", "thé", "text/plain")
        return msg

    for encoding, charset in ((None, "iso-8859-1"), ("utf-8", "utf-8")):
        attachments = build(message(encoding)).send_params["attachments"]
        assert [(a.content, a.content_type) for a in attachments] == [
            ("café".encode(charset), f"text/plain; charset={charset}"),
            ("thé".encode(charset), f"text/plain; charset={charset}"),
        ]


def test_each_declaration_refuses_its_own_gated_features_in_order() -> None:
    def payload_class(caps: Capabilities) -> type[RecordingPayload]:
        return type("Payload", (RecordingPayload,), {"capabilities": caps})

    def message() -> EmailMessage:
        msg = EmailMessage("Hi", "Body", "from@example.com", ["to@example.com"], cc=["c@x.com"])
        msg.tags = ["t"]  # type: ignore[attr-defined]
        msg.metadata = {"k": "v"}  # type: ignore[attr-defined]
        return msg

    strict = payload_class(Capabilities(cc=False, tags=False, metadata=False))
    lenient = payload_class(Capabilities(metadata=False))
    ignoring = build(message(), strict, ignore_unsupported_features=True)
    assert ignoring.ignored_features == ["metadata", "tags", "cc"]
    assert {"metadata", "tags", "cc"}.isdisjoint(ignoring.send_params)
    assert build(message(), lenient, ignore_unsupported_features=True).ignored_features == [
        "metadata"
    ]
    with pytest.raises(AnymailUnsupportedFeature, match="does not support metadata"):
        build(message(), strict)
