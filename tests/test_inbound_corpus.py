"""Every message of the shared inbound corpus parses, and every documented attribute works.

The corpus (400 real-world and test-suite messages: malformed, 8-bit, bounces,
digests, TNEF ...) lives in ``shared/inbound-corpus`` beside the repository;
set ANYMAIL_INBOUND_CORPUS to use another copy.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import pytest

from anymail.addresses import EmailAddress
from anymail.inbound import AnymailInboundMessage

CORPUS = Path(
    os.environ.get("ANYMAIL_INBOUND_CORPUS")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "inbound-corpus"
)


def corpus_files() -> list[object]:
    manifest = CORPUS / "manifest.json"
    if not manifest.is_file():
        reason = f"inbound corpus not found at {CORPUS} (set ANYMAIL_INBOUND_CORPUS)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    return [pytest.param(entry["file"], id=entry["file"]) for entry in files]


def check_part(part: AnymailInboundMessage) -> None:
    content = part.get_content_bytes()
    assert isinstance(content, bytes)
    assert isinstance(part.get_content_text(), str)
    filename = part.get_filename()
    assert filename is None or (isinstance(filename, str) and "\n" not in filename)
    assert part.is_attachment() != part.is_inline()
    uploaded = part.as_uploaded_file()
    assert uploaded.read() == content
    assert uploaded.name


@pytest.mark.parametrize("name", corpus_files())
def test_corpus_message(name: str) -> None:
    raw = (CORPUS / name).read_bytes()
    msg = AnymailInboundMessage.parse_raw_mime_bytes(raw)

    assert msg.from_email is None or isinstance(msg.from_email, EmailAddress)
    for addresses in (msg.to, msg.cc, msg.get_address_header("Reply-To")):
        assert all(isinstance(address, EmailAddress) for address in addresses)
    assert msg.subject is None or isinstance(msg.subject, str)
    assert msg.date is None or isinstance(msg.date, datetime)
    for body in (msg.text, msg.html):
        assert body is None or (isinstance(body, str) and "\r" not in body)
    for text in (msg.subject, msg.text, msg.html, *(str(a) for a in msg.to)):
        if text is not None:
            text.encode("utf-8")  # no surrogate escapes left: storable anywhere
    for part in [*msg.attachments, *msg.inlines]:
        check_part(part)
    for content_id, part in msg.content_id_map.items():
        assert content_id and not content_id.startswith("<")
        assert isinstance(part.get_content_bytes(), bytes)

    # The same structure and content the standard library's parser finds.
    assert summary(msg) == summary(BytesParser().parsebytes(raw))


def summary(msg: Message) -> list[tuple[str, object]]:
    return [
        (part.get_content_type(), None if part.is_multipart() else part.get_payload(decode=True))
        for part in msg.walk()
    ]
