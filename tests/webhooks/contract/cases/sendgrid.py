"""SendGrid: the Event Webhook, signed (Signed Event Webhook, ECDSA); Inbound Parse in
parsed mode and in raw mode ("POST the raw, full MIME message"), basic auth only, with
a form-data fuzz."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

from anymail._testing_sendgrid import (
    encode_form_data,
    sendgrid_inbound_webhook_request,
    sendgrid_webhook_request,
    verification_key,
)
from anymail.webhooks._signers import EcdsaTestSigner
from tests.webhooks.sendgrid_fixtures import inbound_form_fields

from ..fuzz import HUGE_TEXT, Mutation, deep_json
from ..registry import NOT_SECURED, signed_by, webhook_case

JSON_FIELDS = ("envelope", "charsets", "attachment-info", "content-ids")


def _replaced(fields: list[tuple[str, Any]], name: str, value: Any) -> list[tuple[str, Any]]:
    return [(field, value if field == name else old) for field, old in fields]


def form_mutations(fields: list[tuple[str, Any]]) -> list[Mutation]:
    """Hostile variants of an Inbound Parse form: per field, then of the whole body."""
    found: list[Mutation] = []
    for name, _ in fields:
        without = [(field, value) for field, value in fields if field != name]
        found += [
            Mutation(f"delete-{name}", without),
            Mutation(f"huge-{name}", _replaced(fields, name, HUGE_TEXT)),
            Mutation(f"invalid-utf8-{name}", _replaced(fields, name, b"\xff\xfe\xc3(")),
            Mutation(f"empty-{name}", _replaced(fields, name, b"")),
        ]
    for name in JSON_FIELDS:
        for label, value in (
            ("not-json", b"{not json"),
            ("list", b"[1, 2]"),
            ("wrong-types", b'{"to": 7, "from": [], "text": {}, "attachment1": "x"}'),
            ("deep", deep_json(10_000)),
        ):
            found.append(Mutation(f"{label}-{name}", _replaced(fields, name, value)))
    for charset in ("x-unknown", "base64", "idna", "utf-16", "utf-7"):
        charsets = {"text": charset, "html": charset}
        found.append(Mutation(f"charset-{charset}", _replaced(fields, "charsets", charsets)))
    neither = [(field, value) for field, value in fields if field not in ("headers", "email")]
    body = encode_form_data(fields)
    found += [
        Mutation("neither-headers-nor-email", neither, strict=True),
        Mutation("empty", b"", strict=True),
        Mutation("truncated-1", body[:1], strict=True),
        Mutation("truncated-half", body[: len(body) // 2], strict=True),
        Mutation("no-final-boundary", body[: body.rindex(b"--\r\n")], strict=True),
        Mutation("no-part-headers", body.replace(b"Content-Disposition", b"\r\nX", 1), strict=True),
        Mutation("json-instead", b'[{"event": "processed"}]', strict=True),
        Mutation("many-parts", b"--xYzZY-anymail-test-boundary\r\n\r\n" * 3000, strict=True),
    ]
    return found


INBOUND = webhook_case(
    "sendgrid",
    "SendGrid",
    partial(inbound_form_fields, "inbound_parsed.form.json"),
    kind="inbound",
    event_count=1,
    request=sendgrid_inbound_webhook_request,
    fuzz=form_mutations,
    warning_without_secret=NOT_SECURED,
)
CASES = [
    webhook_case(
        "sendgrid",
        "SendGrid",
        "tracking_batch.json",
        event_count=17,
        settings={"SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": verification_key()},
        # SendGrid retries for 24 hours: the default window is 25.
        **signed_by(sendgrid_webhook_request, {"signer": EcdsaTestSigner()}, timedelta(hours=26)),
    ),
    INBOUND,
    replace(
        INBOUND,
        id="sendgrid_inbound_raw",
        payload=partial(inbound_form_fields, "inbound_raw.form.json"),
    ),
]
