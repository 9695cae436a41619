"""Resend's Receiving API, as the inbound webhook uses it: a received email, by its id.

Resend's ``email.received`` webhook says that an email arrived, not what it says.
:class:`ReceivedEmailFetcher` gets the message:

1. ``GET {api_url}emails/receiving/{email_id}`` with ``Authorization: Bearer
   RESEND_API_KEY`` (a *full-access* key: a sending-only key gets 401): the
   email's fields, and ``raw.download_url``;
2. ``GET raw.download_url`` (signed and expiring, so no Authorization): the
   original RFC 5322 bytes, parsed as they are;
3. without ``raw``: the message is built from the fields of step 1, with each
   attachment's bytes from the signed URL that
   ``GET {api_url}emails/receiving/{email_id}/attachments`` lists.

How a failure ends decides whether the mail arrives: Resend (Svix) posts the
event again after any answer but 2xx, for about a day. So:

- no connection, a timeout, HTTP 408/429/5xx, an answer of the wrong shape, a
  failed download (e.g. an expired URL: the retry fetches a new one), and HTTP
  404 (this key's team has no such email: not retrievable yet, or a key of
  another team) raise :exc:`AnymailWebhookTransientError`: 503;
- HTTP 401/403 and other 4xx (the API key or URL is wrong) raise
  :exc:`AnymailImproperlyConfigured`: 500, with a traceback in the logs;
- a message over ``INBOUND_MAX_SIZE`` raises :exc:`AnymailInboundParseError`: 400.

No error carries the API key, a signed URL's query string, or the ``requests``
exception (whose request holds the Authorization header): errors are raised
outside the ``except`` blocks, so they chain nothing.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import IO, Any, Final, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from django.core.files.uploadedfile import UploadedFile

from .. import __version__
from .._inbound_mime import Limits
from .._redact import printable, redact_values, truncate
from ..backends.resend import error_details
from ..exceptions import (
    AnymailImproperlyConfigured,
    AnymailWebhookPayloadError,
    AnymailWebhookTransientError,
)
from ..inbound import AnymailInboundMessage
from ._payload import JsonObject, json_object, parse_json

__all__ = ["ReceivedEmailFetcher"]

USER_AGENT: Final = f"django-anymail/{__version__}-resend"
#: HTTP statuses that may pass: the event is answered 503 so that Resend posts it again.
RETRY_STATUSES: Final = frozenset({404, 408, 429})
CHUNK_SIZE: Final = 64 * 1024
#: Longest error answer read from Resend (its errors are a short JSON object).
MAX_ERROR_SIZE: Final = 16 * 1024
#: An RFC 5322 header field name (printable ASCII but ":").
_FIELD_NAME_RE: Final = re.compile(r"[!-9;-~]{1,200}")
_RETRY: Final = "Resend will post the event again."
_T = TypeVar("_T")


class ReceivedEmailFetcher:
    """Fetches received emails with an API key; one :class:`requests.Session` per email."""

    def __init__(self, api_key: str, api_url: str, timeout: Any) -> None:
        self.api_key = api_key
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.timeout = timeout

    def fetch(self, email_id: str) -> AnymailInboundMessage:
        """The received email ``email_id`` (a path-safe id: the caller checks it)."""
        limits = Limits.from_settings()
        with requests.Session() as session:
            session.headers["User-Agent"] = USER_AGENT
            email = self._api_json(
                session, f"emails/receiving/{email_id}", email_id, limits, html_format="cid"
            )
            raw = _read(lambda: email.object("raw", None), email_id)
            if raw is not None:
                url = _read(lambda: raw.text("download_url", max_length=None), email_id)
                with self._download(session, url, email_id, "raw message", limits) as file:
                    return AnymailInboundMessage.parse_raw_mime_file(file)
            return self._construct(session, email, email_id, limits)

    # --- building the message from its fields (no raw message) --------------------------

    def _construct(
        self, session: requests.Session, email: JsonObject, email_id: str, limits: Limits
    ) -> AnymailInboundMessage:
        def fields() -> dict[str, Any]:
            return {
                "from_email": email.text("from", None),
                "to": email.texts("to", None) or None,
                "cc": email.texts("cc", None) or None,
                "subject": email.text("subject", None),
                "headers": _headers(email.object("headers", None)),
                "text": email.text("text", None, max_length=None),
                "html": email.text("html", None, max_length=None),
            }

        parsed = _read(fields, email_id)
        # The email's own attachment list has no download URLs: the list endpoint has.
        listed = _read(lambda: email.array("attachments", []), email_id)
        attachments = list(self._attachments(session, email_id, limits)) if listed else []
        return AnymailInboundMessage.construct(**parsed, attachments=attachments)

    def _attachments(
        self, session: requests.Session, email_id: str, limits: Limits
    ) -> Iterator[AnymailInboundMessage]:
        path = f"emails/receiving/{email_id}/attachments"
        after: str | None = None
        for _page in range(limits.max_parts):  # bounded, whatever has_more says
            params = {"after": after} if after else {}
            page = self._api_json(session, path, email_id, limits, **params)
            items, after = _read(partial(_listing, page), email_id)
            for item in items:
                yield self._attachment(session, item, email_id, limits)
            if after is None:
                return

    def _attachment(
        self, session: requests.Session, item: JsonObject, email_id: str, limits: Limits
    ) -> AnymailInboundMessage:
        def fields() -> tuple[str, str | None, str, str | None, str | None]:
            return (
                item.text("download_url", max_length=None),
                item.text("filename", None),
                item.text("content_type", None) or "application/octet-stream",
                item.text("content_id", None),
                item.text("content_disposition", None),
            )

        url, filename, content_type, content_id, disposition = _read(fields, email_id)
        # A Content-ID makes the part inline, unless Resend says it is an attachment.
        inline_id = content_id if disposition != "attachment" else None
        with self._download(session, url, email_id, "attachment", limits) as file:
            size = file.seek(0, 2)
            file.seek(0)
            upload = UploadedFile(file, name=filename, content_type=content_type, size=size)
            # (The part copies the content: the download's file can go.)
            return AnymailInboundMessage.construct_attachment_from_uploaded_file(upload, inline_id)

    # --- HTTP ---------------------------------------------------------------------------

    def _api_json(
        self,
        session: requests.Session,
        path: str,
        email_id: str,
        limits: Limits,
        **params: str,
    ) -> JsonObject:
        """GET an API path with the key; its JSON object answer."""
        response = _get(
            session,
            self.api_url + path,
            email_id,
            timeout=self.timeout,
            params=params,
            # Built here, never kept in a local variable (Django's error pages show them).
            headers={"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"},
        )
        body = io.BytesIO()
        with response:
            if not 200 <= response.status_code < 300:
                raise self._api_error(response, email_id)
            # The answer holds the text and HTML bodies: allow the message size twice.
            _copy(response, body, 2 * limits.max_size, limits, email_id)
        return _read(lambda: json_object(parse_json(body.getvalue(), "answer"), "answer"), email_id)

    def _api_error(
        self, response: requests.Response, email_id: str
    ) -> AnymailWebhookTransientError | AnymailImproperlyConfigured:
        status = response.status_code
        answer = f"HTTP {status}{self._error_detail(response)}"
        if status in RETRY_STATUSES or status >= 500:
            if status == 404:
                return AnymailWebhookTransientError(
                    f"Resend has no received email {email_id} for RESEND_API_KEY ({answer}): "
                    f"the key may belong to another Resend team than the webhook. {_RETRY}"
                )
            return AnymailWebhookTransientError(
                f"Resend's API answered {answer} to the fetch of received email {email_id}. "
                f"{_RETRY}"
            )
        if status in (401, 403):
            return AnymailImproperlyConfigured(
                f"Resend refused RESEND_API_KEY when Anymail fetched received email {email_id} "
                f"({answer}). Inbound needs a full-access API key: a sending-only key can't "
                "read received mail."
            )
        return AnymailImproperlyConfigured(
            f"Resend's API answered {answer} when Anymail fetched received email {email_id}. "
            "Check the RESEND_API_URL and RESEND_API_KEY settings."
        )

    def _error_detail(self, response: requests.Response) -> str:
        """Resend's error message and name (from its JSON answer), or nothing."""
        body = b""
        try:
            for chunk in response.iter_content(CHUNK_SIZE):
                body += chunk
                if len(body) >= MAX_ERROR_SIZE:
                    break
            data = parse_json(body)
        except (AnymailWebhookPayloadError, requests.RequestException):
            return ""
        name, text = error_details(data)
        detail = f": {text}" if text else ""
        detail += f" ({name})" if name else ""
        return printable(truncate(redact_values(detail, [self.api_key]), 200))

    @contextmanager
    def _download(
        self, session: requests.Session, url: str, email_id: str, what: str, limits: Limits
    ) -> Iterator[IO[bytes]]:
        """GET a signed download URL (no Authorization): its bytes, in a rewound file."""
        if urlsplit(url).scheme != "https":
            raise AnymailWebhookTransientError(
                f"Resend's API gave a {what} URL of received email {email_id} that is not "
                f"https. {_RETRY}"
            )
        response = _get(session, url, email_id, timeout=self.timeout, what=what)
        with response, tempfile.SpooledTemporaryFile(max_size=limits.spool_size) as file:
            if not 200 <= response.status_code < 300:
                # The query string is the signature: never shown.
                shown = urlunsplit(urlsplit(url)._replace(query="", fragment=""))
                raise AnymailWebhookTransientError(
                    f"Could not download the {what} of received email {email_id} from "
                    f"{shown}: HTTP {response.status_code}. {_RETRY}"
                )
            _copy(response, file, limits.max_size, limits, email_id)
            file.seek(0)
            yield file


