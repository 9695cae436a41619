"""Shared machinery for ESPs called over HTTP with ``requests``.

One ``requests.Session`` per backend connection: opened by ``open()``, reused
for every message of a ``send_messages()`` call (or of a ``with connection:``
block), closed by ``close()``. Every transport failure and every non-2xx
answer becomes :exc:`AnymailRequestsAPIError`, quoting the ESP's own error text.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, ClassVar, TextIO
from urllib.parse import urljoin

import requests
from django.core.mail import EmailMessage

from .. import __version__
from .._redact import REDACTED, is_secret_name, redact_text
from ..conf import get_anymail_setting, get_bool_setting, get_requests_timeout
from ..exceptions import AnymailRequestsAPIError
from ..utils import serialize_json, update_deep
from .base import AnymailBaseBackend, BasePayload


class AnymailRequestsBackend(AnymailBaseBackend):
    """Base for HTTP API backends.

    Subclasses pass the resolved ``api_url`` to ``__init__`` (or set
    ``default_api_url`` and let the base resolve the ``API_URL`` setting).
    """

    default_api_url: ClassVar[str | None] = None
    # timeout is Django's name for requests_timeout (REQUESTS_TIMEOUT).
    option_names = frozenset({"api_url", "timeout", "requests_timeout", "debug_api_requests"})

    def __init__(self, api_url: str | None = None, **kwargs: Any) -> None:
        if api_url is None:
            api_url = get_anymail_setting(
                "api_url",
                default=self.default_api_url,
                esp_name=self.settings_esp_name or self.esp_name,
                kwargs=kwargs,
            )
        self.api_url: str = api_url or ""
        self.timeout = get_requests_timeout(kwargs)
        self.debug_api_requests = get_bool_setting("debug_api_requests", False, kwargs=kwargs)
        super().__init__(**kwargs)
        self.session: requests.Session | None = None

    def open(self) -> bool:
        if self.session is not None:
            return False
        self.session = self.create_session()
        return True

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def create_session(self) -> requests.Session:
        session = requests.Session()
        session.headers["User-Agent"] = (
            f"django-anymail/{__version__}-{self.esp_name.lower().replace(' ', '-')} "
            f"{requests.utils.default_user_agent()}"
        ).strip()
        if self.debug_api_requests:
            session.hooks["response"].append(self._dump_api_request)
        return session

    def post_to_esp(self, payload: BasePayload, message: EmailMessage) -> requests.Response:
        assert isinstance(payload, RequestsPayload)
        params = payload.get_request_params(self.api_url)
        params.setdefault("timeout", self.timeout)
        session = self.session
        close_after = session is None  # called outside send_messages()
        if session is None:
            session = self.create_session()
        try:
            response = session.request(**params)
        except requests.exceptions.InvalidHeader:
            # requests' message quotes the header value: often a credential.
            raise AnymailRequestsAPIError(
                f"Could not call the {self.esp_name} API: an HTTP header value is invalid. "
                "Check your Anymail credential settings for stray spaces, quotes or "
                "line breaks.",
                email_message=message,
                payload=payload,
                backend=self,
            ) from None
        except requests.RequestException as err:
            raise AnymailRequestsAPIError(
                f"Could not reach the {self.esp_name} API: {type(err).__name__}: {err}",
                email_message=message,
                payload=payload,
                backend=self,
            ) from err
        finally:
            if close_after:
                session.close()
        self.raise_for_status(response, payload, message)
        return response

    def raise_for_status(
        self, response: requests.Response, payload: BasePayload, message: EmailMessage
    ) -> None:
        """Raise AnymailRequestsAPIError for a non-2xx response.

        ESPs that report per-recipient errors with another status override this.
        """
        if not 200 <= response.status_code < 300:
            reason = f" {response.reason}" if response.reason else ""
            raise AnymailRequestsAPIError(
                f"{self.esp_name} API error: HTTP {response.status_code}{reason}.",
                email_message=message,
                payload=payload,
                response=response,
                backend=self,
            )

    def deserialize_json_response(
        self, response: requests.Response, payload: BasePayload, message: EmailMessage
    ) -> Any:
        """``response.json()``, or an AnymailRequestsAPIError if it isn't JSON."""
        try:
            return response.json()
        except ValueError as err:
            raise AnymailRequestsAPIError(
                f"Invalid JSON in the {self.esp_name} API response.",
                email_message=message,
                payload=payload,
                response=response,
                backend=self,
            ) from err

    def _dump_api_request(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """DEBUG_API_REQUESTS: show the request and response, with secrets hidden."""
        dump_api_request(response, sys.stdout)


def dump_api_request(response: requests.Response, stream: TextIO) -> None:
    request = response.request
    lines = [f"===== Anymail API request: {request.method} {_strip_query(request.url)}"]
    lines += [f"{name}: {_redact_header(name, value)}" for name, value in request.headers.items()]
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if body:
        lines += ["", _redact_body(body)]
    lines += [
        f"----- Response {response.status_code} {response.reason}",
        *(f"{name}: {value}" for name, value in response.headers.items()),
        "",
        _redact_body(response.text),
        "=====",
    ]
    stream.write("\n".join(lines) + "\n")


def _strip_query(url: str | None) -> str:
    return (url or "").split("?", 1)[0]


def _redact_header(name: str, value: str) -> str:
    return REDACTED if is_secret_name(name) else value


def _redact_body(body: str) -> str:
    body = redact_text(body, indent=2)
    return body if len(body) < 10000 else body[:10000] + "… (truncated)"


class RequestsPayload(BasePayload):
    """A payload that becomes one HTTP request.

    ``method``, ``params`` (query string), ``data``, ``headers``, ``files`` and
    ``auth`` become the ``requests`` call; ``get_api_endpoint()`` names the path
    below the backend's API URL; ``serialize_data()`` turns ``data`` into the body.
    """

    def __init__(
        self,
        message: EmailMessage,
        defaults: Mapping[str, Any],
        backend: AnymailRequestsBackend,
        method: str = "POST",
        params: dict[str, Any] | None = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        files: Any = None,
        auth: Any = None,
    ) -> None:
        self.method = method
        self.params = params
        self.data = data
        self.headers = headers if headers is not None else {}
        self.files = files
        self.auth = auth
        super().__init__(message, defaults, backend)

    def get_request_params(self, api_url: str) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.get_api_url(api_url),
            "params": self.params,
            "data": self.serialize_data(),
            "headers": self.headers,
            "files": self.files,
            "auth": self.auth,
        }

    def get_api_url(self, api_url: str) -> str:
        endpoint = self.get_api_endpoint()
        if not endpoint:
            return api_url
        if not api_url.endswith("/"):
            api_url += "/"
        return urljoin(api_url, endpoint)

    def get_api_endpoint(self) -> str:
        """The endpoint path, relative to the backend's API URL ("" for the URL itself)."""
        return ""

    def serialize_data(self) -> Any:
        return self.data

    def serialize_json(self, data: Any, field: str | None = None) -> bytes:
        """UTF-8 JSON for ``data``; AnymailSerializationError names any value that can't be.

        Bytes, not str: requests would encode a str body as Latin-1.
        """
        return serialize_json(data, field, ensure_ascii=False).encode("utf-8")

    def set_esp_extra(self, extra: dict[str, Any]) -> None:
        """Default rule: deep-merge esp_extra into the request data."""
        if isinstance(self.data, dict):
            update_deep(self.data, extra)
        else:
            super().set_esp_extra(extra)
