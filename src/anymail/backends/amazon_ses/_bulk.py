"""Amazon SES template sends: ``send_bulk_email``, for messages with a template_id.

One bulk entry per "to" recipient (or, with no "to", one to the cc/bcc), each
with that recipient's merge_data, and the extra headers, merge_headers,
metadata, merge_metadata and tags as the entry's ``ReplacementHeaders``. More
entries than one call takes are sent in several calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from ..._mime import encode_header_value, one_line_address
from ...addresses import EmailAddress
from ...exceptions import AnymailAPIError
from ...message import AnymailRecipientStatus
from ...utils import CaseInsensitiveDict, serialize_json
from ._payload import AmazonSESPayload

#: Bulk entries per send_bulk_email call. 50 was the documented limit of the v1
#: call; the v2 limit is not documented, so larger batches are split to be safe.
MAX_BULK_ENTRIES: Final = 50

#: SES's limits on each entry's ReplacementHeaders (from the service model;
#: botocore does not check them, SES refuses the whole call).
MAX_TEMPLATE_HEADERS: Final = 15
MAX_HEADER_NAME_LENGTH: Final = 126
MAX_HEADER_VALUE_LENGTH: Final = 995
MAX_HEADER_LENGTH: Final = 996  # name + value
_HEADER_NAME_RE: Final = re.compile(r"[!-9;-~]+")  # printable ASCII without ":"


class TemplateSendPayload(AmazonSESPayload):
    """``send_bulk_email`` calls with the message's stored template."""

    operation = "send_bulk_email"
    tags_param = "DefaultEmailTags"

    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        self.params["ReplyToAddresses"] = [one_line_address(email) for email in emails]

    def set_template_id(self, template_id: Any) -> None:
        template_id = str(template_id)
        # SES template names allow only letters, digits, "_" and "-", so a
        # value starting "arn:" can only be a template ARN.
        key = "TemplateArn" if template_id.startswith("arn:") else "TemplateName"
        self.params["DefaultContent"] = {"Template": {key: template_id}}

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        self.params["DefaultContent"]["Template"]["TemplateData"] = serialize_json(
            merge_global_data, "merge_global_data"
        )

    # --- the calls --------------------------------------------------------------------

    def operation_calls(self, common: dict[str, Any]) -> list[dict[str, Any]]:
        if self.from_email is not None:
            common = {"FromEmailAddress": one_line_address(self.from_email), **common}
        return [
            {**common, "BulkEmailEntries": entries}
            for entries in _chunks(self._bulk_entries(), MAX_BULK_ENTRIES)
        ]

    def _bulk_entries(self) -> list[dict[str, Any]]:
        cc = [one_line_address(email) for email in self.recipients["cc"]]
        bcc = [email.addr_spec for email in self.recipients["bcc"]]
        entries = []
        # With no "to", one entry sends the template to the cc/bcc recipients.
        to_list: list[EmailAddress | None] = [*self.recipients["to"]] or [None]
        for to in to_list:
            destination: dict[str, list[str]] = {}
            if to is not None:
                destination["ToAddresses"] = [one_line_address(to)]
            if cc:
                destination["CcAddresses"] = cc
            if bcc:
                destination["BccAddresses"] = bcc
            data = self.for_recipient(self.send_params.get("merge_data"), to)
            entry: dict[str, Any] = {
                "Destination": destination,
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {
                        "ReplacementTemplateData": serialize_json(data, "merge_data")
                    }
                },
            }
            headers = self._entry_headers(to)
            if headers:
                entry["ReplacementHeaders"] = headers
            entries.append(entry)
        return entries

    def _entry_headers(self, to: EmailAddress | None) -> list[dict[str, str]]:
        headers = CaseInsensitiveDict(self.headers)
        for name, value in self.for_recipient(self.send_params.get("merge_headers"), to).items():
            # Replace the value of a same-named extra header, keeping its spelling.
            spelling = next((key for key in headers if key.lower() == name.lower()), name)
            headers[spelling] = value
        pairs = [(str(name), str(value)) for name, value in headers.items()]
        metadata = {
            **self.metadata,
            **self.for_recipient(self.send_params.get("merge_metadata"), to),
        }
        if metadata:
            pairs.append(("X-Metadata", serialize_json(metadata, "metadata")))
        pairs += [("X-Tag", tag) for tag in self.tags]

        result: list[dict[str, str]] = []
        for name, value in pairs:
            if not value:
                continue  # SES can't send an empty header: an empty value leaves it out
            value = encode_header_value(value)
            problem = _template_header_problem(name, value)
            if problem:
                self.unsupported_feature(f"{problem} with template_id (header {name!r})")
            elif len(result) >= MAX_TEMPLATE_HEADERS:
                self.unsupported_feature(
                    f"more than {MAX_TEMPLATE_HEADERS} headers (including X-Metadata and X-Tag) "
                    f"per message with template_id (header {name!r})"
                )
            else:
                result.append({"Name": name, "Value": value})
        return result

    # --- the results ------------------------------------------------------------------

    def recipient_statuses(self, response: Any) -> dict[str, AnymailRecipientStatus]:
        responses = response if isinstance(response, list) else [response]
        results = [result for item in responses for result in item["BulkEmailEntryResults"]]
        # One bulk entry per "to" (each with the cc/bcc as copies, which get no
        # status of their own), or one entry to the cc/bcc when there is no "to".
        groups = self.recipient_groups(split=True)
        if len(results) != len(groups):
            raise ValueError(f"{len(results)} results for {len(groups)} bulk email entries")
        statuses: dict[str, AnymailRecipientStatus] = {}
        errors: list[str] = []
        for group, result in zip(groups, results, strict=True):
            if result["Status"] == "SUCCESS":
                message_id = result["MessageId"]
                if not isinstance(message_id, str) or not message_id:
                    raise TypeError("a SUCCESS result's MessageId is not a non-empty string")
                status = AnymailRecipientStatus(message_id=message_id, status="queued")
            else:
                # Any other Status (the API docs and model spell some differently)
                # means SES did not send this entry.
                status = AnymailRecipientStatus(message_id=None, status="failed")
                errors.append(f"{result['Status']}: {result.get('Error') or result['Status']}")
            for address in group[:1] if self.recipients["to"] else group:
                statuses[address.addr_spec] = status
        if len(errors) == len(results):
            distinct = list(dict.fromkeys(errors))
            raise AnymailAPIError(
                f"{self.esp_name} sent none of the template messages: {'; '.join(distinct)}",
                email_message=self.message,
                payload=self,
                response=response,
                backend=self.backend,
            )
        return statuses


def _template_header_problem(name: str, value: str) -> str | None:
    """Why SES would refuse this ReplacementHeaders entry, or None if it is acceptable."""
    if len(name) > MAX_HEADER_NAME_LENGTH or not _HEADER_NAME_RE.fullmatch(name):
        return (
            f"a header name that is not 1-{MAX_HEADER_NAME_LENGTH} printable ASCII "
            "characters without ':'"
        )
    if len(value) > MAX_HEADER_VALUE_LENGTH or len(name) + len(value) > MAX_HEADER_LENGTH:
        return (
            f"a header value longer than {MAX_HEADER_VALUE_LENGTH} characters "
            f"(or name and value together longer than {MAX_HEADER_LENGTH})"
        )
    return None


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
