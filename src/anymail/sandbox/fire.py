"""Posting an ESP's tracking event to the app, as the ESP would sign it."""

from __future__ import annotations

from typing import Any

from ..testing import webhook_request
from .esps import Emulator, Message
from .store import EventRecord


def post_event(
    emulator: Emulator,
    webhook_url: str,
    secret: str | None,
    message: Message,
    recipient: str,
    event: str,
) -> EventRecord:
    """Post ``event`` with basic auth ``secret`` (as in the URL you give an ESP)."""
    from . import http_post

    url = f"{webhook_url.rstrip('/')}/{emulator.esp}/{emulator.webhook_name}/"
    payload = emulator.event_payload(message, recipient, event)
    options: dict[str, Any] = {"basic_auth": secret, **emulator.builder_options(url, secret)}
    request = webhook_request(emulator.esp, payload, **options)
    status, answer = http_post(
        url, request.body, {**request.headers, "Content-Type": request.content_type}
    )
    return EventRecord(event, recipient, url, status, answer[:2000])


def post_inbound(
    emulator: Emulator, webhook_url: str, secret: str | None, form: dict[str, str]
) -> EventRecord:
    """Post an inbound message in ``emulator``'s own format, signed as the ESP signs it."""
    from . import http_post

    if emulator.inbound_payload is None:
        raise ValueError(f"{emulator.name} receives no mail: it has no inbound webhook.")
    url = f"{webhook_url.rstrip('/')}/{emulator.esp}/{emulator.inbound_name}/"
    options: dict[str, Any] = {"basic_auth": secret, **emulator.builder_options(url, secret)}
    request = webhook_request(
        emulator.inbound_builder or emulator.esp, emulator.inbound_payload(form), **options
    )
    status, answer = http_post(
        url, request.body, {**request.headers, "Content-Type": request.content_type}
    )
    return EventRecord("inbound", form.get("to", ""), url, status, answer[:2000])
