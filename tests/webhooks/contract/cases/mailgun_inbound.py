"""Mailgun inbound routes (form posts, signed in form fields), raw MIME variant."""

from typing import Any
from urllib.parse import parse_qsl

from anymail._testing_mailgun import mailgun_webhook_request
from anymail.signals import inbound
from anymail.testing import WebhookRequest
from tests.utils import FIXTURES_DIR

from ..form_fuzz import form_mutations
from ..registry import WebhookContractCase
from .mailgun import SIGNING_KEY, stale

SIGNATURE_FIELDS = frozenset({"timestamp", "token", "signature"})


def payload() -> list[tuple[str, str]]:
    body = (FIXTURES_DIR / "mailgun" / "inbound_mime.form.txt").read_text("ascii")
    return parse_qsl(body, keep_blank_values=True)


def request(payload: Any, **options: Any) -> WebhookRequest:
    # Raw bytes are a form body too.
    return mailgun_webhook_request(payload, form=True, **options)


def forge(payload: Any) -> WebhookRequest:
    return request(payload, signing_key="not-the-signing-key")


CASE = WebhookContractCase(
    id="mailgun_inbound",
    esp_name="Mailgun",
    url_name="mailgun_inbound_webhook",
    signal=inbound,
    payload=payload,
    event_count=1,
    request=request,
    settings={"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY},
    forge=forge,
    stale=stale,
    fuzz=lambda payload: form_mutations(payload, skip=SIGNATURE_FIELDS),
    fuzz_accepted_events=1,
)
