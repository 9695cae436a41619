"""Mailgun: tracking webhooks (JSON, one event per post, HMAC of timestamp + token) and
inbound routes (form posts, signed in form fields; the raw MIME variant)."""

import json
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from anymail._testing_mailgun import mailgun_webhook_request
from anymail.testing import WebhookRequest
from tests.utils import FIXTURES_DIR

from ..form_fuzz import form_mutations
from ..registry import inbound_case, signed_ago, signed_by, webhook_case

SIGNING_KEY = "mg-test-webhook-signing-key-NOT-REAL"
SIGNATURE_FIELDS = frozenset({"timestamp", "token", "signature"})


def forge(payload: Any) -> WebhookRequest:
    # Mailgun signs timestamp + token (not the event): change one byte of the token.
    signed = mailgun_webhook_request(payload)
    body = json.loads(signed.body)
    token = body["signature"]["token"]
    body["signature"]["token"] = ("1" if token[0] == "0" else "0") + token[1:]
    return signed.with_body(json.dumps(body).encode())


def inbound_payload() -> list[tuple[str, str]]:
    body = (FIXTURES_DIR / "mailgun" / "inbound_mime.form.txt").read_text("ascii")
    return parse_qsl(body, keep_blank_values=True)


# Raw bytes are a form body too.
inbound_request = partial(mailgun_webhook_request, form=True)


TRACKING = webhook_case(
    "mailgun",
    "Mailgun",
    "tracking_delivered.json",
    event_count=1,
    request=mailgun_webhook_request,
    settings={"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY},
    forge=forge,
    stale=signed_ago(mailgun_webhook_request, timedelta(hours=13)),
    # (tracking_bad_signature.json is tracking_delivered.json with another signature.)
    fuzz_fixtures="tracking_[!b]*.json",
    fuzz_each_field_once=True,
    fuzz_accepted_events=1,
)
CASES = [
    TRACKING,
    inbound_case(
        TRACKING,
        inbound_payload,
        fuzz=lambda payload: form_mutations(payload, skip=SIGNATURE_FIELDS),
        fuzz_payloads=None,
        fuzz_each_field_once=False,
        **signed_by(inbound_request, {"signing_key": "not-the-signing-key"}),
    ),
]
