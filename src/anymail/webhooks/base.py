"""The shared webhook view: authentication, body checks, signatures, dispatch.

An ESP subclasses :class:`AnymailTrackingWebhookView` and :class:`AnymailInboundWebhookView`
(a view whose posts mix both, like Mandrill's, subclasses :class:`AnymailBaseWebhookView`;
each event then goes out on the signal of its event class)::

    class AcmeTrackingWebhookView(AnymailTrackingWebhookView):
        esp_name = "Acme"
        signature_scheme = "HMAC-SHA256"   # for the feature matrix; None: basic auth only
        warn_if_no_basic_auth = False      # the ESP signs its posts

        def validate_request(self, request):
            # Raise AnymailWebhookValidationFailure if forged; return the signed time
            # (an aware datetime) for the freshness check, or None if nothing is signed.
            return self.verifier.verify(request.body, request.headers)

        def parse_events(self, request):
            # Read the body only through anymail.webhooks._payload (json_body() parses it).
            return parse_acme_events(self.json_body(request))

A POST goes through, in order:

1. basic auth (``_basic_auth``) against ``WEBHOOK_SECRET`` (a list allows rotation).
   With ``basic_auth_challenge`` set, a post without credentials is answered 401
   with ``WWW-Authenticate`` first (Amazon SNS only sends them when challenged);
2. the body gate: ``max_body_size`` (``WEBHOOK_MAX_BODY_SIZE``) and ``content_types``;
3. ``validate_request()``: the ESP's signature, then the freshness of the signed time
   (``<ESP>_WEBHOOK_MAX_AGE``);
4. ``parse_events()``: every event is parsed before any is dispatched;
5. per event, ``dedupe_key()``: an event already handled is skipped; otherwise the
   signal is sent, and the event is marked as handled only after its receivers ran;
6. 200.

How exceptions become responses (the ESP retries 5xx; most drop what got a 4xx):

- :exc:`AnymailWebhookValidationFailure` and its subclasses (the payload accessors'
  :exc:`AnymailWebhookPayloadError`, the inbound parser's limits): 400 with a
  one-line reason; nothing is dispatched;
- :exc:`AnymailWebhookTransientError` (certificate or S3 fetch failed, cache down): 503;
- an exception in a signal receiver: logged with its traceback, 500; the rest of
  the batch is not dispatched (the ESP's retry brings it, minus the events done);
- :exc:`AnymailConfigurationError` (a misrouted post, an empty secret) and anything
  else, i.e. a bug: not caught here, so Django answers 500 and logs the traceback.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, MutableMapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, Final, Generic, TypeVar

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.decorators import classonlymethod, method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from ..conf import (
    WEBHOOK_SECRET,
    Setting,
    get_setting,
    get_webhook_secrets,
    invalid_setting,
)
from ..exceptions import (
    AnymailInsecureWebhookWarning,
    AnymailWebhookPayloadError,
    AnymailWebhookTransientError,
    AnymailWebhookValidationFailure,
)
from ..signals import AnymailEvent, AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from ._basic_auth import challenge, matches_any, offered_credentials
from ._body import (
    DEFAULT_INBOUND_MAX_BODY_SIZE,
    DEFAULT_MAX_BODY_SIZE,
    MULTIPART,
    WEBHOOK_MAX_BODY_SIZE,
    read_body,
)
from ._payload import parse_json
from .dedupe import (
    WEBHOOK_DEDUPE_CACHE,
    WEBHOOK_DEDUPE_PREFIX,
    WEBHOOK_DEDUPE_TTL,
    DedupeStore,
    digest_key,
    event_key,
    get_dedupe_store,
    get_dedupe_ttl,
    raw_event_bytes,
)
from .freshness import WEBHOOK_MAX_AGE, check_freshness, get_max_age
from .signing import utc_now

__all__ = [
    "AnymailBaseWebhookView",
    "AnymailInboundWebhookView",
    "AnymailTrackingWebhookView",
]

logger = logging.getLogger("anymail")

#: Longest reason put in a 400 answer or a log line (it may quote ESP input).
MAX_REASON_LENGTH: Final = 300

#: Django's own exceptions for a body it refuses to read: hostile input, so a 400.
_UNREADABLE_BODY: Final = (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    MultiPartParserError,
)

_UNPARSED: Final[Any] = object()

#: The kind of event a view parses (AnymailTrackingEvent, AnymailInboundEvent or both).
EventT = TypeVar("EventT", bound=AnymailEvent)


def one_line(text: str, limit: int = MAX_REASON_LENGTH) -> str:
    """The first line of ``text``, control characters removed, at most ``limit`` long."""
    line = text.strip().split("\n", 1)[0]
    line = "".join(char if char.isprintable() else "?" for char in line[: limit + 1])
    return line if len(line) <= limit else line[: limit - 1] + "…"


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class AnymailBaseWebhookView(View, Generic[EventT]):
    """Base for every Anymail webhook view (CSRF-exempt, login-exempt, POST and HEAD)."""

    esp_name: ClassVar[str] = "Anymail"
    #: The ESP's name in setting names, when it differs (a renamed ESP's legacy views).
    settings_esp_name: ClassVar[str | None] = None
    #: ``tracking`` or ``inbound`` (the two subclasses below set it); None for a view
    #: that sends both (see signal_for()).
    signal: ClassVar[Signal | None] = None
    #: The signature scheme the view checks, as the feature matrix shows it.
    signature_scheme: ClassVar[str | None] = None
    #: Lets ``as_view(webhook_secret=...)`` override ANYMAIL WEBHOOK_SECRET for one
    #: route (Django's as_view() only accepts keywords that are class attributes).
    webhook_secret: ClassVar[str | list[str] | None] = None
    #: Warn when no WEBHOOK_SECRET protects this view (False for ESPs that sign).
    #: (An instance may set it, before ``__init__``, when signing is optional.)
    warn_if_no_basic_auth: bool = True
    #: Answer a post without credentials with 401 and a Basic challenge, for ESPs
    #: (Amazon SNS) that only send the URL's credentials when challenged. Otherwise
    #: missing credentials are a 400, like wrong ones.
    basic_auth_challenge: ClassVar[bool] = False
    #: Largest body accepted, in bytes, unless ANYMAIL WEBHOOK_MAX_BODY_SIZE says otherwise.
    #: None: DEFAULT_MAX_BODY_SIZE for tracking, DEFAULT_INBOUND_MAX_BODY_SIZE otherwise.
    max_body_size: ClassVar[int | None] = None
    #: Media types the ESP posts (lowercase, no parameters); empty: any.
    content_types: ClassVar[Sequence[str]] = ()

    #: The settings this view reads (``as_view()`` takes those it has an attribute for).
    declared_settings: ClassVar[tuple[Setting, ...]] = (
        WEBHOOK_SECRET,
        WEBHOOK_MAX_BODY_SIZE,
        WEBHOOK_MAX_AGE,
        WEBHOOK_DEDUPE_CACHE,
        WEBHOOK_DEDUPE_PREFIX,
        WEBHOOK_DEDUPE_TTL,
    )

    http_method_names = ["post", "head"]
    _json_body: Any = _UNPARSED

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

    @property
    def _settings_esp_name(self) -> str:
        return self.settings_esp_name or self.esp_name

    def view_setting(
        self,
        setting: Setting,
        kwargs: MutableMapping[str, Any],
        getter: Callable[[Setting, str, MutableMapping[str, Any]], Any] = get_setting,
    ) -> Any:
        """``getter(setting, esp_name, kwargs)`` for the ``as_view()`` keywords, where
        ``<name>=None`` (the class attribute's default) means "use the settings"."""
        if kwargs.get(setting.name, "") is None:
            del kwargs[setting.name]
        return getter(setting, self.esp_name, kwargs)

    # --- the request --------------------------------------------------------------------

    def head(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Some ESPs check that the URL exists with a HEAD request before posting.
        return self.unauthenticated(request) or HttpResponse()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = self.unauthenticated(request)
        if refusal is not None:
            return refusal
        try:
            self.check_body(request)
            signed_at = self.validate_request(request)
            check_freshness(
                signed_at, self.max_age, esp_name=self._settings_esp_name, clock=self.now
            )
            events = list(self.parse_events(request))
        except AnymailWebhookValidationFailure as err:
            return self.refused(err)
        except _UNREADABLE_BODY as err:
            return self.refused(AnymailWebhookPayloadError(f"the body is unreadable: {err}"))
        except AnymailWebhookTransientError as err:
            return self.retry_later(err)
        return self.dispatch_events(events)

    # --- 1. basic auth ------------------------------------------------------------------

    def unauthenticated(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to a request without valid credentials (the 401 challenge, or 400);
        None when the basic auth checks out."""
        challenge = self.basic_auth_challenge_response(request)
        if challenge is not None:
            return challenge
        try:
            self.validate_basic_auth(request)
        except AnymailWebhookValidationFailure as err:
            return self.refused(err)
        return None

    def basic_auth_challenge_response(self, request: HttpRequest) -> HttpResponse | None:
        """The 401 challenge, if this view sends one and the post has no credentials."""
        if (
            self.basic_auth_challenge
            and self.basic_auth
            and not request.META.get("HTTP_AUTHORIZATION")
        ):
            return challenge()
        return None

    def validate_basic_auth(self, request: HttpRequest) -> None:
        """Check the shared secret (HTTP basic auth) in constant time."""
        if self.basic_auth and not matches_any(offered_credentials(request), self.basic_auth):
            raise AnymailWebhookValidationFailure(
                f"Missing or invalid basic auth in Anymail {self.esp_name} webhook. Check "
                "that the credentials in the webhook URL at your ESP match ANYMAIL "
                "WEBHOOK_SECRET (and that your web server passes the Authorization header)."
            )

    # --- 2. body gate -------------------------------------------------------------------

    @cached_property
    def body_size_limit(self) -> int:
        default = self.max_body_size or (
            DEFAULT_MAX_BODY_SIZE if self.signal is tracking else DEFAULT_INBOUND_MAX_BODY_SIZE
        )
        value = get_setting(WEBHOOK_MAX_BODY_SIZE, default=default)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise invalid_setting("webhook_max_body_size", None, "expected a number of bytes.")
        return value

    def check_body(self, request: HttpRequest) -> None:
        """Refuse a body over the size limit (before reading it) or of the wrong type."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads nothing then
        if length > self.body_size_limit:
            raise AnymailWebhookPayloadError(
                f"the body is {length} bytes, over the {self.body_size_limit}-byte limit "
                "(ANYMAIL WEBHOOK_MAX_BODY_SIZE)."
            )
        if self.content_types and (request.content_type or "").lower() not in self.content_types:
            raise AnymailWebhookPayloadError(
                f"the body should be {' or '.join(self.content_types)}, "
                f"not {one_line(request.content_type or 'untyped', 80)}."
            )
        # Read now, past Django's form limit (see _body). Multipart bodies are left to
        # Django, which streams their files to disk (SendGrid's view reads its own).
        if length and request.content_type != MULTIPART and not request._read_started:
            read_body(request)

    def json_body(self, request: HttpRequest) -> Any:
        """The body parsed as JSON (strict UTF-8, bounded depth); parsed once per request."""
        if self._json_body is _UNPARSED:
            self._json_body = parse_json(request.body)
        return self._json_body

    # --- 3. signature and freshness -----------------------------------------------------

    def validate_request(self, request: HttpRequest) -> datetime | None:
        """The ESP's signature check: raise AnymailWebhookValidationFailure if it fails.

        Return the time the ESP signed (aware datetime) when the scheme signs one, so
        that a replayed post older than ``<ESP>_WEBHOOK_MAX_AGE`` is refused; else None.
        """
        return None

    @cached_property
    def max_age(self) -> float | None:
        return get_max_age(self._settings_esp_name)

    def now(self) -> datetime:
        """The current time (aware UTC) for the freshness check; tests pin it."""
        return utc_now()

    # --- 4. parsing ---------------------------------------------------------------------

    def parse_events(self, request: HttpRequest) -> list[EventT]:
        """Turn the request into normalized events. Read the body through the typed
        accessors of ``anymail.webhooks._payload``, which raise AnymailWebhookPayloadError."""
        raise NotImplementedError(f"{type(self).__name__} must implement parse_events()")

    # --- 5. dedupe and dispatch ---------------------------------------------------------

    @cached_property
    def dedupe_store(self) -> DedupeStore | None:
        return get_dedupe_store()

    @cached_property
    def dedupe_ttl(self) -> float:
        return get_dedupe_ttl(self._settings_esp_name)

    def dedupe_key(self, event: EventT) -> str | None:
        """The key that identifies ``event`` among the ESP's events, None to never dedupe it.

        By default the event's ``event_id``, or else a digest of its ``esp_event``.
        Override when the ESP's event_id is not unique per event.
        """
        if event.event_id:
            return event_key(self._settings_esp_name, event.event_id)
        return self.digest_dedupe_key(event)

    def digest_dedupe_key(self, event: AnymailEvent) -> str | None:
        """The key of a digest of ``event``'s ``esp_event`` (None if it isn't plain data)."""
        raw = raw_event_bytes(event.esp_event)
        return digest_key(self._settings_esp_name, raw) if raw is not None else None

    def signal_for(self, event: EventT) -> Signal:
        """The signal that carries ``event``: ``signal``, or by event class if None."""
        if self.signal is not None:
            return self.signal
        return inbound if isinstance(event, AnymailInboundEvent) else tracking

    def dispatch_events(self, events: list[EventT]) -> HttpResponse:
        store = self.dedupe_store
        for event in events:
            key = self.dedupe_key(event) if store is not None else None
            try:
                if key is not None and store is not None and store.seen(key):
                    continue  # already handled: acknowledge, don't dispatch again
            except AnymailWebhookTransientError as err:
                return self.retry_later(err)
            try:
                self.signal_for(event).send(sender=type(self), event=event, esp_name=self.esp_name)
            except Exception:
                # Receiver code, not ours: log it and answer 5xx, so that every ESP retries
                # (Amazon SNS and Postmark drop an event answered 4xx).
                logger.exception(
                    "Error in a receiver of an Anymail %s webhook event; answered 500 so "
                    "the ESP retries",
                    self.esp_name,
                )
                return HttpResponse(
                    f"Error processing {self.esp_name} webhook event",
                    status=500,
                    content_type="text/plain",
                )
            if key is not None and store is not None:
                try:
                    store.mark(key, self.dedupe_ttl)
                except AnymailWebhookTransientError as err:
                    return self.retry_later(err)
        return HttpResponse()

    # --- answers ------------------------------------------------------------------------

    def refused(self, err: AnymailWebhookValidationFailure) -> HttpResponse:
        """400 with a one-line reason: forged, unauthenticated or malformed."""
        reason = str(err)
        if isinstance(err, AnymailWebhookPayloadError):
            reason = f"Malformed {self.esp_name} webhook payload: {reason}"
        reason = one_line(reason)
        logger.warning("Anymail %s webhook refused a request (400): %s", self.esp_name, reason)
        return HttpResponse(reason, status=400, content_type="text/plain")

    def retry_later(self, err: AnymailWebhookTransientError) -> HttpResponse:
        """503: a local failure that may pass; the ESP should post again later."""
        reason = one_line(str(err))
        logger.error("Anymail %s webhook could not be handled (503): %s", self.esp_name, reason)
        return HttpResponse(reason, status=503, content_type="text/plain")


class AnymailTrackingWebhookView(AnymailBaseWebhookView[AnymailTrackingEvent]):
    """Base for a view of delivery and engagement events: sent with ``tracking``."""

    signal = tracking


class AnymailInboundWebhookView(AnymailBaseWebhookView[AnymailInboundEvent]):
    """Base for a view of received messages: sent with ``inbound``."""

    signal = inbound
