"""Hostile variants of each Mandrill form fixture (the JSON events, and the signed form).

Each variant is refused (400, nothing dispatched, nothing echoed) or accepted (200),
never an unhandled exception. A sample of each fixture's mutations keeps this quick:
the fixtures share most fields, and the shared fuzz machinery mutates every field
kind of them somewhere.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from anymail.testing import WebhookRequest, webhook_request
from anymail.webhooks.signing import MandrillVerifier
from tests.utils import FIXTURES_DIR

from .contract.form_fuzz import form_mutations
from .contract.fuzz import Mutation, mutations, post_hostile, sample

MANDRILL_KEY = "TEST-mandrill-fuzz-key-NOT-REAL"
MANDRILL_URL = "/anymail/mandrill/"


def mandrill_cases() -> list[Any]:
    params = []
    for path in sorted((FIXTURES_DIR / "mandrill").glob("*.form.txt")):
        fields = parse_qsl(path.read_text("ascii"), keep_blank_values=True)
        (events,) = (value for name, value in fields if name == "mandrill_events")
        # The events' JSON, mutated inside a well-formed, signed form...
        for mutation in sample(mutations(json.loads(events)), json.loads(events)):
            params.append(pytest.param("json", mutation, id=f"{path.stem}-{mutation.id}"))
        # ... and the form itself, re-signed around each mutation.
        for mutation in sample(form_mutations(fields)):
            params.append(pytest.param("form", mutation, id=f"{path.stem}-form-{mutation.id}"))
    return params


def signed_form(payload: list[tuple[str, Any]] | bytes) -> WebhookRequest:
    """A form post of ``payload`` (fields, or a raw body left unsigned)."""
    if isinstance(payload, bytes):
        return WebhookRequest(body=payload, content_type="application/x-www-form-urlencoded")
    body = urlencode(payload).encode("ascii")
    text = [
        (name, value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
        for name, value in payload
    ]
    signature = MandrillVerifier(MANDRILL_KEY).sign(f"http://testserver{MANDRILL_URL}", text)
    return WebhookRequest(
        body=body,
        content_type="application/x-www-form-urlencoded",
        headers={MandrillVerifier.signature_header: signature},
    )


@pytest.mark.parametrize(("shape", "mutation"), mandrill_cases())
def test_mandrill_form_fixture_variants(shape: str, mutation: Mutation, settings: Any) -> None:
    settings.ANYMAIL = {"MANDRILL_WEBHOOK_KEY": MANDRILL_KEY}
    if shape == "json":
        request = webhook_request("mandrill", mutation.payload, basic_auth=None)
    else:
        request = signed_form(mutation.payload)
    post_hostile(request, MANDRILL_URL, mutation)
