"""Mandrill webhook posts for tests, signed as Mandrill signs them.

Registered in :mod:`anymail.testing` as the ``"mandrill"`` builder::

    request = webhook_request("mandrill", [{"event": "send", ...}])
    request.post(client, "mandrill_webhook")

Mandrill signs the webhook URL too, so the builder needs the URL the view will
see: by default ``MANDRILL_WEBHOOK_URL`` if set, else the ``mandrill_webhook``
route on Django's test client host (``http://testserver``), with the basic
auth credentials in it as Mandrill has them. Post to the same route.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from .conf import get_setting, get_webhook_secrets
from .testing import FROM_SETTINGS, WebhookRequest, basic_auth_header
from .webhooks.mandrill import EVENTS_FIELD, WEBHOOK_KEY, WEBHOOK_URL
from .webhooks.signing import MandrillVerifier

__all__ = ["mandrill_webhook_request"]

#: Django's test client's default host.
TEST_SERVER = "http://testserver"


def mandrill_webhook_request(
    payload: Any,
    *,
    basic_auth: str | None = FROM_SETTINGS,
    webhook_key: str | None = None,
    url: str | None = None,
    signed: bool = True,
) -> WebhookRequest:
    """A Mandrill post of ``payload``: a list of events, or the field's value (str/bytes).

    Signed with ``webhook_key`` (default: your ``MANDRILL_WEBHOOK_KEY``, the first
    if a list) for ``url`` (an absolute URL, a path or a URL name; default above),
    unless ``signed`` is False.
    """
    value = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    request = WebhookRequest(
        body=urlencode([(EVENTS_FIELD, value)]).encode("ascii"),
        content_type="application/x-www-form-urlencoded",
        headers=basic_auth_header(basic_auth),
    )
    if not signed:
        return request
    if webhook_key is None:
        keys = get_setting(WEBHOOK_KEY, "Mandrill")
        webhook_key = keys[0] if isinstance(keys, list | tuple) else keys
    if webhook_key is None:
        raise ValueError("Set MANDRILL_WEBHOOK_KEY, or pass webhook_key=..., to sign the post.")
    signed_url = _signed_url(url, basic_auth)
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    signature = MandrillVerifier(webhook_key).sign(signed_url, [(EVENTS_FIELD, text)])
    return request.with_headers({MandrillVerifier.signature_header: signature})


def _signed_url(url: str | None, basic_auth: str | None) -> str:
    if url is None:
        url = get_setting(WEBHOOK_URL, "Mandrill")
        if url is not None:
            return str(url)
        url = "mandrill_webhook"
    if "://" in url:
        return url
    path = url if url.startswith("/") else reverse(url)
    if basic_auth is FROM_SETTINGS:
        secrets = get_webhook_secrets()
        basic_auth = secrets[0] if secrets else None
    userinfo = f"{basic_auth}@" if basic_auth else ""
    scheme, _, host = TEST_SERVER.partition("://")
    return f"{scheme}://{userinfo}{host}{path}"
