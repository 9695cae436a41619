"""Amazon SNS's part of the Amazon SES webhooks: the envelope, and the AWS calls.

SNS posts each message as a JSON envelope (``Type``: ``Notification``,
``SubscriptionConfirmation`` or ``UnsubscribeConfirmation``; see the SNS docs'
"HTTP/HTTPS notification JSON format"), plus ``x-amz-sns-*`` headers that are
not signed. The SES payload is the ``Message`` string of a ``Notification``.

The AWS calls use boto3 clients made like the sending backend's (the
``AMAZON_SES_SESSION_PARAMS`` and ``_CLIENT_PARAMS`` settings): ``sns`` to confirm
a subscription, ``s3`` to fetch a received message stored by an S3 receipt action.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Final

from ..exceptions import (
    AnymailConfigurationError,
    AnymailWebhookTransientError,
    AnymailWebhookValidationFailure,
)
from ._payload import JsonObject, json_object

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
    fields = json_object(
        {
            "Type": "Notification",
            "MessageId": headers.get("x-amz-sns-message-id"),
            "TopicArn": headers.get("x-amz-sns-topic-arn"),
            "Message": body.decode("utf-8", "replace"),
        },
        "raw delivery",
    )
    return SnsEnvelope(
        fields=fields,
        type="Notification",
        message_id=fields.text("MessageId"),
        topic_arn=fields.text("TopicArn"),
        timestamp=None,
    )


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
                f"({type(err).__name__}: {err}). Check the sns:ConfirmSubscription permission, "
                f"or confirm it in the SNS console with token {token!r}.",
                esp_name="Amazon SES",
            ) from err

    def download(self, bucket: str, key: str) -> IO[bytes]:
        """The S3 object's content (spooled to a temporary file when large).

        Any failure is transient (503) so SNS tries again rather than dropping the
        message: permissions or a bucket policy can be fixed within SNS's retries.
        """
        where = f"'{bucket}:{key}'"
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
                spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_SIZE)  # noqa: SIM115
                for chunk in response["Body"].iter_chunks(_CHUNK_SIZE):
                    spool.write(chunk)
            finally:
                client.close()
        except self.errors as err:
            raise AnymailWebhookTransientError(
                f"Anymail AmazonSESInboundWebhookView couldn't download S3 object {where}: "
                f"{err}. Check the s3:GetObject permission; SNS will retry.",
                esp_name="Amazon SES",
            ) from err
        spool.seek(0)
        return spool
