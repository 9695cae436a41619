"""Hostile variants of Mailgun's form posts (legacy tracking, parsed inbound with files):
each is refused (400) or accepted (200), never an unhandled exception, and a refusal
dispatches nothing and echoes nothing."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from anymail.testing import webhook_request
from tests.utils import FIXTURES_DIR

from .contract.form_fuzz import form_mutations
from .contract.fuzz import Mutation, post_hostile

FIXTURES = FIXTURES_DIR / "mailgun"
SIGNATURE_FIELDS = frozenset({"timestamp", "token", "signature"})
TRACKING = "/anymail/mailgun/tracking/"
INBOUND = "/anymail/mailgun/inbound/"
INBOUND_MIME = "/anymail/mailgun/inbound_mime/"


def attachment_files() -> dict[str, tuple[str, Any, str]]:
    data = json.loads((FIXTURES / "inbound_parsed_attachments.json").read_text("utf-8"))
    return {
        item["field"]: (
            item["filename"],
            item.get("content_text") or base64.b64decode(item.get("content_base64", "")),
            item["content_type"],
        )
        for item in data["files"]
    }


def file_mutations(files: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Hostile variants of the posted files (same fields, odd names, types and content)."""
    first = next(iter(files))
    name, content, content_type = files[first]
    odd = {
        "no-files": {},
        "empty-file": {**files, first: (name, b"", content_type)},
        "path-filename": {**files, first: ("../../etc/passwd", content, content_type)},
        "crlf-filename": {**files, first: ("a\r\nContent-Type: x.txt", content, content_type)},
        "unicode-filename": {**files, first: ("résumé 📎.txt", content, content_type)},
        "bad-content-type": {**files, first: (name, content, "not a type; charset=\x7f")},
        "unknown-charset": {**files, first: (name, content, "text/plain; charset=klingon")},
        "extra-file": {**files, "attachment-99": ("x.bin", b"\0" * 10, "application/x")},
        "other-field-file": {**files, "body-plain": ("x.txt", b"hi", "text/plain")},
    }
    return list(odd.items())


def cases() -> list[Any]:
    """The form posts (the contract suite fuzzes the JSON tracking fixtures and the raw
    MIME inbound form)."""
    params = []
    forms = [(TRACKING, path) for path in sorted(FIXTURES.glob("legacy_*.form.txt"))]
    forms += [(INBOUND, FIXTURES / "inbound_parsed.form.txt")]
    for url, path in forms:
        fields = parse_qsl(path.read_text("ascii"), keep_blank_values=True)
        for mutation in form_mutations(fields, skip=SIGNATURE_FIELDS):
            params.append(pytest.param(url, mutation, None, id=f"{path.stem}-{mutation.id}"))
    data = json.loads((FIXTURES / "inbound_parsed_attachments.json").read_text("utf-8"))
    fields = [tuple(pair) for pair in data["fields"]]
    files = attachment_files()
    for mutation in form_mutations(fields, skip=SIGNATURE_FIELDS):
        if not isinstance(mutation.payload, bytes):
            params.append(pytest.param(INBOUND, mutation, files, id=f"attachments-{mutation.id}"))
    for label, odd_files in file_mutations(files):
        mutation = Mutation(label, fields)
        params.append(pytest.param(INBOUND, mutation, odd_files, id=f"attachments-{label}"))
    return params


@pytest.fixture(autouse=True)
def mailgun_settings(settings: Any) -> None:
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": "mg-test-webhook-signing-key-NOT-REAL"}


@pytest.mark.parametrize(("url", "mutation", "files"), cases())
def test_hostile_variants(url: str, mutation: Mutation, files: Any) -> None:
    options: dict[str, Any] = {"form": url != TRACKING or not isinstance(mutation.payload, dict)}
    if files is not None:
        options["files"] = files
    dispatched = post_hostile(
        webhook_request("mailgun", mutation.payload, **options), url, mutation
    )
    assert dispatched in (None, 1)
