"""The shared webhook view: authentication, signature checks, parsing, dispatch.

Each ESP subclasses :class:`AnymailBaseWebhookView` once per direction
(tracking, inbound), sets ``esp_name`` and ``signal``, implements
``parse_events()`` and, if the ESP signs its posts, ``validate_request()``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import warnings
from typing import Any, ClassVar

from django.contrib.auth.decorators import login_not_required
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.decorators import classonlymethod, method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from ..conf import get_webhook_secrets
from ..exceptions import AnymailInsecureWebhookWarning, AnymailWebhookValidationFailure
from ..signals import AnymailEvent

logger = logging.getLogger("anymail")


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class AnymailBaseWebhookView(View):
    """Base for every Anymail webhook view (CSRF-exempt, login-exempt, POST only)."""

    esp_name: ClassVar[str] = "Anymail"
    signal: ClassVar[Signal | None] = None
    #: Lets ``as_view(webhook_secret=...)`` override ANYMAIL WEBHOOK_SECRET for one
    #: route (Django's as_view() only accepts keywords that are class attributes).
    webhook_secret: ClassVar[str | list[str] | None] = None
    #: Warn when no WEBHOOK_SECRET protects this view (False for ESPs that sign).
    warn_if_no_basic_auth: ClassVar[bool] = True
    http_method_names = ["post", "head", "options"]

    @classonlymethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # Refuse an empty webhook_secret when the URLconf loads, not at the first post.
        if initkwargs.get("webhook_secret") is not None:
            get_webhook_secrets({"webhook_secret": initkwargs["webhook_secret"]})
        return super().as_view(**initkwargs)

    def __init__(self, **kwargs: Any) -> None:
        # Never empty unless no secret is configured at all: conf refuses empty secrets.
        self.basic_auth = [secret.encode("utf-8") for secret in get_webhook_secrets(kwargs)]
        if not self.basic_auth and self.warn_if_no_basic_auth:
            warnings.warn(
                f"Your Anymail {self.esp_name} webhook is not secured: set "
                "ANYMAIL WEBHOOK_SECRET and add it to the webhook URL at your ESP.",
                AnymailInsecureWebhookWarning,
                stacklevel=2,
            )
        super().__init__(**kwargs)

    def head(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Some ESPs check that the URL exists with a HEAD request before posting.
        self.validate_basic_auth(request)
        return HttpResponse()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.validate_basic_auth(request)
        self.validate_request(request)
        try:
            events = self.parse_events(request)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
            # Hostile or broken input: say why, dispatch nothing.
            return HttpResponseBadRequest(
                f"Malformed {self.esp_name} webhook payload: {type(err).__name__}: {err}",
                content_type="text/plain",
            )
        assert self.signal is not None
        for event in events:
            try:
                self.signal.send(sender=self.__class__, event=event, esp_name=self.esp_name)
            except Exception:
                # As documented: a receiver error stops the batch and answers 400,
                # so the ESP retries later. Logged with its traceback, never lost.
                logger.exception(
                    "Error in a receiver of an Anymail %s webhook event; "
                    "answered 400 so the ESP retries",
                    self.esp_name,
                )
                return HttpResponseBadRequest(
                    f"Error processing {self.esp_name} webhook event",
                    content_type="text/plain",
                )
        return HttpResponse()

    def validate_basic_auth(self, request: HttpRequest) -> None:
        """Check the shared secret (HTTP basic auth) in constant time."""
        if not self.basic_auth:
            return
        offered = self._offered_basic_auth(request)
        matched = False
        if offered is not None:
            # Compare against every allowed secret, without stopping early.
            for secret in self.basic_auth:
                matched |= hmac.compare_digest(offered, secret)
        if not matched:
            raise AnymailWebhookValidationFailure(
                f"Missing or invalid basic auth in Anymail {self.esp_name} webhook. Check "
                "that the credentials in the webhook URL at your ESP match ANYMAIL "
                "WEBHOOK_SECRET (and that your web server passes the Authorization header)."
            )

    @staticmethod
    def _offered_basic_auth(request: HttpRequest) -> bytes | None:
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

    def validate_request(self, request: HttpRequest) -> None:
        """ESP-specific signature check; raise AnymailWebhookValidationFailure if it fails."""

    def parse_events(self, request: HttpRequest) -> list[AnymailEvent]:
        """Turn the request into normalized events (raise ValueError for bad input)."""
        raise AnymailWebhookValidationFailure(
            f"{type(self).__name__} does not implement parse_events()"
        )
