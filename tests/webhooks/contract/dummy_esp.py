"""A test-only ESP that exercises the webhook framework end to end.

"Dummy" signs like Svix (Resend): an HMAC of ``id.timestamp.body`` in three
headers, checked by the shared :class:`~anymail.webhooks.signing.SvixVerifier`,
with a signed time for the freshness check. It posts a JSON object with a list
of events, some with an id and some without (those are deduplicated by digest).
"""

from __future__ import annotations

import time
from typing import Any, Final

from django.http import HttpRequest
from django.urls import path

from anymail.conf import get_anymail_setting
from anymail.signals import AnymailTrackingEvent, EventType, tracking
from anymail.testing import (
    FROM_SETTINGS,
    WebhookRequest,
    json_webhook_request,
    register_webhook_builder,
)
from anymail.webhooks._payload import json_object
from anymail.webhooks.base import AnymailBaseWebhookView
from anymail.webhooks.signing import SvixVerifier

SIGNING_SECRET: Final = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY_SETTING: Final = "DUMMY_SIGNING_SECRET"

EVENT_TYPES: Final = {
    "delivered": EventType.DELIVERED,
    "bounced": EventType.BOUNCED,
    "opened": EventType.OPENED,
}


def verifier(secret: str | None = None) -> SvixVerifier:
    if secret is None:
        secret = get_anymail_setting("signing_secret", esp_name="Dummy")
    return SvixVerifier(secret, esp_name="Dummy", key_setting=KEY_SETTING)


def parse_dummy_events(data: Any) -> list[AnymailTrackingEvent]:
    events = []
    for item in json_object(data).objects("events"):
        metadata = item.object("metadata", None)
        events.append(
            AnymailTrackingEvent(
                EVENT_TYPES.get(item.text("type"), EventType.UNKNOWN),
                timestamp=item.epoch("at"),
                event_id=item.text("id", None),
                esp_event=item.data,
                message_id=item.text("message_id"),
                recipient=item.text("recipient"),
                tags=item.texts("tags", []),
                metadata=dict(metadata.data) if metadata is not None else {},
            )
        )
    return events


class DummyTrackingWebhookView(AnymailBaseWebhookView):
    esp_name = "Dummy"
    signal = tracking
    signature_scheme = "Svix (HMAC-SHA256)"
    warn_if_no_basic_auth = False
    content_types = ("application/json",)

    def __init__(self, **kwargs: Any) -> None:
        self.verifier = verifier()
        super().__init__(**kwargs)

    def validate_request(self, request: HttpRequest) -> Any:
        return self.verifier.verify(request.body, request.headers)

    def parse_events(self, request: HttpRequest) -> list[Any]:
        return parse_dummy_events(self.json_body(request))


def dummy_webhook_request(
    payload: Any,
    *,
    basic_auth: str | None = FROM_SETTINGS,
    signing_secret: str | None = None,
    timestamp: int | None = None,
    msg_id: str = "msg_2LXnCQ7jrVnbW3CHd5pVdsEPJlh",
) -> WebhookRequest:
    """A Dummy post of ``payload`` (or raw bytes), signed now (or at ``timestamp``)."""
    request = json_webhook_request(payload, basic_auth=basic_auth)
    signed_at = int(time.time()) if timestamp is None else timestamp
    return request.with_headers(
        verifier(signing_secret).signed_headers(msg_id, signed_at, request.body)
    )


register_webhook_builder("dummy", dummy_webhook_request)

urlpatterns = [
    path(
        "anymail/dummy/tracking/",
        DummyTrackingWebhookView.as_view(),
        name="dummy_tracking_webhook",
    ),
]
