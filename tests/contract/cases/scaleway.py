"""Scaleway TEM in the contract suite.

TEM refuses no recipient at send time, so there is no mock_all_rejected.
"""

from __future__ import annotations

import json
import re
from typing import Any

import responses

from ..registry import ContractCase

_ENDPOINT = re.compile(
    r"^https://api\.scaleway\.com/transactional-email/v1alpha1/regions/fr-par/emails$"
)


def _accepted(request: Any) -> tuple[int, dict[str, str], str]:
    """TEM's success answer for whatever was sent: one email per recipient."""
    body = json.loads(request.body)
    emails = [
        {
            "id": f"655c27f2-b2a3-4a9f-8e1f-{index:012d}",
            "message_id": "3d928e21-187a-4539-b303-403156e37911",
            "project_id": body.get("project_id"),
            "mail_from": body.get("from", {}).get("email"),
            "mail_rcpt": recipient["email"],
            "rcpt_type": rcpt_type,
            "subject": body.get("subject"),
            "status": "new",
            "status_details": "not yet processed",
            "try_count": 0,
            "last_tries": [],
            "flags": [],
        }
        for index, (rcpt_type, recipient) in enumerate(
            (
                (rcpt_type, recipient)
                for rcpt_type in ("to", "cc", "bcc")
                for recipient in body.get(rcpt_type, [])
            ),
            1,
        )
    ]
    return 200, {}, json.dumps({"emails": emails})


def mock_success(mock_: responses.RequestsMock) -> None:
    mock_.add_callback(
        responses.POST, _ENDPOINT, callback=_accepted, content_type="application/json"
    )


def mock_error(mock_: responses.RequestsMock) -> tuple[int, str]:
    mock_.add(
        responses.POST,
        _ENDPOINT,
        status=401,
        json={
            "type": "denied_authentication",
            "message": "authentication is denied",
            "method": "api_key",
            "reason": "invalid_argument",
        },
    )
    return 401, "authentication is denied"


CASE = ContractCase(
    id="scaleway",
    backend="anymail.backends.scaleway.EmailBackend",
    esp_name="Scaleway",
    options={
        "secret_key": "11111111-2222-4333-8444-555555555555",
        "project_id": "00000000-0000-4000-8000-00000000abcd",
    },
    mock_success=mock_success,
    mock_error=mock_error,
)
