"""Amazon SNS's part of the Amazon SES webhooks: the envelope, its checks, the AWS calls.

SNS posts each message as a JSON envelope (``Type``: ``Notification``,
``SubscriptionConfirmation`` or ``UnsubscribeConfirmation``; see the SNS docs'
"HTTP/HTTPS notification JSON format"), plus ``x-amz-sns-*`` headers that are
not signed. The SES payload is the ``Message`` string of a ``Notification``.

:class:`AmazonSESBaseWebhookView` checks a post (basic auth, which SNS only sends
after a 401 challenge; the optional topic allow-list; the signature and its age),
confirms subscriptions and ignores unsubscribe confirmations; the views of
``amazon_ses`` turn the SES message into events. The AWS calls use boto3 clients
made like the sending backend's (``AMAZON_SES_SESSION_PARAMS`` and
``_CLIENT_PARAMS``): ``sns`` to confirm a subscription, ``s3`` to fetch a received
message stored by an S3 receipt action.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Final

from django.http import HttpRequest

from ..conf import get_anymail_setting, get_bool_setting, invalid_setting
from ..exceptions import (
    AnymailConfigurationError,
    AnymailInsecureWebhookWarning,
    AnymailWebhookPayloadError,
    AnymailWebhookTransientError,
    AnymailWebhookValidationFailure,
)
from ..signals import AnymailEvent
from ._payload import JsonObject, json_object, parse_json
from ._sns_certs import AwsSnsTrust
from .base import AnymailBaseWebhookView

logger = logging.getLogger("anymail")

ESP_NAME: Final = "Amazon SES"
#: The plain-text Notification SES sends when an event destination is (re)created.
TOPIC_VALIDATED_MESSAGE: Final = "Successfully validated SNS topic for Amazon SES event publishing."

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
#: Object metadata that the S3 encryption client writes ("Encrypt message" receipt rules).
_CLIENT_SIDE_ENCRYPTION_METADATA: Final = frozenset(
    {"x-amz-key", "x-amz-key-v2", "x-amz-cek-alg", "x-amz-wrap-alg", "x-amz-matdesc"}
)
#: S3 downloads larger than this spool to a temporary file.
_SPOOL_SIZE: Final = 1024 * 1024
_CHUNK_SIZE: Final = 64 * 1024


@dataclass(frozen=True)
class SnsEnvelope:
    """The fields of an SNS post that the views use (``fields``: the whole envelope)."""

    fields: JsonObject
    type: str
    message_id: str
    topic_arn: str
    #: The (signed) SNS Timestamp; None for a raw-delivery post, which has none.
    timestamp: datetime | None


def read_envelope(body: Any, headers: Mapping[str, str]) -> SnsEnvelope:
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
            f"Amazon SES webhook: unknown SNS message Type {envelope.type[:40]!r}."
        )
    for header, field in _HEADER_FIELDS.items():
        value = headers.get(header)
        if value is not None and value != fields.text(field):
            raise AnymailWebhookValidationFailure(
                f"Amazon SES webhook: the {header} header does not match the body's {field}."
            )
    return envelope


def raw_delivery_envelope(body: bytes, headers: Mapping[str, str]) -> SnsEnvelope:
    """A raw-delivery post (the bare SES JSON, no envelope) as an unsigned Notification."""
    message_id = headers.get("x-amz-sns-message-id")
    topic_arn = headers.get("x-amz-sns-topic-arn")
    if not message_id or not topic_arn:
        raise AnymailWebhookPayloadError(
            "a raw delivery post needs the x-amz-sns-message-id and x-amz-sns-topic-arn headers."
        )
    try:
        message = body.decode("utf-8")
    except UnicodeDecodeError:
        raise AnymailWebhookPayloadError("the raw delivery body is not valid UTF-8.") from None
    fields = JsonObject(
        {"Type": "Notification", "MessageId": message_id, "TopicArn": topic_arn, "Message": message}
    )
    return SnsEnvelope(fields, "Notification", message_id, topic_arn, timestamp=None)


class AwsClients:
    """Makes boto3 clients from Anymail's Amazon SES settings; boto3 is imported here."""

    def __init__(self) -> None:
        # Without boto3 this raises AnymailImproperlyInstalled, naming the amazon-ses extra.
        from ..backends import amazon_ses

        self._backend = amazon_ses
        self.session_params, self.client_params = amazon_ses.boto3_params({})

    def client(self, service_name: str, **overrides: Any) -> Any:
        return self._backend.create_boto3_client(
            service_name, self.session_params, {**self.client_params, **overrides}
        )

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """botocore's exceptions for a failed call (ClientError, BotoCoreError)."""
        return (self._backend.ClientError, self._backend.BotoCoreError)

    def confirm_subscription(self, topic_arn: str, token: str, region: str) -> None:
        """Confirm an SNS subscription through the API, in the topic's own region.

        ``AuthenticateOnUnsubscribe`` makes unsubscribing need AWS credentials, so a
        forged unsubscribe link can't stop the webhook. Fails as a transient error
        (503): SNS tries again, and the reason is logged.
        """
        try:
            client = self.client("sns", region_name=region)
            try:
                client.confirm_subscription(
                    TopicArn=topic_arn, Token=token, AuthenticateOnUnsubscribe="true"
                )
            finally:
                client.close()
        except self.errors as err:
            raise AnymailWebhookTransientError(
                f"Anymail couldn't confirm the SNS subscription to topic {topic_arn!r} "
                f"({type(err).__name__}: {err}). Check the sns:ConfirmSubscription permission; "
                "SNS will retry.",
                esp_name=ESP_NAME,
            ) from err

    def download(self, bucket: str, key: str) -> IO[bytes]:
        """The S3 object's content (spooled to a temporary file when large).

        Any failure is transient (503) so SNS tries again rather than dropping the
        message: permissions or a bucket policy can be fixed within SNS's retries.
        """
        where = f"'{bucket}:{key}'"
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_SIZE)  # noqa: SIM115 (returned)
        try:
            client = self.client("s3")
            try:
                response = client.get_object(Bucket=bucket, Key=key)
                metadata = {name.lower() for name in response.get("Metadata") or {}}
                if metadata & _CLIENT_SIDE_ENCRYPTION_METADATA:
                    raise AnymailConfigurationError(
                        f"The S3 object {where} is encrypted by the SES receipt rule, which "
                        "Anymail can't decrypt. Turn off \"Encrypt message\" in the rule's "
                        "S3 action."
                    )
                for chunk in response["Body"].iter_chunks(_CHUNK_SIZE):
                    spool.write(chunk)
            finally:
                client.close()
        except self.errors as err:
            spool.close()
            raise AnymailWebhookTransientError(
                f"Anymail AmazonSESInboundWebhookView couldn't download S3 object {where}: "
                f"{err}. Check the s3:GetObject permission; SNS will retry.",
                esp_name=ESP_NAME,
            ) from err
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool


