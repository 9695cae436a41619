"""Downloading a file that an ESP's webhook only refers to (e.g. an inbound attachment).

The file is streamed into a temporary file that stays in memory while small
(Django's ``FILE_UPLOAD_MAX_MEMORY_SIZE``), and its size limit is checked while
reading, so a huge file never fills memory. Failures become what the webhook
view should answer, so that the ESP posts again whenever a later try may work:

- no connection, a timeout, a broken transfer, or HTTP 429 or 5xx:
  :exc:`AnymailWebhookTransientError` (503);
- HTTP 401 or 403: :exc:`AnymailConfigurationError` naming the key setting (500);
- any other answer: :exc:`AnymailAPIError` quoting the ESP (500, logged by Django).

The credential headers are never sent on to a redirect to another host, and no
message names the URL (it may hold a download token) or a credential.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import InitVar, dataclass, field
from email.message import Message
from typing import IO, Any, Final

import requests
from django.core.files.uploadedfile import UploadedFile

from .. import __version__
from ..exceptions import AnymailAPIError, AnymailConfigurationError, AnymailWebhookTransientError

__all__ = ["ApiDownloader", "split_content_type"]

_CHUNK: Final = 64 * 1024


class _CredentialSession(requests.Session):
    """A session that drops ``credential_headers`` when a redirect leaves the host.

    (requests itself only drops ``Authorization``; ESP API keys travel in their own header.)
    """

    def __init__(self, credential_headers: Mapping[str, str]) -> None:
        super().__init__()
        self.credential_headers = frozenset(credential_headers)

    def rebuild_auth(self, prepared_request: Any, response: Any) -> None:
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in self.credential_headers:
                prepared_request.headers.pop(name, None)
        super().rebuild_auth(prepared_request, response)


@dataclass(eq=False, repr=False, kw_only=True)
class ApiDownloader:
    """Downloads files from an ESP's API with its credentials; use as a context manager."""

    esp_name: str
    #: Sent with each request, and never on to a redirect to another host.
    credential_headers: InitVar[Mapping[str, str]]
    #: The setting that holds the credential, for error messages.
    key_setting: str
    timeout: Any
    #: A download up to this size stays in memory; a larger one goes to a temporary file
    #: in ``spool_dir`` (None: the system's).
    spool_size: int
    spool_dir: str | None = None
    session: _CredentialSession = field(init=False)

    def __post_init__(self, credential_headers: Mapping[str, str]) -> None:
        self.session = _CredentialSession(credential_headers)
        self.session.headers.update(credential_headers)
        self.session.headers["User-Agent"] = (
            f"django-anymail/{__version__}-{self.esp_name.lower().replace(' ', '-')} "
            f"{requests.utils.default_user_agent()}"
        )

    def __enter__(self) -> ApiDownloader:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.session.close()

    @contextmanager
    def download(
        self,
        url: str,
        *,
        what: str,
        max_size: int,
        too_large: Callable[[], Exception],
        name: str | None = None,
        content_type: str | None = None,
    ) -> Iterator[UploadedFile]:
        """The file at ``url`` as an UploadedFile (closed on exit), named ``name``.

        Its type is the response's Content-Type, else ``content_type``. ``what`` names
        the file in messages ("attachment 2 of inbound item 1"); over ``max_size``
        bytes, ``too_large()`` is raised.
        """
        with tempfile.SpooledTemporaryFile(max_size=self.spool_size, dir=self.spool_dir) as file:
            size, served_type = self._fetch(url, file, what, max_size, too_large)
            file.seek(0)
            mimetype, charset = split_content_type(
                served_type or content_type or "application/octet-stream"
            )
            yield _Download(file, name, mimetype, size, charset)

    def _fetch(
        self,
        url: str,
        file: IO[bytes],
        what: str,
        max_size: int,
        too_large: Callable[[], Exception],
    ) -> tuple[int, str | None]:
        size = 0
        try:
            with self.session.get(url, timeout=self.timeout, stream=True) as response:
                self._check_status(response, what)
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > max_size:
                        raise too_large()
                    file.write(chunk)
                return size, response.headers.get("Content-Type")
        except (
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            requests.exceptions.InvalidURL,
        ) as err:
            raise AnymailConfigurationError(
                f"Can't download the {what} from {self.esp_name}'s API: its URL is invalid "
                f"({type(err).__name__}). Check your {self.esp_name} API_URL setting."
            ) from None
        except requests.RequestException as err:
            # Not chained: requests' messages quote the URL, which may hold a token.
            raise AnymailWebhookTransientError(
                f"Couldn't download the {what} from {self.esp_name}'s API "
                f"({type(err).__name__}); answered 503 so {self.esp_name} posts again."
            ) from None

    def _check_status(self, response: requests.Response, what: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429 or status >= 500:
            raise AnymailWebhookTransientError(
                f"{self.esp_name}'s API answered {status} to the download of the {what}; "
                f"answered 503 so {self.esp_name} posts again."
            )
        if status in (401, 403):
            raise AnymailConfigurationError(
                f"{self.esp_name}'s API refused the download of the {what} ({status}): "
                f"check that {self.key_setting} is your {self.esp_name} API key."
            )
        response.content  # noqa: B018 (read now: the error quotes it after the stream closes)
        raise AnymailAPIError(
            f"{self.esp_name}'s API answered {status} to the download of the {what}.",
            response=response,
            esp_name=self.esp_name,
        )


class _Download(UploadedFile):
    """Downloaded content, named as the sender named it: whoever uses the name cleans
    it (AnymailInboundMessage does), and a sender's "" or ".." is no reason to fail."""

    def _set_name(self, name: str | None) -> None:
        self._name = name

    name = property(UploadedFile._get_name, _set_name)


def split_content_type(value: str) -> tuple[str, str | None]:
    """("text/plain", "utf-8") from "text/plain; charset=UTF-8" (defaults for junk)."""
    header = Message()
    header["Content-Type"] = value
    return header.get_content_type(), header.get_content_charset()
