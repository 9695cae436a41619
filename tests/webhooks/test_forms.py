"""Form posts read from raw bytes (anymail.webhooks._forms)."""

from __future__ import annotations

import pytest

from anymail.exceptions import AnymailWebhookPayloadError
from anymail.webhooks._forms import (
    MAX_FORM_FIELDS,
    FormPart,
    form_digest,
    parse_form_data,
    parse_urlencoded,
)

CONTENT_TYPE = 'multipart/form-data; boundary="b-1"'


def test_form_data_parts_keep_their_exact_bytes() -> None:
    body = (
        b"preamble is ignored\r\n"
        b'--b-1\r\nContent-Disposition: form-data; name="text"\r\n\r\ncaf\xe9\r\n\r\n'
        b'--b-1\r\nContent-Disposition: form-data; name="file"; '
        b"filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
        b"Content-Type: application/pdf; charset=binary\r\n\r\n%PDF\r\n--b\r\n"
        b"--b-1--\r\nepilogue"
    )
    assert parse_form_data(body, CONTENT_TYPE) == [
        FormPart("text", b"caf\xe9\r\n"),
        FormPart("file", b"%PDF\r\n--b", "résumé.pdf", "application/pdf", "binary"),
    ]


def test_raw_utf8_file_name_in_the_header() -> None:
    body = (
        '--b-1\r\nContent-Disposition: form-data; name="f"; filename="ünï.txt"\r\n\r\n'
        "x\r\n--b-1--\r\n"
    ).encode()
    (part,) = parse_form_data(body, CONTENT_TYPE)
    assert part.filename == "ünï.txt"


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"--b-1\r\n\r\nx\r\n--b-1--", CONTENT_TYPE, "has no field name"),
        (
            b"--b-1\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b-1--",
            CONTENT_TYPE,
            "no field name",
        ),
        (b'--b-1\r\nContent-Disposition: form-data; name="a"\r\n\r\nx', CONTENT_TYPE, "truncated"),
        # Bare LF line breaks are not multipart: refused, not guessed at.
        (
            b'--b-1\nContent-Disposition: form-data; name="a"\n\nx\n--b-1--\n',
            CONTENT_TYPE,
            "truncated",
        ),
        (b"--b-1--", "multipart/form-data", "no usable boundary"),
        (b"--b-1--", "multipart/form-data; boundary=" + "x" * 201, "no usable boundary"),
        (b"--b-1\r\n" * (MAX_FORM_FIELDS + 2) + b"--b-1--", CONTENT_TYPE, "more than 2000 fields"),
    ],
)
def test_malformed_form_data(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(AnymailWebhookPayloadError, match=reason):
        parse_form_data(body, content_type)


def test_urlencoded_values_are_exact_and_strict() -> None:
    assert parse_urlencoded(b"b=%E2%9C%93+x&a=&a=1") == [("b", "✓ x"), ("a", ""), ("a", "1")]
    with pytest.raises(AnymailWebhookPayloadError, match="not valid UTF-8"):
        parse_urlencoded(b"a=%FF")
    with pytest.raises(AnymailWebhookPayloadError, match="more than 2000 fields"):
        parse_urlencoded(b"&".join([b"a=1"] * (MAX_FORM_FIELDS + 1)))


def test_form_digest_ignores_the_boundary_but_not_the_fields() -> None:
    parts = [FormPart("a", b"1"), FormPart("f", b"2", "f.txt")]
    assert form_digest(parts) == form_digest(list(parts))
    assert form_digest(parts) != form_digest([FormPart("a", b"1"), FormPart("f", b"2")])
    assert form_digest([FormPart("ab", b"")]) != form_digest([FormPart("a", b"b")])
