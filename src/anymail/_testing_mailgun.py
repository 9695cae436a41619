"""Mailgun webhook posts for tests, signed as Mailgun signs them.

Registered in :mod:`anymail.testing` as the ``"mailgun"`` builder::

    request = webhook_request("mailgun", {"event-data": {"event": "delivered", ...}})
    request.post(client, "mailgun_tracking_webhook")

    request = webhook_request("mailgun", [("recipient", ...), ("body-mime", raw)])
    request.post(client, "mailgun_inbound_webhook")

Mailgun signs ``timestamp + token`` with the webhook signing key, so the builder
(re)makes those three values: in the JSON ``signature`` block, or as the last
form fields, where Mailgun puts them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import encode_multipart
from django.utils.datastructures import MultiValueDict

from .testing import FROM_SETTINGS, WebhookRequest, json_webhook_request
from .webhooks.signing import MailgunVerifier, utc_now

__all__ = ["mailgun_webhook_request"]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
BOUNDARY = "anymail-mailgun-test-boundary"
SIGNATURE_FIELDS = ("timestamp", "token", "signature")

#: A file to post with a form: (filename, content, content type).
FilePart = tuple[str, bytes | str, str]


def mailgun_webhook_request(
    payload: Any,
    *,
    basic_auth: str | None = FROM_SETTINGS,
    signing_key: str | None = FROM_SETTINGS,
    timestamp: int | datetime | None = None,
    token: str | None = None,
    form: bool | None = None,
    files: Mapping[str, FilePart] | None = None,
    headers: Mapping[str, str] | None = None,
) -> WebhookRequest:
    """A Mailgun post of ``payload``, signed and carrying ``WEBHOOK_SECRET``.

    ``payload`` is one of:

    - a dict: a (current) tracking webhook, posted as JSON with a new ``signature``
      block (other fields of an existing block, like ``parent-signature``, are kept);
    - form fields, as (name, value) pairs or a ``QueryDict`` (or a dict with
      ``form=True``): a legacy tracking webhook or an inbound route's post, with new
      last ``timestamp``, ``token`` and ``signature`` fields. It is urlencoded, or
      multipart when there are ``files`` (field name -> (filename, content, type)).
      A ``bytes`` value is sent as it is (e.g. raw MIME that isn't UTF-8);
    - ``bytes``: posted as they are, unsigned, as JSON (as a urlencoded form with
      ``form=True``), for malformed-body tests.

    ``signing_key`` defaults to your MAILGUN_WEBHOOK_SIGNING_KEY (else
    MAILGUN_API_KEY). ``timestamp`` defaults to now; ``token`` to the payload's own
    (so posting a payload twice is a duplicate), else a random one.
    """
    if isinstance(payload, bytes):
        content_type = FORM_CONTENT_TYPE if form else "application/json"
        return json_webhook_request(
            payload, basic_auth=basic_auth, headers=headers, content_type=content_type
        )
    if form is None:
        form = (
            files is not None
            or not isinstance(payload, Mapping)
            or isinstance(payload, MultiValueDict)
        )
    verifier = MailgunVerifier(_signing_key(signing_key))
    when = utc_now() if timestamp is None else timestamp
    stamp = str(int(when.timestamp()) if isinstance(when, datetime) else when)
    if not form:
        block = payload.get("signature")
        block = dict(block) if isinstance(block, Mapping) else {}
        token = token or _token(block.get("token"))
        block.update(timestamp=stamp, token=token, signature=verifier.sign(stamp, token))
        return json_webhook_request(
            {**payload, "signature": block}, basic_auth=basic_auth, headers=headers
        )

    pairs = _pairs(payload)
    own_token = [value for name, value in pairs if name == "token"][-1:]
    token = token or _token(own_token[0] if own_token else None)
    for name in SIGNATURE_FIELDS:
        last = max((i for i, (key, _) in enumerate(pairs) if key == name), default=None)
        if last is not None:
            del pairs[last]  # Mailgun's own; an earlier one is a user variable
    pairs += [("timestamp", stamp), ("token", token), ("signature", verifier.sign(stamp, token))]
    if files is None:
        body, content_type = urlencode(pairs).encode("ascii"), FORM_CONTENT_TYPE
    else:
        data: dict[str, Any] = {}
        for name, value in pairs:
            data.setdefault(name, []).append(value)
        for name, (filename, content, file_type) in files.items():
            raw = content.encode("utf-8") if isinstance(content, str) else content
            data[name] = SimpleUploadedFile(filename, raw, content_type=file_type)
        body = encode_multipart(BOUNDARY, data)
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
    return json_webhook_request(
        body, basic_auth=basic_auth, headers=headers, content_type=content_type
    )


def _signing_key(signing_key: str | None) -> str:
    if signing_key is FROM_SETTINGS or signing_key is None:
        from .webhooks.mailgun import signing_keys

        keys = signing_keys({})
        return keys if isinstance(keys, str) else keys[0]
    return signing_key


def _token(existing: Any) -> str:
    return existing if isinstance(existing, str) and existing else secrets.token_hex(25)


def _pairs(payload: Any) -> list[tuple[str, str | bytes]]:
    if isinstance(payload, MultiValueDict):
        return [(name, value) for name, values in payload.lists() for value in values]
    items = payload.items() if isinstance(payload, Mapping) else payload
    if isinstance(items, Iterable):
        # bytes values are sent as they are (raw MIME in another charset than UTF-8)
        return [
            (str(name), value if isinstance(value, bytes) else str(value)) for name, value in items
        ]
    raise TypeError(f"Can't post {type(payload).__name__} as Mailgun form fields.")