def _get(
    session: requests.Session, url: str, email_id: str, *, what: str = "", **kwargs: Any
) -> requests.Response:
    try:
        return session.get(url, stream=True, **kwargs)
    except requests.RequestException as err:
        failure = type(err).__name__
    target = f"the {what} of" if what else "Resend's API for"
    raise AnymailWebhookTransientError(
        f"Could not reach {target} received email {email_id}: {failure}. {_RETRY}"
    )


def _copy(
    response: requests.Response, file: IO[bytes], limit: int, limits: Limits, email_id: str
) -> None:
    """Write the response body to ``file``, refusing one over ``limit`` bytes."""
    size = 0
    try:
        for chunk in response.iter_content(CHUNK_SIZE):
            size += len(chunk)
            if size > limit:
                raise limits.too_large()
            file.write(chunk)
        return
    except requests.RequestException as err:
        failure = type(err).__name__
    raise AnymailWebhookTransientError(
        f"The connection broke while reading received email {email_id} from Resend: "
        f"{failure}. {_RETRY}"
    )


def _read(read: Callable[[], _T], email_id: str) -> _T:
    """``read()`` fields of an API answer: an answer of the wrong shape is a 503."""
    try:
        return read()
    except AnymailWebhookPayloadError as err:
        problem = err
    raise _unusable_answer(problem, email_id)


def _listing(page: JsonObject) -> tuple[list[JsonObject], str | None]:
    """A page of the attachment list: its items, and the cursor of the next page if any."""
    items = page.objects("data", [])
    more = page.boolean("has_more", False)
    return items, items[-1].text("id") if more and items else None


def _unusable_answer(err: Exception, email_id: str) -> AnymailWebhookTransientError:
    return AnymailWebhookTransientError(
        f"Resend's API answer for received email {email_id} is unusable: {err} {_RETRY}"
    )


def _headers(headers: JsonObject | None) -> list[tuple[str, str]]:
    """The email's headers as (name, value) pairs; a multi-valued header is a list."""
    if headers is None:
        return []
    pairs = []
    for name, value in headers.data.items():
        if not isinstance(name, str) or not _FIELD_NAME_RE.fullmatch(name):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                pairs.append((name, item))
    return pairs
