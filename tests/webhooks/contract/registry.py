"""The webhook views the webhook contract suite runs against.

Every module in ``cases/`` (one per ESP) defines ``CASES``, one
:class:`WebhookContractCase` per view, that says where the view is routed and how
to post to it as the ESP would; an ESP's inbound case is usually its tracking case
with what differs replaced. Adding an ESP's webhooks to the suite means adding one
such module; ``webhook_case`` and ``inbound_case`` follow the spec's route names, and
``BASIC_AUTH_ONLY``, ``signed_by`` and ``sns_case`` say what an unsigned, a signed or an
SNS-delivered view is.

``request(payload, **options)`` builds a correctly signed and authenticated post
(an ``anymail.testing`` builder). ``payload`` is a valid payload from
``payload()`` or a mutation of it (the fuzz changes its JSON tree), or ``bytes``:
the ESP's JSON document as raw bytes (truncated, badly encoded...), which the
builder must send unchanged inside whatever envelope the ESP uses. Every builder
takes ``basic_auth`` (see ``anymail.testing.basic_auth_header``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from typing import Any

from django.dispatch import Signal

from anymail.signals import inbound, tracking
from anymail.testing import WebhookRequest, json_webhook_request
from anymail.webhooks._signers import SnsTestSigner
from anymail.webhooks.signing import utc_now

from ...utils import fixture_json, modules_in
from ..support import fixture_names
from . import cases
from .fuzz import Mutation, mutations


@dataclass(frozen=True)
class WebhookContractCase:
    id: str  # the ESP's URL prefix, e.g. "amazon_ses"
    esp_name: str  # the view's esp_name (the signal's esp_name argument)
    url_name: str  # the route's URL name, e.g. "amazon_ses_tracking_webhook"
    signal: Signal
    payload: Callable[[], Any]  # a valid payload (a fresh copy each call)
    event_count: int  # the events the valid payload holds
    request: Callable[..., WebhookRequest]
    # ANYMAIL settings the view needs besides WEBHOOK_SECRET (signing keys...).
    settings: dict[str, Any] = field(default_factory=dict)
    # A request for `payload` whose signature is wrong (None: the ESP doesn't sign).
    forge: Callable[[Any], WebhookRequest] | None = None
    # A request for `payload` signed longer ago than the ESP's window (None: no
    # signed time).
    stale: Callable[[Any], WebhookRequest] | None = None
    # The warning (its start) when no WEBHOOK_SECRET protects the view; None: no warning.
    warning_without_secret: str | None = None
    # Whether a post without credentials is challenged (401) rather than refused (400).
    basic_auth_challenge: bool = False
    # Entered around each test (a pinned clock, a certificate stub, an AWS emulator).
    context: Callable[[], AbstractContextManager[Any]] = nullcontext
    # The hostile variants of a payload (the default suits JSON payloads).
    fuzz: Callable[[Any], list[Mutation]] = mutations
    # More payloads whose variants the fuzz posts, by name (besides ``payload()``'s).
    fuzz_payloads: Callable[[], Mapping[str, Any]] | None = None
    # Mutate each field once, in the first payload that has it (for payloads that share
    # their fields, which the view reads the same way whatever the event).
    fuzz_each_field_once: bool = False
    # At most this many variants of each of those payloads (see fuzz.sample); None: all.
    fuzz_sample: int | None = None
    # The events an accepted variant dispatches, where that is always the same.
    fuzz_accepted_events: int | None = None


#: The warning of a view that only basic auth can protect.
NOT_SECURED = (
    "Your Anymail {esp_name} webhook is not secured: set ANYMAIL WEBHOOK_SECRET and add it "
    "to the webhook URL at your ESP."
)
#: The warning (its start) of an SNS-delivered view: the posts are signed by SNS, but
#: any topic may post unless a secret or a topic list says which.
ANY_SNS_TOPIC = "Your Anymail {esp_name} webhook accepts posts from any "


#: The fields of a view that only basic auth protects: the ESP posts JSON, unsigned.
BASIC_AUTH_ONLY: dict[str, Any] = {
    "request": json_webhook_request,
    "warning_without_secret": NOT_SECURED,
}

#: A payload: a function returning one, or the name of a JSON fixture of the ESP's.
Payload = Callable[[], Any] | str


def fixture_payloads(esp: str, *patterns: str) -> Callable[[], dict[str, Any]]:
    """The ESP's JSON fixtures (tests/fixtures/<esp>/) matching ``patterns``, by name."""

    def load() -> dict[str, Any]:
        return {name: fixture_json(esp, name) for name in fixture_names(esp, *patterns)}

    return load


