"""Amazon SNS's part of the Amazon SES webhooks: raw delivery, subscriptions, the AWS calls.

The SNS envelope and its checks are shared with other SNS-delivered ESPs
(:mod:`._sns`). :class:`AmazonSESBaseWebhookView` adds what is Amazon's: the
``AMAZON_SES_VERIFY_SNS_SIGNATURES`` switch, raw message delivery, the topic
validation notice, and subscriptions confirmed through the SNS API. The views of
``amazon_ses`` turn the SES message into events. The AWS calls use boto3 clients
made like the sending backend's (``AMAZON_SES_SESSION_PARAMS`` and
``_CLIENT_PARAMS``): ``sns`` to confirm a subscription, ``s3`` to fetch a received
message stored by an S3 receipt action.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Final

from django.http import HttpRequest

from .._amazon_ses_settings import CLIENT_PARAMS, ESP_NAME, SESSION_PARAMS
from ..conf import BOOL, Setting, get_bool
from ..exceptions import (
    AnymailConfigurationError,
    AnymailWebhookPayloadError,
    AnymailWebhookTransientError,
    AnymailWebhookValidationFailure,
)
from ._payload import JsonObject, json_object, parse_json
from ._sns import SnsEnvelope, SnsWebhookView
from ._sns_certs import AwsSnsTrust
from ._sns_pinning import SNS_SIGNING_CERTIFICATES, certificate_cache
from .base import EventT

if TYPE_CHECKING:
    from .signing import SnsVerifier

__all__ = ["ESP_NAME", "AmazonSESBaseWebhookView", "AwsClients", "SnsEnvelope"]

#: The plain-text Notification SES sends when an event destination is (re)created.
TOPIC_VALIDATED_MESSAGE: Final = "Successfully validated SNS topic for Amazon SES event publishing."

#: Object metadata that the S3 encryption client writes ("Encrypt message" receipt rules).
_CLIENT_SIDE_ENCRYPTION_METADATA: Final = frozenset(
    {"x-amz-key", "x-amz-key-v2", "x-amz-cek-alg", "x-amz-wrap-alg", "x-amz-matdesc"}
)
#: S3 downloads larger than this spool to a temporary file.
_SPOOL_SIZE: Final = 1024 * 1024
_CHUNK_SIZE: Final = 64 * 1024


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


VERIFY_SNS_SIGNATURES: Final = Setting(
    "verify_sns_signatures",
    BOOL,
    "Check Amazon SNS's signature on every post (leave it on).",
    default=True,
    option=False,
)


class AmazonSESBaseWebhookView(SnsWebhookView[EventT]):
    """What both Amazon SES views share: the SNS side, as Amazon SNS does it."""

    esp_name = ESP_NAME
    signature_scheme = "Amazon SNS certificate (RSA)"
    # The session and client params make the boto3 clients (AwsClients).
    declared_settings = (
        VERIFY_SNS_SIGNATURES,
        SNS_SIGNING_CERTIFICATES,
        SESSION_PARAMS,
        CLIENT_PARAMS,
    )

    def __init__(self, **kwargs: Any) -> None:
        self.aws = AwsClients()
        super().__init__(**kwargs)

    def make_verifier(self) -> SnsVerifier | None:
        self.trust = AwsSnsTrust()
        if not get_bool(VERIFY_SNS_SIGNATURES, ESP_NAME):
            return None
        from .signing import SnsVerifier

        return SnsVerifier(
            esp_name=ESP_NAME,
            trust=self.trust,
            clock=self.now,
            cert_cache=certificate_cache(ESP_NAME),
        )

    def validate_request(self, request: HttpRequest) -> datetime | None:
        if request.headers.get("x-amz-sns-rawdelivery", "").lower() != "true":
            return super().validate_request(request)
        if self.verifier is not None:
            raise AnymailWebhookValidationFailure(
                f"{ESP_NAME} webhook: raw message delivery posts are not signed. Turn off "
                "raw message delivery in the SNS subscription."
            )
        self.envelope = raw_delivery_envelope(request.body, request.headers)
        return self.check_envelope(self.envelope)

    def parse_notification(self, message: str, envelope: SnsEnvelope) -> list[EventT]:
        if message.strip() == TOPIC_VALIDATED_MESSAGE:
            return []
        ses = json_object(parse_json(message, "body.Message"), "body.Message")
        return self.parse_ses(ses, envelope)

    def parse_ses(self, ses: JsonObject, envelope: SnsEnvelope) -> list[EventT]:
        """The events of the SES message ``ses`` (the Notification's parsed Message)."""
        raise NotImplementedError

    def subscribe(self, envelope: SnsEnvelope) -> None:
        """Confirm through the SNS API, in the topic's region."""
        topic_arn, token = envelope.topic_arn, envelope.fields.text("Token")
        region = self.trust.topic_region(topic_arn)
        if region is None:
            raise AnymailWebhookPayloadError("body.TopicArn is not an SNS topic ARN.")
        self.aws.confirm_subscription(topic_arn, token, region)

    def unconfirmed_problem(self, envelope: SnsEnvelope) -> str:
        topic_arn, token = envelope.topic_arn, envelope.fields.text("Token")
        if not self.auto_confirm:
            return (
                f"Anymail received a SubscriptionConfirmation request for Amazon SNS topic "
                f"'{topic_arn}', and AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS is False. If you "
                f"expect it, confirm it in the SNS dashboard with token '{token}'."
            )
        return (
            "Anymail received an unexpected SubscriptionConfirmation request for Amazon SNS "
            f"topic '{topic_arn}'. (Anymail can automatically confirm SNS subscriptions if "
            "you set a WEBHOOK_SECRET and use that in your SNS notification url. Or you can "
            "manually confirm this subscription in the SNS dashboard with token "
            f"'{token}'.)"
        )