class AmazonSESBaseWebhookView(AnymailBaseWebhookView):
    """What both Amazon SES views share: the SNS envelope, its checks, subscriptions."""

    esp_name = ESP_NAME
    signature_scheme = "Amazon SNS certificate (RSA)"
    basic_auth_challenge = True
    # SNS signs every post, but a signature only proves *some* topic sent it: the
    # warning comes below, unless a topic allow-list ties posts to the user's topics.
    warn_if_no_basic_auth = False
    #: The post's SNS envelope (set by validate_request()).
    envelope: SnsEnvelope

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.aws = AwsClients()
        self.auto_confirm = get_bool_setting("auto_confirm_sns_subscriptions", True, ESP_NAME)
        self.topic_arns = _topic_arns_setting()
        self.trust = AwsSnsTrust()
        self.verifier = None
        if get_bool_setting("verify_sns_signatures", True, ESP_NAME):
            from .signing import SnsVerifier

            self.verifier = SnsVerifier(esp_name=ESP_NAME, trust=self.trust, clock=self.now)
        if not self.basic_auth and self.topic_arns is None:
            warnings.warn(
                f"Your Anymail {ESP_NAME} webhook accepts posts from any SNS topic: set "
                "ANYMAIL WEBHOOK_SECRET (and use it in the subscription URL), or "
                "AMAZON_SES_SNS_TOPIC_ARNS.",
                AnymailInsecureWebhookWarning,
                stacklevel=2,
            )

    def validate_request(self, request: HttpRequest) -> datetime | None:
        if request.headers.get("x-amz-sns-rawdelivery", "").lower() == "true":
            if self.verifier is not None:
                raise AnymailWebhookValidationFailure(
                    f"{ESP_NAME} webhook: raw message delivery posts are not signed. Turn off "
                    "raw message delivery in the SNS subscription."
                )
            self.envelope = raw_delivery_envelope(request.body, request.headers)
        else:
            self.envelope = read_envelope(self.json_body(request), request.headers)
        topic_arn = self.envelope.topic_arn
        if self.topic_arns is not None and topic_arn not in self.topic_arns:
            raise AnymailWebhookValidationFailure(
                f"{ESP_NAME} webhook: SNS topic {topic_arn[:300]!r} is not in ANYMAIL "
                "AMAZON_SES_SNS_TOPIC_ARNS."
            )
        if self.verifier is None:
            return self.envelope.timestamp  # not signed, but still limits naive replays
        return self.verifier.verify(self.envelope.fields.data)

    def parse_events(self, request: HttpRequest) -> list[AnymailEvent]:
        envelope = self.envelope
        if envelope.type == "SubscriptionConfirmation":
            self.confirm_subscription(envelope)
            return []
        if envelope.type == "UnsubscribeConfirmation":
            return []  # never re-subscribe with its token
        message = envelope.fields.text("Message", max_length=None)
        if message.strip() == TOPIC_VALIDATED_MESSAGE:
            return []
        ses = json_object(parse_json(message, "body.Message"), "body.Message")
        return self.parse_ses(ses, envelope)

    def parse_ses(self, ses: JsonObject, envelope: SnsEnvelope) -> list[AnymailEvent]:
        """The events of the SES message ``ses`` (the Notification's parsed Message)."""
        raise NotImplementedError

    def confirm_subscription(self, envelope: SnsEnvelope) -> None:
        """Confirm through the SNS API, only for an authenticated post (secret or allow-list)."""
        topic_arn, token = envelope.topic_arn, envelope.fields.text("Token")
        if not self.auto_confirm:
            problem = (
                f"Anymail received a SubscriptionConfirmation request for Amazon SNS topic "
                f"'{topic_arn}', and AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS is False. If you "
                f"expect it, confirm it in the SNS dashboard with token '{token}'."
            )
        elif not (self.basic_auth or self.topic_arns):
            problem = (
                "Anymail received an unexpected SubscriptionConfirmation request for Amazon SNS "
                f"topic '{topic_arn}'. (Anymail can automatically confirm SNS subscriptions if "
                "you set a WEBHOOK_SECRET and use that in your SNS notification url. Or you can "
                "manually confirm this subscription in the SNS dashboard with token "
                f"'{token}'.)"
            )
        else:
            region = self.trust.topic_region(topic_arn)
            if region is None:
                raise AnymailWebhookPayloadError("body.TopicArn is not an SNS topic ARN.")
            self.aws.confirm_subscription(topic_arn, token, region)
            return
        # The 400 answer's reason is cut short: log the whole text, token included.
        logger.warning(problem)
        raise AnymailWebhookValidationFailure(problem, esp_name=ESP_NAME)


def _topic_arns_setting() -> frozenset[str] | None:
    """AMAZON_SES_SNS_TOPIC_ARNS: the topics allowed to post (None: any topic)."""
    value = get_anymail_setting("sns_topic_arns", default=None, esp_name=ESP_NAME)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset) or not all(
        isinstance(arn, str) and arn for arn in value
    ):
        raise invalid_setting("sns_topic_arns", ESP_NAME, "expected a list of SNS topic ARNs.")
    if not value:
        raise invalid_setting(
            "sns_topic_arns",
            ESP_NAME,
            "the list is empty, which refuses every post. List your topics' ARNs, or remove it.",
        )
    return frozenset(value)
