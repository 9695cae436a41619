"""The hooks an ESP payload implements: one per normalized feature.

``BasePayload`` inherits them and calls each with the normalized value of a
feature the message has (in the order of ``anymail._features.FEATURES``). A
payload implements those of the features its Capabilities declare supported.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..addresses import EmailAddress
from ..exceptions import AnymailError
from ..utils import Attachment, CaseInsensitiveDict


class MissingHookError(AnymailError, NotImplementedError):
    """A payload declared a capability but does not implement its hook (an Anymail bug)."""


class PayloadHooks:
    """The ``set_<feature>()`` hooks (``add_<part>()`` for each part), for ESPs to implement."""

    def _missing_hook(self, feature: str) -> MissingHookError:
        return MissingHookError(
            f"{type(self).__name__} declares support for {feature} "
            f"but does not implement it (an Anymail bug: please report it)."
        )

    def set_from_email(self, email: EmailAddress) -> None:
        raise self._missing_hook("from_email")

    def set_from_email_list(self, emails: list[EmailAddress]) -> None:
        raise self._missing_hook("multiple from addresses")

    def set_to(self, emails: list[EmailAddress]) -> None:
        self.set_recipients("to", emails)

    def set_cc(self, emails: list[EmailAddress]) -> None:
        self.set_recipients("cc", emails)

    def set_bcc(self, emails: list[EmailAddress]) -> None:
        self.set_recipients("bcc", emails)

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        raise self._missing_hook(recipient_type)

    def set_spoofed_to_header(self, emails: list[EmailAddress]) -> None:
        raise self._missing_hook("spoofed To header")

    def set_spoofed_cc_header(self, emails: list[EmailAddress]) -> None:
        raise self._missing_hook("spoofed Cc header")

    def set_subject(self, subject: str) -> None:
        raise self._missing_hook("subject")

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        raise self._missing_hook("reply_to")

    def set_extra_headers(self, headers: CaseInsensitiveDict) -> None:
        raise self._missing_hook("extra_headers")

    def set_text_body(self, body: str) -> None:
        raise self._missing_hook("text body")

    def set_html_body(self, body: str) -> None:
        raise self._missing_hook("html body")

    def add_alternative(self, content: str, mimetype: str) -> None:
        raise self._missing_hook(f"alternative part with type '{mimetype}'")

    def add_attachment(self, attachment: Attachment) -> None:
        raise self._missing_hook("attachments")

    def set_envelope_sender(self, email: EmailAddress) -> None:
        raise self._missing_hook("envelope_sender")

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        raise self._missing_hook("metadata")

    def set_merge_metadata(self, merge_metadata: dict[str, dict[str, Any]]) -> None:
        raise self._missing_hook("merge_metadata")

    def set_merge_headers(self, merge_headers: dict[str, dict[str, str]]) -> None:
        raise self._missing_hook("merge_headers")

    def set_tags(self, tags: list[str]) -> None:
        raise self._missing_hook("tags")

    def set_track_clicks(self, track_clicks: bool) -> None:
        raise self._missing_hook("track_clicks")

    def set_track_opens(self, track_opens: bool) -> None:
        raise self._missing_hook("track_opens")

    def set_send_at(self, send_at: datetime | str) -> None:
        raise self._missing_hook("send_at")

    def set_template_id(self, template_id: Any) -> None:
        raise self._missing_hook("template_id")

    def set_merge_data(self, merge_data: dict[str, dict[str, Any]]) -> None:
        raise self._missing_hook("merge_data")

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        raise self._missing_hook("merge_global_data")

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        raise self._missing_hook("esp_extra")
