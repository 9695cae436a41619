"""Posting an ESP's tracking event to the app, as the ESP would sign it."""

from __future__ import annotations

from ..conf import get_webhook_secrets
from ..testing import webhook_request
from .esps import Emulator, Message
from .store import EventRecord


def post_event(
    emulator: Emulator, webhook_url: str, message: Message, recipient: str, event: str
) -> EventRecord:
    from . import http_post

    url = f"{webhook_url.rstrip('/')}/{emulator.esp}/{emulator.webhook_name}/"
    payload = emulator.event_payload(message, recipient, event)
    options = {}
    builder_options = getattr(emulator, "builder_options", None)
    if builder_options is not None:
        secrets = get_webhook_secrets()
        options = builder_options(url, secrets[0] if secrets else None)
    request = webhook_request(emulator.esp, payload, **options)
    status, answer = http_post(
        url, request.body, {**request.headers, "Content-Type": request.content_type}
    )
    return EventRecord(event, recipient, url, status, answer[:2000])


def post_inbound(emulator: Emulator, webhook_url: str, form: dict[str, str]) -> EventRecord:
    from . import http_post

    build = getattr(emulator, "inbound_payload", None)
    if build is None:
        raise ValueError(f"The sandbox cannot post {emulator.name} inbound messages yet.")
    url = f"{webhook_url.rstrip('/')}/{emulator.esp}/inbound/"
    request = webhook_request(emulator.esp, build(form))
    status, answer = http_post(
        url, request.body, {**request.headers, "Content-Type": request.content_type}
    )
    return EventRecord("inbound", form.get("to", ""), url, status, answer[:2000])
