"""Amazon SES raw sends: ``send_email`` with ``Content.Raw``, for messages without a template_id.

The MIME comes from Django's own ``message.message()``, so everything Django
can put in a message (alternatives, attachments, inline images, custom
headers, a spoofed To) reaches SES as the message has it. Anymail re-encodes
it 7-bit clean (SES corrupts 8-bit parts when it rewrites bodies for
open/click tracking), adds metadata and tags as ``X-Metadata`` / ``X-Tag``
headers, and lists the envelope recipients (including bcc, which never
appears in the MIME) in ``Destination``.
"""

from __future__ import annotations

from typing import Any

from ..._mime import (
    as_ascii_bytes,
    encode_header_value,
    make_7bit,
    one_line_address,
    set_header,
    with_idna_2008_domains,
)
from ...addresses import EmailAddress
from ...message import AnymailRecipientStatus
from ...utils import Attachment, serialize_json
from ._payload import AmazonSESPayload

_DESTINATION_FIELDS = (("to", "ToAddresses"), ("cc", "CcAddresses"), ("bcc", "BccAddresses"))


class RawSendPayload(AmazonSESPayload):
    """One ``send_email`` call with the whole message as raw MIME."""

    operation = "send_email"
    tags_param = "EmailTags"

    # Django's MIME already carries these, as the message has them.

    def set_subject(self, subject: str) -> None:
        pass

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        pass

    def set_spoofed_to_header(self, emails: list[EmailAddress]) -> None:
        pass

    def set_spoofed_cc_header(self, emails: list[EmailAddress]) -> None:
        pass

    def set_text_body(self, body: str) -> None:
        pass

    def set_html_body(self, body: str) -> None:
        pass

    def add_alternative(self, content: str, mimetype: str) -> None:
        pass

    def add_attachment(self, attachment: Attachment) -> None:
        pass

    # --- the call ---------------------------------------------------------------------

    def operation_calls(self, common: dict[str, Any]) -> list[dict[str, Any]]:
        destination = {
            field: [email.addr_spec for email in self.recipients[kind]]
            for kind, field in _DESTINATION_FIELDS
            if self.recipients[kind]
        }
        return [
            {"Destination": destination, "Content": {"Raw": {"Data": self._raw_mime()}}, **common}
        ]

    def _raw_mime(self) -> bytes:
        """The whole message as 7-bit clean MIME bytes, built by Django."""
        if self.from_email is None:
            raise self.error(
                "Amazon SES needs a from_email for messages without a template_id "
                "(from_email is None)."
            )
        mime = with_idna_2008_domains(self.message).message()
        # bcc recipients go only in Destination; a Bcc header would reveal them.
        del mime["Bcc"]
        if "subject" not in self.send_params:
            del mime["Subject"]  # subject=None: Django would send "None"
        if "multiple from addresses" in self.ignored_features:
            # Sending without the unsupported extra From addresses.
            set_header(mime, "From", one_line_address(self.from_email))
        if self.metadata:
            mime["X-Metadata"] = serialize_json(self.metadata, "metadata")
        for tag in self.tags:
            mime["X-Tag"] = encode_header_value(tag)
        make_7bit(mime)
        return as_ascii_bytes(mime)

    def recipient_statuses(self, response: Any) -> dict[str, AnymailRecipientStatus]:
        message_id = response["MessageId"]
        if not isinstance(message_id, str) or not message_id:
            raise TypeError("MessageId is not a non-empty string")
        return self.statuses_for_all(message_id, "queued")
