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
    options: dict[str, Any] = {"basic_auth": secret}
    builder_options = getattr(emulator, "builder_options", None)
    if builder_options is not None:
        options.update(builder_options(url, secret))
    request = webhook_request(emulator.esp, payload, **options)
    status, answer = http_post(
        url, request.body, {**request.headers, "Content-Type": request.content_type}
    )
    return EventRecord(event, recipient, url, status, answer[:2000])


def post_inbound(
    emulator: Emulator, webhook_url: str, secret: str | None, form: dict[str, str]
) -> EventRecord:
    from . import http_post

    build = getattr(emulator, "inbound_payload", None)
    if build is None:
        raise ValueError(f"The sandbox cannot post {emulator.name} inbound messages yet.")
    url = f"{webhook_url.rstrip('/')}/{emulator.esp}/inbound/"
    request = webhook_request(emulator.esp, build(form), basic_auth=secret)
    status, answer = http_post(
        url, request.body, {**request.headers, "Content-Type": request.content_type}
    )
    return EventRecord("inbound", form.get("to", ""), url, status, answer[:2000])
