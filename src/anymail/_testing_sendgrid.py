"""SendGrid webhook posts for tests: the Event Webhook (signed) and Inbound Parse forms.

Registered in :mod:`anymail.testing` as the ``"sendgrid"`` (tracking) and
``"sendgrid_inbound"`` builders::

    request = webhook_request("sendgrid", [{"event": "delivered", ...}])
    request.post(client, "sendgrid_tracking_webhook")

SendGrid signs with a private key only SendGrid has, so tracking posts are
signed by an :class:`~anymail.webhooks._signers.EcdsaTestSigner` (a fresh P-256
key, made once per process). To test with signature checking on, set
``SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY`` to :func:`verification_key` in
your test settings; without that setting the view ignores the signature.
Signing needs ``cryptography`` (the ``sendgrid`` extra).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from .testing import FROM_SETTINGS, WebhookRequest, basic_auth_header, json_webhook_request

if TYPE_CHECKING:
    from .webhooks._signers import EcdsaTestSigner

__all__ = [
    "default_signer",
    "encode_form_data",
    "sendgrid_inbound_webhook_request",
    "sendgrid_webhook_request",
    "verification_key",
]

#: The multipart boundary of built Inbound Parse posts (fixed: a retry is the same body).
FORM_BOUNDARY: Final = "xYzZY-anymail-test-boundary"

#: A form field: text (sent as UTF-8), exact bytes, or a file ``(filename, content, type)``.
FormValue = str | bytes | tuple[str, bytes, str]


@cache
def default_signer() -> EcdsaTestSigner:
    """The process's test signer (its key pair is made at the first use)."""
    from .webhooks._signers import EcdsaTestSigner

    return EcdsaTestSigner()


def verification_key() -> str:
    """The SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY that checks :func:`default_signer`."""
    return default_signer().public_key


def sendgrid_webhook_request(
    payload: Any,
    *,
    basic_auth: str | None = FROM_SETTINGS,
    signer: EcdsaTestSigner | None = None,
    timestamp: int | None = None,
    signed: bool = True,
) -> WebhookRequest:
    """An Event Webhook post of ``payload`` (a list of events; bytes are sent as they are).

    Signed by ``signer`` (default :func:`default_signer`) at ``timestamp`` (Unix
    seconds, default now), unless ``signed`` is False.
    """
    request = json_webhook_request(payload, basic_auth=basic_auth)
    if not signed:
        return request
    return request.with_headers((signer or default_signer()).sign(request.body, timestamp))


def sendgrid_inbound_webhook_request(
    payload: Mapping[str, FormValue] | Sequence[tuple[str, FormValue]] | bytes,
    *,
    basic_auth: str | None = FROM_SETTINGS,
    boundary: str = FORM_BOUNDARY,
) -> WebhookRequest:
    """An Inbound Parse post: ``multipart/form-data`` with ``payload``'s fields, in order.

    ``payload`` maps field names to values (see :data:`FormValue`); a dict value is
    sent as JSON (``envelope``, ``charsets``, ``attachment-info``). ``bytes`` are
    posted as the whole multipart body.
    """
    body = payload if isinstance(payload, bytes) else encode_form_data(payload, boundary)
    return WebhookRequest(
        body=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=basic_auth_header(basic_auth),
    )


def encode_form_data(
    fields: Mapping[str, Any] | Sequence[tuple[str, Any]], boundary: str = FORM_BOUNDARY
) -> bytes:
    """A ``multipart/form-data`` body, with every value's bytes exactly as given."""
    items = fields.items() if isinstance(fields, Mapping) else fields
    delimiter = b"--" + boundary.encode("ascii")
    chunks = []
    for name, value in items:
        disposition = f'form-data; name="{name}"'
        headers = ""
        if isinstance(value, tuple):
            filename, value, content_type = value
            disposition += f'; filename="{filename}"'
            headers = f"Content-Type: {content_type}\r\n"
        elif isinstance(value, dict | list):
            value = json.dumps(value)
        content = value if isinstance(value, bytes) else str(value).encode("utf-8")
        head = f"Content-Disposition: {disposition}\r\n{headers}\r\n".encode()
        chunks.append(delimiter + b"\r\n" + head + content + b"\r\n")
    return b"".join(chunks) + delimiter + b"--\r\n"
