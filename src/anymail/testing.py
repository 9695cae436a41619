"""Post webhooks to your app the way an ESP would, to test your signal receivers.

Anymail's own webhook tests use these helpers. A *builder* turns a payload into a
:class:`WebhookRequest`: the body, its content type and the headers the ESP
would send, signed with the keys in your settings (or given ones) and carrying
your ``WEBHOOK_SECRET`` as basic auth::

    from anymail.testing import captured_events, webhook_request

    def test_bounce_handling(client):
        request = webhook_request("amazon_ses", payload)   # signed, authenticated
        with captured_events() as events:
            response = request.post(client, "amazon_ses_tracking_webhook")
        assert response.status_code == 200
        assert events[0].event_type == "bounced"

``request.post()`` takes Django's test ``Client`` (it returns the response) or a
``RequestFactory`` (it returns the request), and a URL name or path.

With pytest, add ``pytest_plugins = ["anymail.testing"]`` to your ``conftest.py``
for the fixtures ``anymail_tracking_events`` and ``anymail_inbound_events`` (the
events dispatched during the test), ``anymail_webhook_secret`` (a fresh
``WEBHOOK_SECRET`` for the test) and ``anymail_webhook`` (posts through a test
client). pytest is only imported when it is installed.

Each ESP whose posts need more than basic auth registers its builder in
:data:`WEBHOOK_BUILDERS` (by the ESP's URL prefix, e.g. ``"amazon_ses"``), as a
callable or as a lazily imported ``"module:function"`` path.
"""

from __future__ import annotations

import base64
import importlib.util
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, cast

from django.dispatch import Signal
from django.test import override_settings
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

from .conf import Sentinel, get_django_setting, get_webhook_secrets
from .signals import inbound, tracking

__all__ = [
    "WEBHOOK_BUILDERS",
    "WebhookRequest",
    "basic_auth_header",
    "captured_events",
    "json_webhook_request",
    "random_webhook_secret",
    "register_webhook_builder",
    "webhook_request",
    "webhook_secret_setting",
]


#: Use the first ``WEBHOOK_SECRET`` from your settings (none if it is not set).
FROM_SETTINGS: Any = Sentinel("FROM_SETTINGS")


@dataclass(frozen=True)
class WebhookRequest:
    """A webhook post as an ESP would send it: body, content type and HTTP headers."""

    body: bytes
    content_type: str = "application/json"
    #: HTTP header names as sent ("Authorization", "X-Amz-Sns-Message-Type").
    headers: Mapping[str, str] = field(default_factory=dict)

    def post(self, client: Any, url: str, **extra: Any) -> Any:
        """Post with a Django test ``Client`` (→ response) or ``RequestFactory`` (→ request).

        ``url`` is a path ("/anymail/amazon_ses/tracking/") or a URL name.
        """
        path = url if url.startswith("/") else reverse(url)
        return client.post(
            path, self.body, content_type=self.content_type, headers=dict(self.headers), **extra
        )

    def head(self, client: Any, url: str, **extra: Any) -> Any:
        """A HEAD request with the same headers (ESPs that check a URL send one)."""
        path = url if url.startswith("/") else reverse(url)
        return client.head(path, headers=dict(self.headers), **extra)

    def with_headers(self, headers: Mapping[str, str | None]) -> WebhookRequest:
        """A copy with headers added or replaced (None removes one), e.g. to forge one."""
        replaced = {name.lower() for name in headers}
        merged = {
            name: value for name, value in self.headers.items() if name.lower() not in replaced
        }
        merged.update({name: value for name, value in headers.items() if value is not None})
        return replace(self, headers=merged)

    def with_body(self, body: bytes) -> WebhookRequest:
        """A copy with another body and the same headers (whose signature then fails)."""
        return replace(self, body=body)


class WebhookBuilder(Protocol):
    def __call__(self, payload: Any, **options: Any) -> WebhookRequest: ...


#: Builders by ESP URL prefix: a callable, or a "module:function" path imported on use.
WEBHOOK_BUILDERS: dict[str, WebhookBuilder | str] = {
    # Basic auth only: Postmark's optional X-PM-Webhook-Trace-Id goes in `headers`.
    "mailjet": "anymail.testing:json_webhook_request",
    "postmark": "anymail.testing:json_webhook_request",
    "mailgun": "anymail._testing_mailgun:mailgun_webhook_request",
    "amazon_ses": "anymail._testing_amazon_ses:sns_webhook_request",
    "mandrill": "anymail._testing_mandrill:mandrill_webhook_request",
    "sendgrid": "anymail._testing_sendgrid:sendgrid_webhook_request",
    "sendgrid_inbound": "anymail._testing_sendgrid:sendgrid_inbound_webhook_request",
    # ESPs that sign nothing: basic auth is all.
    "brevo": "anymail.testing:json_webhook_request",
    "sendinblue": "anymail.testing:json_webhook_request",
    "postal": "anymail._testing_postal:postal_webhook_request",
    "sparkpost": "anymail.testing:json_webhook_request",  # basic auth only
    "scaleway": "anymail._testing_scaleway:scaleway_webhook_request",
    "resend": "anymail._testing_resend:resend_webhook_request",
}


