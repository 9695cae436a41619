"""Hostile variants of each Mandrill form fixture and each Brevo tracking fixture.

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
from django.test import Client

from anymail.signals import inbound, tracking
from anymail.testing import WebhookRequest, captured_events, webhook_request
from anymail.webhooks.signing import MandrillVerifier
from tests.utils import FIXTURES_DIR

from .contract.form_fuzz import form_mutations
from .contract.fuzz import Mutation, mutations

#: At most this many mutations of each fixture (spread evenly over its list).
PER_FIXTURE = 16
MANDRILL_KEY = "TEST-mandrill-fuzz-key-NOT-REAL"
MANDRILL_URL = "/anymail/mandrill/"
BREVO_URL = "/anymail/brevo/tracking/"
SECRET = "fuzzfuzzfuzzfuzz:fuzzfuzzfuzzfuzz"


def sample(found: list[Mutation], original: Any = None) -> list[Mutation]:
    """Every strict (body) mutation, and an even spread of the field mutations.

    (A byte mutation that left ``original`` as it was, e.g. Mandrill's ``[]``
    with no quote to break, is no mutation: left out.)
    """
    unchanged = json.dumps(original).encode("utf-8")
    strict = [mutation for mutation in found if mutation.strict and mutation.payload != unchanged]
    fields = [mutation for mutation in found if not mutation.strict]
    step = max(1, len(fields) // max(1, PER_FIXTURE - len(strict)))
    return fields[::step] + strict


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


def brevo_cases() -> list[Any]:
    params = []
    for path in sorted((FIXTURES_DIR / "brevo").glob("tracking_*.json")):
        for mutation in sample(mutations(json.loads(path.read_text("utf-8")))):
            if mutation.id == "top-level-list":
                mutation = Mutation(mutation.id, mutation.payload)  # a batch: may be accepted
            params.append(pytest.param(mutation, id=f"{path.stem}-{mutation.id}"))
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


def check(request: WebhookRequest, url: str, mutation: Mutation) -> None:
    with captured_events(tracking) as tracked, captured_events(inbound) as received:
        response = request.post(Client(), url)  # Client() raises what the view lets out
    assert response.status_code in ((400,) if mutation.strict else (200, 400)), response.content
    if response.status_code == 400:
        assert tracked == [] and received == []
        reason = response.content.decode()
        assert "\n" not in reason and len(reason) <= 300
        assert "xxxxxxxxxx" not in reason  # nothing the ESP sent is echoed


@pytest.mark.parametrize(("shape", "mutation"), mandrill_cases())
def test_mandrill_form_fixture_variants(shape: str, mutation: Mutation, settings: Any) -> None:
    settings.ANYMAIL = {"MANDRILL_WEBHOOK_KEY": MANDRILL_KEY}
    if shape == "json":
        request = webhook_request("mandrill", mutation.payload, basic_auth=None)
    else:
        request = signed_form(mutation.payload)
    check(request, MANDRILL_URL, mutation)


@pytest.mark.parametrize("mutation", brevo_cases())
def test_brevo_tracking_fixture_variants(mutation: Mutation, settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    check(webhook_request("brevo", mutation.payload), BREVO_URL, mutation)