def _payloads(esp: str, payload: Payload | None, fuzz_fixtures: str | None) -> dict[str, Any]:
    """The ``payload`` and ``fuzz_payloads`` fields, where given: fixture names of ``esp``'s
    are loaded from tests/fixtures/<esp>/ (``fuzz_fixtures`` is a glob pattern)."""
    fields: dict[str, Any] = {}
    if payload is not None:
        fields["payload"] = (
            partial(fixture_json, esp, payload) if isinstance(payload, str) else payload
        )
    if fuzz_fixtures is not None:
        fields["fuzz_payloads"] = fixture_payloads(esp, fuzz_fixtures)
    return fields


def webhook_case(
    esp: str,
    esp_name: str,
    payload: Payload,
    *,
    kind: str = "tracking",
    fuzz_fixtures: str | None = None,
    **fields: Any,
) -> WebhookContractCase:
    """The case of the ESP's ``kind`` ("tracking" or "inbound") view, routed as
    ``<esp>_<kind>_webhook`` (the spec's route names) and sending the signal of that
    name; ``payload`` and ``fuzz_fixtures`` as in ``_payloads``."""
    return WebhookContractCase(
        **{
            "id": esp if kind == "tracking" else f"{esp}_{kind}",
            "esp_name": esp_name,
            "url_name": f"{esp}_{kind}_webhook",
            "signal": tracking if kind == "tracking" else inbound,
            **_payloads(esp, payload, fuzz_fixtures),
            **fields,
        }
    )


def inbound_case(
    tracking_case: WebhookContractCase,
    payload: Payload | None = None,
    *,
    fuzz_fixtures: str | None = None,
    **changes: Any,
) -> WebhookContractCase:
    """The case of the ESP's inbound view: ``tracking_case``'s, with ``changes``, posted to
    ``<esp>_inbound_webhook`` (the spec's route name, beside ``<esp>_tracking_webhook``)."""
    esp = tracking_case.url_name.removesuffix("_tracking_webhook")
    return replace(
        tracking_case,
        id=f"{esp}_inbound",
        url_name=f"{esp}_inbound_webhook",
        signal=inbound,
        **_payloads(esp, payload, fuzz_fixtures),
        **changes,
    )


def forged_sns(request: WebhookRequest, forger: SnsTestSigner) -> WebhookRequest:
    """``request`` (an SNS post) signed by ``forger``'s key, naming the trusted certificate."""
    envelope = json.loads(request.body)
    forged = forger.sign(envelope, cert_url=envelope["SigningCertURL"])
    return request.with_body(json.dumps(forged).encode())


def signed_ago(
    request: Callable[..., WebhookRequest], age: timedelta
) -> Callable[[Any], WebhookRequest]:
    """A builder of ``request``'s posts signed ``age`` ago (a Unix time): a case's ``stale``
    where that is past the ESP's window."""

    def build(payload: Any) -> WebhookRequest:
        return request(payload, timestamp=int(time.time() - age.total_seconds()))

    return build


def signed_by(
    request: Callable[..., WebhookRequest],
    forged: Mapping[str, Any],
    stale_age: timedelta | None = None,
) -> dict[str, Any]:
    """The ``request``, ``forge`` and ``stale`` fields of a view whose posts ``request``
    signs: forged by ``request`` with the ``forged`` options (another key or secret), and
    stale when signed ``stale_age`` ago, past the ESP's window (None: no signed time)."""
    fields = {"request": request, "forge": partial(request, **forged)}
    if stale_age is not None:
        fields["stale"] = signed_ago(request, stale_age)
    return fields


#: How long ago a stale SNS post was signed: past the views' window of two hours.
SNS_STALE = timedelta(hours=2, minutes=1)


def sns_case(
    esp: str,
    esp_name: str,
    payload: Payload,
    *,
    request: Callable[..., WebhookRequest],
    forger: Callable[[], SnsTestSigner],
    **fields: Any,
) -> WebhookContractCase:
    """The tracking case of a view whose posts SNS delivers (built by ``request``): forged
    with ``forger()``'s key, stale when signed ``SNS_STALE`` ago. It challenges a post
    without credentials (SNS sends the URL's basic auth only when challenged) and,
    without a secret, warns that any topic may post."""
    return webhook_case(
        esp,
        esp_name,
        payload,
        request=request,
        forge=lambda payload: forged_sns(request(payload), forger()),
        stale=lambda payload: request(payload, timestamp=utc_now() - SNS_STALE),
        basic_auth_challenge=True,
        warning_without_secret=ANY_SNS_TOPIC,
        **fields,
    )


#: Every module's CASES, by id.
CASES: list[WebhookContractCase] = sorted(
    (case for module in modules_in(cases) for case in module.CASES), key=lambda case: case.id
)
