"""Postal webhook posts for tests, signed the way a Postal instance signs them.

Registered in :mod:`anymail.testing` as the ``"postal"`` builder (tracking
events and inbound raw messages alike)::

    request = webhook_request("postal", {"event": "MessageSent", ...})
    request.post(client, "postal_tracking_webhook")

Postal signs with its instance's private key, which nobody else has, so these
posts are signed by an :class:`~anymail.webhooks._signers.RsaTestSigner` (a
fresh RSA key, made once per process). Set ``POSTAL_WEBHOOK_KEY`` to
:func:`webhook_key` in your test settings. Signing needs ``cryptography`` (the
``postal`` extra).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from .testing import FROM_SETTINGS, WebhookRequest, json_webhook_request

if TYPE_CHECKING:
    from .webhooks._signers import RsaTestSigner

__all__ = ["default_signer", "postal_webhook_request", "webhook_key"]

#: The header Postal sends since 3.2 (SHA-256), next to the SHA-1 one of every version.
SHA256_HEADER = "X-Postal-Signature-256"


@cache
def default_signer() -> RsaTestSigner:
    """The process's test signer (its key pair is made at the first use)."""
    from .webhooks._signers import RsaTestSigner

    return RsaTestSigner()


def webhook_key() -> str:
    """The POSTAL_WEBHOOK_KEY that checks :func:`default_signer`'s signatures."""
    return default_signer().public_key


def postal_webhook_request(
    payload: Any,
    *,
    basic_auth: str | None = FROM_SETTINGS,
    signer: RsaTestSigner | None = None,
    legacy: bool = False,
) -> WebhookRequest:
    """A Postal post of ``payload`` (bytes are sent as they are), signed by ``signer``
    (default :func:`default_signer`).

    Postal 3.2+ sends both signature headers; ``legacy=True`` sends only the SHA-1
    ``X-Postal-Signature``, as older Postal versions do. ``basic_auth`` is sent only
    if your webhook URL has credentials (default: your WEBHOOK_SECRET, if set).
    """
    request = json_webhook_request(payload, basic_auth=basic_auth)
    headers = (signer or default_signer()).sign(request.body)
    if legacy:
        del headers[SHA256_HEADER]
    return request.with_headers(headers)
