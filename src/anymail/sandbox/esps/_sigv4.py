"""Checking an AWS Signature Version 4 ``Authorization`` header, as AWS does.

The sandbox knows the one access key and its secret, so it recomputes the
signature of the request it received (canonical request, string to sign, the
HMAC chain of the credential scope) and compares.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ._base import ApiRequest

_AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<scope>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


class SigV4Problem(Exception):
    """Why the signature was refused: ``code`` is AWS's error code."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def check_sigv4(request: ApiRequest, access_key: str, secret_key: str, service: str) -> None:
    """Raise :exc:`SigV4Problem` unless ``request`` is signed by ``access_key``/``secret_key``."""
    match = _AUTH_RE.fullmatch((request.header("Authorization") or "").strip())
    amz_date = request.header("X-Amz-Date") or ""
    if match is None or not amz_date:
        raise SigV4Problem("MissingAuthenticationTokenException", "Missing Authentication Token")
    if match["key"] != access_key:
        raise SigV4Problem(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    date, region, scope_service, terminator = [*match["scope"].split("/"), "", "", ""][:4]
    if scope_service != service or terminator != "aws4_request" or not amz_date.startswith(date):
        raise SigV4Problem(
            "InvalidSignatureException", f"Credential should be scoped to a valid {service} scope."
        )
    signed_headers = match["headers"].split(";")
    canonical_headers = "".join(
        f"{name}:{' '.join((request.header(name) or '').split())}\n" for name in signed_headers
    )
    url = urlsplit(request.path)
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(parse_qsl(url.query, keep_blank_values=True))
    )
    canonical = "\n".join(
        [
            request.method,
            quote(unquote(url.path), safe="/~"),
            query,
            canonical_headers,
            match["headers"],
            hashlib.sha256(request.body).hexdigest(),
        ]
    )
    scope = match["scope"]
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["signature"]):
        raise SigV4Problem(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        )
