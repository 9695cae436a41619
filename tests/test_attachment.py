"""anymail.utils.Attachment: a normalized attachment, as the payloads' hooks get it."""

from __future__ import annotations

import pytest

from anymail.utils import Attachment


def test_attachments_are_distinct_objects_even_when_alike() -> None:
    # Two attachments of one message may have the same name and content.
    first, second = Attachment(b"x", "text/plain", "a.txt"), Attachment(b"x", "text/plain", "a.txt")
    assert first != second
    assert len({first, second}) == 2


def test_charset_inline_and_content_id_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        Attachment(b"x", "text/plain", "a.txt", "utf-8")  # type: ignore[call-arg]


def test_as_utf8_reencodes_the_text_and_keeps_the_rest() -> None:
    attachment = Attachment(
        "café".encode("latin-1"),
        "text/plain",
        "a.txt",
        charset="latin-1",
        inline=True,
        content_id="c1",
    )
    converted = attachment.as_utf8()
    assert (converted.content, converted.charset) == ("café".encode(), "utf-8")
    assert (converted.mimetype, converted.name, converted.inline, converted.content_id) == (
        "text/plain",
        "a.txt",
        True,
        "c1",
    )
    assert attachment.charset == "latin-1"  # a new attachment: the message's is unchanged
