"""Postal in the contract suite.

Postal never refuses recipients at send time (suppressed addresses are held and
reported later by webhook), so there is no mock_all_rejected.
"""

from __future__ import annotations

import json
from typing import Any

import responses

from anymail.addresses import parse_address_list

from ..registry import ContractCase

_API_URL = "https://postal.example.com/"
_ENDPOINT = _API_URL + "api/v1/send/message"


def _accepted(request: Any) -> tuple[int, dict[str, str], str]:
    """Postal's success answer for whatever was sent: one message per recipient."""
    body = json.loads(request.body)
    addresses = [
        address.addr_spec
        for field in ("to", "cc", "bcc")
        for address in parse_address_list(body.get(field) or [])
    ]
    messages = {
        address: {"id": 2001 + index, "token": f"ContractToken{index}"}
        for index, address in enumerate(dict.fromkeys(addresses))
    }
    answer = {
        "status": "success",
        "time": 0.02,
        "flags": {},
        "data": {"message_id": "contract-0001@rp.postal.example.com", "messages": messages},
    }
    return 200, {}, json.dumps(answer)


def mock_success(mock: responses.RequestsMock) -> None:
    mock.add_callback(
        responses.POST, _ENDPOINT, callback=_accepted, content_type="application/json"
    )


def mock_error(mock: responses.RequestsMock) -> tuple[int, str]:
    # Postal reports refused requests with HTTP 200 and status "error".
    mock.add(
        responses.POST,
        _ENDPOINT,
        status=200,
        json={
            "status": "error",
            "time": 0.0,
            "flags": {},
            "data": {
                "message": "The From address is not authorised to send mail from this server",
                "code": "UnauthenticatedFromAddress",
            },
        },
    )
    return 200, "The From address is not authorised to send mail from this server"


CASE = ContractCase(
    id="postal",
    backend="anymail.backends.postal.EmailBackend",
    esp_name="Postal",
    options={"api_key": "contract-postal-api-key", "api_url": _API_URL},
    mock_success=mock_success,
    mock_error=mock_error,
)
