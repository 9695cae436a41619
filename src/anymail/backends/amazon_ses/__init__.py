"""Amazon SES: sends through the SES v2 API with boto3's ``sesv2`` client.

Two API calls, chosen by the message, each with a payload class of its own
(``build_message_payload()`` picks it):

- ``send_email`` with ``Content.Raw`` (``_raw.py``), for every message without
  a template_id: Django's own MIME, so SES gets everything Django can build;
- ``send_bulk_email`` with a stored template (``_bulk.py``), when template_id
  is set: one entry per "to" recipient, with its merge data and headers.

What both share (the capability declarations, with and without a template, and
the hooks that record the message) is in ``_payload.py``. The boto3 session and
client (``anymail._boto3``) are made by ``open()`` and reused for every message
of a ``send_messages()`` call; ``close()`` releases them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from django.core.mail import EmailMessage

from ..._amazon_ses_settings import (
    BACKEND_SETTINGS,
    CONFIGURATION_SET_NAME,
    ESP_NAME,
    MESSAGE_TAG_NAME,
)
from ...conf import get_text, get_timeout_option, invalid_setting
from ...exceptions import AnymailAPIError, AnymailImproperlyInstalled
from ...message import AnymailRecipientStatus
from ...retry import NO_ANSWER, NOT_SENT
from .._normalize import is_set
from ..base import AnymailBaseBackend

try:
    import boto3  # noqa: F401  (patched as anymail.backends.amazon_ses.boto3 in tests)
    from botocore.client import Config
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )
    from botocore.model import NoShapeFoundError
except ImportError as err:
    raise AnymailImproperlyInstalled(missing_package="boto3", install_extra="amazon-ses") from err

# (boto3_params and create_boto3_client are imported from here by the SES webhooks too.)
from ..._boto3 import boto3_params, create_boto3_client
from ._bulk import MAX_BULK_ENTRIES, TemplateSendPayload
from ._payload import MESSAGE_TAG_RE, AmazonSESPayload
from ._raw import RawSendPayload

__all__ = ["AmazonSESPayload", "EmailBackend", "boto3_params", "create_boto3_client"]

logger = logging.getLogger("anymail")

#: Request members that only newer botocore versions know:
#: (operation, shape, member, feature, botocore version that added it).
_VERSIONED_MEMBERS: Final = (
    (
        "send_email",
        "SendEmailRequest",
        "ConfigurationOverrides",
        "track_opens / track_clicks",
        "1.43.76",
    ),
    (
        "send_bulk_email",
        "SendBulkEmailRequest",
        "ConfigurationOverrides",
        "track_opens / track_clicks",
        "1.43.76",
    ),
    (
        "send_bulk_email",
        "BulkEmailEntry",
        "ReplacementHeaders",
        "headers, metadata or tags with template_id",
        "1.34.98",
    ),
)

#: What botocore raises when it can't parse a response (its parsers trust the body).
_UNREADABLE_RESPONSE_ERRORS: Final = (
    AttributeError,
    KeyError,
    RecursionError,
    TypeError,
    ValueError,  # includes UnicodeDecodeError
)


class EmailBackend(AnymailBaseBackend[AmazonSESPayload]):
    """Amazon SES Email Backend (SES v2 API, through boto3)."""

    esp_name: ClassVar[str] = ESP_NAME
    declared_settings = BACKEND_SETTINGS
    # Each worker thread makes its own client, from its own boto3 Session.
    concurrent_connection_attr = "client"

    def __init__(self, **kwargs: Any) -> None:
        esp_name = self.esp_name
        self.session_params, self.client_params = boto3_params(kwargs, get_timeout_option(kwargs))
        self.configuration_set_name = get_text(CONFIGURATION_SET_NAME, esp_name, kwargs)
        self.message_tag_name = get_text(MESSAGE_TAG_NAME, esp_name, kwargs)
        if self.message_tag_name is not None and not MESSAGE_TAG_RE.fullmatch(
            self.message_tag_name
        ):
            raise invalid_setting(
                "message_tag_name",
                esp_name,
                "an SES message tag name must be 1-256 characters from A-Z, a-z, 0-9, '_' and '-'.",
            )
        super().__init__(**kwargs)
        self.client: Any = None

    def build_message_payload(
        self, message: EmailMessage, defaults: Mapping[str, Any]
    ) -> AmazonSESPayload:
        with_template = is_set(message, defaults, "template_id")
        return (TemplateSendPayload if with_template else RawSendPayload)(message, defaults, self)

    # --- connection -------------------------------------------------------------

    def open(self) -> bool:
        if self.client is not None:
            return False
        try:
            self.client = self.create_client()
        except AnymailAPIError as err:
            if not self.fail_silently:
                raise
            # Each message will try again, and fail (silently) on its own.
            logger.warning("%s: could not create the boto3 client: %s", self.esp_name, err)
            return False
        return True

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def create_client(self) -> Any:
        """A new boto3 sesv2 client, from AMAZON_SES_SESSION_PARAMS and _CLIENT_PARAMS."""
        client_params = self.client_params
        if self.retry_policy is not None and client_params["config"].retries is None:
            # Anymail's retries replace botocore's, which would retry a read timeout
            # (SES takes no idempotency key: that could send twice) and multiply attempts.
            config = client_params["config"].merge(Config(retries={"total_max_attempts": 1}))
            client_params = {**client_params, "config": config}
        try:
            return create_boto3_client("sesv2", self.session_params, client_params)
        except BotoCoreError as err:  # NoRegionError, ProfileNotFound, ...
            raise AnymailAPIError(
                f"Could not create the {self.esp_name} (boto3 sesv2) client: "
                f"{type(err).__name__}: {err}",
                backend=self,
            ) from err

    # --- sending ------------------------------------------------------------------

    def post_to_esp(self, payload: AmazonSESPayload, message: EmailMessage) -> Any:
        client = self.client
        temporary = client is None  # called outside send_messages()
        if client is None:
            client = self.create_client()
        error: AnymailAPIError | None = None
        responses = []
        try:
            for operation, shape, member, feature, version in _VERSIONED_MEMBERS:
                if operation == payload.operation and not _model_has(client, shape, member):
                    payload.leave_out_member(member, shape, feature, version)
            for params in payload.api_calls():
                try:
                    responses.append(getattr(client, payload.operation)(**params))
                except ClientError as err:
                    error = self._api_error(err, payload, message, sent_calls=len(responses))
                except BotoCoreError as err:
                    error = AnymailAPIError(
                        f"{self.esp_name} API call {payload.operation} failed: "
                        f"{type(err).__name__}: {err}{_partial_note(len(responses))}",
                        email_message=message,
                        payload=payload,
                        backend=self,
                    )
                    error.transport_failure = _transport_failure(err)
                except _UNREADABLE_RESPONSE_ERRORS as err:
                    # botocore could not parse SES's answer (not UTF-8, not the JSON
                    # shape of the API model, or nested until RecursionError).
                    error = AnymailAPIError(
                        f"{self.esp_name} API call {payload.operation} got a response botocore "
                        f"could not read ({type(err).__name__}: {err})"
                        f"{_partial_note(len(responses))}",
                        email_message=message,
                        payload=payload,
                        backend=self,
                    )
                if error is not None:
                    break
        finally:
            if temporary:
                client.close()
        if error is not None:
            # Raised outside the except blocks, so botocore's exception is not chained:
            # its text quotes SES's answer and its frames hold the signed request.
            raise error
        return responses[0] if len(responses) == 1 else responses

    def _api_error(
        self, err: ClientError, payload: AmazonSESPayload, message: EmailMessage, sent_calls: int
    ) -> AnymailAPIError:
        response = err.response
        status_code = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # str(err) has the AWS error code and message (and botocore's retry count).
        return AnymailAPIError(
            f"{self.esp_name} API error: {err}{_partial_note(sent_calls)}",
            email_message=message,
            payload=payload,
            response=response,
            status_code=status_code,
            backend=self,
        )

    def parse_recipient_status(
        self, response: Any, payload: AmazonSESPayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        try:
            return payload.recipient_statuses(response)
        except (KeyError, TypeError, ValueError) as err:
            raise AnymailAPIError(
                f"Error parsing Amazon SES send result ({type(err).__name__}: {err}).",
                email_message=message,
                payload=payload,
                response=response,
                backend=self,
            ) from None


def _model_has(client: Any, shape_name: str, member: str) -> bool:
    """Whether the client's service model has ``member`` in ``shape_name``."""
    try:
        shape = client.meta.service_model.shape_for(shape_name)
    except NoShapeFoundError:
        return False
    return member in getattr(shape, "members", {})


def _transport_failure(err: BotoCoreError) -> str | None:
    """For retries: the call never reached SES, or got no answer (after botocore's own retries)."""
    if isinstance(err, EndpointConnectionError | ConnectTimeoutError):
        return NOT_SENT
    if isinstance(err, ReadTimeoutError | ConnectionClosedError):
        return NO_ANSWER
    return None


def _partial_note(sent_calls: int) -> str:
    if not sent_calls:
        return ""
    sent = sent_calls * MAX_BULK_ENTRIES
    return (
        f" (The first {sent} bulk entries were already sent by earlier calls; don't resend them.)"
    )
