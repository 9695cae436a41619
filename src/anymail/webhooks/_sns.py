"""The SNS side of webhooks delivered by Amazon SNS or an SNS-compatible service.

SNS posts each message as a JSON envelope (``Type``: ``Notification``,
``SubscriptionConfirmation`` or ``UnsubscribeConfirmation``; see the SNS docs'
"HTTP/HTTPS notification JSON format"), plus ``x-amz-sns-*`` headers that are
not signed. The ESP's payload is the ``Message`` string of a ``Notification``.

:class:`SnsWebhookView` checks a post (basic auth, which SNS only sends after a
401 challenge; the optional topic allow-list ``<ESP>_SNS_TOPIC_ARNS``; the
signature and its age), confirms subscriptions (``<ESP>_AUTO_CONFIRM_SNS_SUBSCRIPTIONS``,
only for authenticated posts) and ignores unsubscribe confirmations. An ESP's
view says how to verify (:meth:`~SnsWebhookView.make_verifier`), how to confirm
(:meth:`~SnsWebhookView.subscribe`) and what a notification holds
(:meth:`~SnsWebhookView.parse_notification`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

from django.http import HttpRequest

from ..conf import BOOL, STRINGS, Setting, get_bool, get_setting, invalid_setting, setting_name
from ..exceptions import AnymailInsecureWebhookWarning, AnymailWebhookValidationFailure
from ._payload import JsonObject, json_object
from .base import AnymailBaseWebhookView, EventT

if TYPE_CHECKING:
    from .signing import SnsVerifier

logger = logging.getLogger("anymail")

#: Envelope types SNS posts to an HTTPS subscriber.
SNS_MESSAGE_TYPES: Final = frozenset(
    {"Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"}
)
#: Unsigned headers that repeat envelope fields; when present they must agree.
_HEADER_FIELDS: Final = {
    "x-amz-sns-message-type": "Type",
    "x-amz-sns-message-id": "MessageId",
    "x-amz-sns-topic-arn": "TopicArn",
}


@dataclass(frozen=True)
class SnsEnvelope:
    """The fields of an SNS post that the views use (``fields``: the whole envelope)."""

    fields: JsonObject
    type: str
    message_id: str
    topic_arn: str
    #: The (signed) SNS Timestamp; None for a raw-delivery post, which has none.
    timestamp: datetime | None


def read_envelope(
    body: Any, headers: Mapping[str, str], esp_name: str = "Amazon SES"
) -> SnsEnvelope:
    """The SNS envelope of a post (its JSON ``body``), checked against its headers."""
    fields = json_object(body)
    envelope = SnsEnvelope(
        fields=fields,
        type=fields.text("Type"),
        message_id=fields.text("MessageId"),
        topic_arn=fields.text("TopicArn"),
        timestamp=fields.iso_datetime("Timestamp"),
    )
    for name in ("Message", "Subject", "Token", "SubscribeURL"):
        # Signed text: checked here (lone surrogates...) before the verifier encodes it.
        fields.text(name, None, max_length=None)
    if envelope.type not in SNS_MESSAGE_TYPES:
        raise AnymailWebhookValidationFailure(
            f"{esp_name} webhook: unknown SNS message Type {envelope.type[:40]!r}."
        )
    for header, field in _HEADER_FIELDS.items():
        value = headers.get(header)
        if value is not None and value != fields.text(field):
            raise AnymailWebhookValidationFailure(
                f"{esp_name} webhook: the {header} header does not match the body's {field}."
            )
    return envelope


SNS_TOPIC_ARNS: Final = Setting(
    "sns_topic_arns",
    STRINGS,
    "The ARNs of the SNS topics allowed to post (None: any topic).",
    default=None,
    option=False,
)
AUTO_CONFIRM_SNS_SUBSCRIPTIONS: Final = Setting(
    "auto_confirm_sns_subscriptions",
    BOOL,
    "Confirm SNS subscriptions (only for authenticated posts).",
    default=True,
    option=False,
)


def topic_arns_setting(esp_name: str) -> frozenset[str] | None:
    """``<ESP>_SNS_TOPIC_ARNS``: the topics allowed to post (None: any topic)."""
    value = get_setting(SNS_TOPIC_ARNS, esp_name)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset) or not all(
        isinstance(arn, str) and arn for arn in value
    ):
        raise invalid_setting("sns_topic_arns", esp_name, "expected a list of SNS topic ARNs.")
    if not value:
        raise invalid_setting(
            "sns_topic_arns",
            esp_name,
            "the list is empty, which refuses every post. List your topics' ARNs, or remove it.",
        )
    return frozenset(value)


class SnsWebhookView(AnymailBaseWebhookView[EventT]):
    """The SNS envelope, its checks and subscriptions; subclasses handle the Message."""

    basic_auth_challenge = True
    # SNS signs every post, but a signature only proves *some* topic sent it: the
    # warning comes below, unless a topic allow-list ties posts to the user's topics.
    warn_if_no_basic_auth = False
    #: The service's name in messages ("Amazon SNS").
    sns_service: ClassVar[str] = "SNS"
    #: The post's SNS envelope (set by validate_request()).
    envelope: SnsEnvelope
    declared_settings: ClassVar[tuple[Setting, ...]] = (
        SNS_TOPIC_ARNS,
        AUTO_CONFIRM_SNS_SUBSCRIPTIONS,
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        esp_name = self._settings_esp_name
        self.auto_confirm = get_bool(AUTO_CONFIRM_SNS_SUBSCRIPTIONS, esp_name)
        self.topic_arns = topic_arns_setting(esp_name)
        self.verifier = self.make_verifier()
        if not self.basic_auth and self.topic_arns is None:
            warnings.warn(
                f"Your Anymail {self.esp_name} webhook accepts posts from any {self.sns_service} "
                "topic: set ANYMAIL WEBHOOK_SECRET (and use it in the subscription URL), or "
                f"{setting_name('sns_topic_arns', esp_name)}.",
                AnymailInsecureWebhookWarning,
                stacklevel=2,
            )

    def make_verifier(self) -> SnsVerifier | None:
        """The signature verifier (None: signatures are not checked)."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_verifier()")

    def validate_request(self, request: HttpRequest) -> datetime | None:
        self.envelope = read_envelope(self.json_body(request), request.headers, self.esp_name)
        return self.check_envelope(self.envelope)

    def check_envelope(self, envelope: SnsEnvelope) -> datetime | None:
        """The topic allow-list, then the signature; returns the signed time."""
        topic_arn = envelope.topic_arn
        if self.topic_arns is not None and topic_arn not in self.topic_arns:
            raise AnymailWebhookValidationFailure(
                f"{self.esp_name} webhook: SNS topic {topic_arn[:300]!r} is not in ANYMAIL "
                f"{setting_name('sns_topic_arns', self._settings_esp_name)}."
            )
        if self.verifier is None:
            return envelope.timestamp  # not signed, but still limits naive replays
        return self.verifier.verify(envelope.fields.data)

    def parse_events(self, request: HttpRequest) -> list[EventT]:
        envelope = self.envelope
        if envelope.type == "SubscriptionConfirmation":
            self.confirm_subscription(envelope)
            return []
        if envelope.type == "UnsubscribeConfirmation":
            return []  # never re-subscribe with its token
        return self.parse_notification(envelope.fields.text("Message", max_length=None), envelope)

    def parse_notification(self, message: str, envelope: SnsEnvelope) -> list[EventT]:
        """The events of a Notification's ``message`` (its Message field)."""
        raise NotImplementedError(f"{type(self).__name__} must implement parse_notification()")

    # --- subscriptions ------------------------------------------------------------------

    def confirm_subscription(self, envelope: SnsEnvelope) -> None:
        """Confirm the subscription, only for an authenticated post (secret or allow-list)."""
        if self.auto_confirm and (self.basic_auth or self.topic_arns):
            self.subscribe(envelope)
            return
        problem = self.unconfirmed_problem(envelope)
        # The 400 answer's reason is cut short: log the whole text, token included.
        logger.warning(problem)
        raise AnymailWebhookValidationFailure(problem, esp_name=self.esp_name)

    def subscribe(self, envelope: SnsEnvelope) -> None:
        """Confirm the (authenticated, verified) subscription request ``envelope``."""
        raise NotImplementedError(f"{type(self).__name__} must implement subscribe()")

    def manual_confirmation(self, envelope: SnsEnvelope) -> str:
        """How the user can confirm the subscription by hand (ends a sentence)."""
        return f"with token '{envelope.fields.text('Token')}'"

    def unconfirmed_problem(self, envelope: SnsEnvelope) -> str:
        """Why a subscription request is refused (auto-confirm off, or unauthenticated)."""
        topic_arn, esp_name = envelope.topic_arn, self._settings_esp_name
        if not self.auto_confirm:
            return (
                f"Anymail received a SubscriptionConfirmation request for {self.sns_service} "
                f"topic '{topic_arn}', and "
                f"{setting_name('auto_confirm_sns_subscriptions', esp_name)} is False. If you "
                f"expect it, confirm it {self.manual_confirmation(envelope)}."
            )
        return (
            "Anymail received an unexpected SubscriptionConfirmation request for "
            f"{self.sns_service} topic '{topic_arn}'. (Anymail confirms subscriptions "
            "automatically if you set a WEBHOOK_SECRET and use it in the subscription URL, or "
            f"list the topic in {setting_name('sns_topic_arns', esp_name)}. Or you can confirm "
            f"this subscription {self.manual_confirmation(envelope)}.)"
        )