def register_webhook_builder(esp: str, builder: WebhookBuilder | str) -> None:
    """Make ``webhook_request(esp, ...)`` use ``builder``."""
    WEBHOOK_BUILDERS[esp] = builder


def webhook_request(esp: str, payload: Any, **options: Any) -> WebhookRequest:
    """A correctly signed and authenticated post of ``payload`` for ``esp``.

    ``esp`` is the ESP's URL prefix ("amazon_ses"); ``options`` go to its builder
    (each builder documents them; all take ``basic_auth``, see :func:`basic_auth_header`).
    """
    try:
        builder = WEBHOOK_BUILDERS[esp]
    except KeyError:
        known = ", ".join(sorted(WEBHOOK_BUILDERS)) or "none"
        raise LookupError(
            f"No Anymail webhook request builder for {esp!r} (registered: {known}). "
            "Use json_webhook_request() for an ESP that only uses basic auth."
        ) from None
    if isinstance(builder, str):
        builder = cast(WebhookBuilder, import_string(builder.replace(":", ".")))
        WEBHOOK_BUILDERS[esp] = builder
    return builder(payload, **options)


def basic_auth_header(secret: str | None = FROM_SETTINGS) -> dict[str, str]:
    """``{"Authorization": "Basic ..."}`` for ``secret`` ("user:password").

    By default the first ``WEBHOOK_SECRET`` of your settings; an empty dict when
    ``secret`` is None or no secret is configured.
    """
    if secret is FROM_SETTINGS:
        secrets = get_webhook_secrets()
        secret = secrets[0] if secrets else None
    if secret is None:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(secret.encode("utf-8")).decode("ascii")}


def json_webhook_request(
    payload: Any,
    *,
    basic_auth: str | None = FROM_SETTINGS,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> WebhookRequest:
    """A post of ``payload`` as JSON (bytes are sent as they are), with basic auth.

    The builder for ESPs that sign nothing; signed ESPs' builders start from it.
    """
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    return WebhookRequest(
        body=body,
        content_type=content_type,
        headers={**basic_auth_header(basic_auth), **(headers or {})},
    )


def random_webhook_secret() -> str:
    """A new "random:random" WEBHOOK_SECRET, as strong as Anymail's check asks."""
    return f"{get_random_string(24)}:{get_random_string(24)}"


@contextmanager
def captured_events(signal: Signal = tracking) -> Iterator[list[Any]]:
    """The events sent with ``signal`` (default ``tracking``) while the block runs."""
    events: list[Any] = []

    def receiver(sender: Any, event: Any, **kwargs: Any) -> None:
        events.append(event)

    signal.connect(receiver, weak=False)
    try:
        yield events
    finally:
        signal.disconnect(receiver)


@contextmanager
def webhook_secret_setting(secret: str | list[str]) -> Iterator[None]:
    """``ANYMAIL["WEBHOOK_SECRET"]`` set to ``secret`` (other ANYMAIL settings kept)."""
    current = get_django_setting("ANYMAIL") or {}
    with override_settings(ANYMAIL={**current, "WEBHOOK_SECRET": secret}):
        yield


class WebhookPoster:
    """What the ``anymail_webhook`` fixture gives: posts through a Django test client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, esp: str, url: str, payload: Any, **options: Any) -> Any:
        """Post ``payload`` as ``esp`` would (see :func:`webhook_request`) to ``url``."""
        return webhook_request(esp, payload, **options).post(self.client, url)


# pytest finds fixtures as module attributes of a plugin: pytest_plugins = ["anymail.testing"].
if importlib.util.find_spec("pytest") is not None:
    import pytest

    @pytest.fixture
    def anymail_tracking_events() -> Iterator[list[Any]]:
        """The tracking events dispatched during the test."""
        with captured_events(tracking) as events:
            yield events

    @pytest.fixture
    def anymail_inbound_events() -> Iterator[list[Any]]:
        """The inbound events dispatched during the test."""
        with captured_events(inbound) as events:
            yield events

    @pytest.fixture
    def anymail_webhook_secret() -> Iterator[str]:
        """A fresh WEBHOOK_SECRET, set for the test (builders send it as basic auth)."""
        secret = random_webhook_secret()
        with webhook_secret_setting(secret):
            yield secret

    @pytest.fixture
    def anymail_webhook() -> WebhookPoster:
        """``anymail_webhook.post(esp, url, payload, **options)`` with a test client."""
        from django.test import Client

        return WebhookPoster(Client())
