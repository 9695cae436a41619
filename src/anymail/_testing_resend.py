"""Resend webhook posts for tests: Svix-signed JSON, as Resend sends them.

Registered in :mod:`anymail.testing` as the ``"resend"`` builder::

    request = webhook_request("resend", {"type": "email.delivered", ...})
    request.post(client, "resend_tracking_webhook")

The post is signed with the endpoint's secret from your settings:
``RESEND_INBOUND_SECRET`` for an ``email.received`` payload, else
``RESEND_SIGNING_SECRET`` (``inbound=True``/``False`` decides for raw bytes).
Without that setting it is signed with a throwaway secret, as Resend always signs.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

from .conf import get_setting
from .testing import FROM_SETTINGS, WebhookRequest, json_webhook_request
from .webhooks.resend import INBOUND_SECRET, SIGNING_SECRET
from .webhooks.signing import SvixVerifier

__all__ = ["resend_webhook_request"]


def resend_webhook_request(
    payload: Any,
    *,
    basic_auth: str | None = FROM_SETTINGS,
    signing_secret: str | None = FROM_SETTINGS,
    inbound: bool | None = None,
    svix_id: str | None = None,
    timestamp: int | None = None,
) -> WebhookRequest:
    """A Resend post of ``payload`` (a JSON value, or raw bytes sent as they are).

    - ``signing_secret``: the ``whsec_...`` secret to sign with (default: from settings;
      None: no Svix headers at all);
    - ``inbound``: sign with the inbound endpoint's secret (default: when ``payload``
      is an ``email.received`` event);
    - ``svix_id``: the event's id (default: a new one: each call is a new event; post
      the same request again for a retry);
    - ``timestamp``: the signed Unix time (default: now).
    """
    request = json_webhook_request(payload, basic_auth=basic_auth)
    if signing_secret is None:
        return request
    if signing_secret is FROM_SETTINGS:
        if inbound is None:
            inbound = isinstance(payload, dict) and payload.get("type") == "email.received"
        configured = get_setting(INBOUND_SECRET if inbound else SIGNING_SECRET, "Resend")
        signing_secret = configured if configured is not None else _throwaway_secret()
    signed_at = int(time.time()) if timestamp is None else timestamp
    msg_id = svix_id if svix_id is not None else f"msg_{secrets.token_hex(13)}"
    verifier = SvixVerifier(signing_secret)  # signs with the first of a list
    return request.with_headers(verifier.signed_headers(msg_id, signed_at, request.body))


def _throwaway_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")
