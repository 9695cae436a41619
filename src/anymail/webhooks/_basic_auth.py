"""HTTP basic auth of webhook posts: the shared secret (ANYMAIL WEBHOOK_SECRET).

The ESP sends the credentials of the webhook URL in an ``Authorization: Basic``
header. They are compared, in constant time, with every allowed secret (a list of
secrets allows rotation). Amazon SNS only sends them when answered a 401 challenge.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence
from typing import Final

from django.http import HttpRequest, HttpResponse

__all__ = ["BASIC_AUTH_REALM", "challenge", "matches_any", "offered_credentials"]

#: The realm of the basic auth challenge (pinned by Amazon SES's fact sheet).
BASIC_AUTH_REALM: Final = "Anymail WEBHOOK_SECRET"


def offered_credentials(request: HttpRequest) -> bytes | None:
    """The Basic credentials sent, or None (absent, another scheme, undecodable, empty):
    None matches no secret, whatever the secrets are."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        offered = base64.b64decode(credentials.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return offered or None


def matches_any(offered: bytes | None, secrets: Sequence[bytes]) -> bool:
    """Whether ``offered`` is one of ``secrets``: compared with every one, no early exit."""
    matched = False
    if offered is not None:
        for secret in secrets:
            matched |= hmac.compare_digest(offered, secret)
    return matched


def challenge() -> HttpResponse:
    """The 401 answer that asks for the credentials."""
    response = HttpResponse(
        "Credentials required (WEBHOOK_SECRET).", status=401, content_type="text/plain"
    )
    response["WWW-Authenticate"] = f'Basic realm="{BASIC_AUTH_REALM}"'
    return response
