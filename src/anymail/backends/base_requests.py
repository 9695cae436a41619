"""Shared machinery for ESPs called over HTTP with ``requests``.

One ``requests.Session`` per backend connection: opened by ``open()``, reused
for every message of a ``send_messages()`` call (or of a ``with connection:``
block), closed by ``close()``. Every transport failure and every non-2xx
answer becomes :exc:`AnymailRequestsAPIError`, quoting the ESP's own error text.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Final, TypeVar
from urllib.parse import urljoin

import requests
from django.core.mail import EmailMessage
from urllib3.exceptions import NewConnectionError

from .. import __version__
from .._redact import clean_json, credential_values, loads_json
from ..conf import (
    BOOL,
    REQUESTS_TIMEOUT,
    TIMEOUT_OPTION,
    URL,
    Setting,
    get_bool,
    get_requests_timeout,
    get_setting,
)
from ..exceptions import AnymailRequestsAPIError, requests_api_error_class
from ..retry import NO_ANSWER, NOT_SENT
from ..utils import serialize_json, update_deep
from ._debug_requests import write_api_request
from .base import AnymailBaseBackend, BasePayload

__all__ = [
    "API_URL",
    "DEBUG_API_REQUESTS",
    "JSON_HEADERS",
    "AnymailRequestsBackend",
    "RequestsPayload",
    "http_status",
]

API_URL: Final = Setting(
    "api_url",
    URL,
    "Base URL of the ESP's API (another region, or a proxy).",
    default_for=lambda backend: backend.default_api_url,
)
DEBUG_API_REQUESTS: Final = Setting(
    "debug_api_requests",
    BOOL,
    "Print each API request and response to stdout, credentials hidden (never in production).",
    default=False,
    per_esp=False,
)

#: The request headers of a JSON API: a payload adds them to its ``headers``.
JSON_HEADERS: Final = MappingProxyType(
    {"Accept": "application/json", "Content-Type": "application/json"}
)

#: The payload class an HTTP backend builds.
RequestsPayloadT = TypeVar("RequestsPayloadT", bound="RequestsPayload")


class AnymailRequestsBackend(AnymailBaseBackend[RequestsPayloadT]):
    """Base for HTTP API backends.

    Subclasses pass the resolved ``api_url`` to ``__init__`` (or set
    ``default_api_url`` and let the base resolve the ``API_URL`` setting).
    """

    default_api_url: ClassVar[str | None] = None
    declared_settings: ClassVar[tuple[Setting, ...]] = (
        API_URL,
        TIMEOUT_OPTION,
        REQUESTS_TIMEOUT,
        DEBUG_API_REQUESTS,
    )
    concurrent_connection_attr = "session"

    def __init__(self, api_url: str | None = None, **kwargs: Any) -> None:
        if api_url is None:
            api_url = get_setting(
                API_URL,
                self.settings_esp_name or self.esp_name,
                kwargs,
                default=self.default_api_url,
            )
        self.api_url: str = api_url or ""
        self.timeout = get_requests_timeout(kwargs)
        self.debug_api_requests = get_bool(DEBUG_API_REQUESTS, kwargs=kwargs)
        super().__init__(**kwargs)
        self.session: requests.Session | None = None

    def open(self) -> bool:
        if self.session is not None:
            return False
        self.session = self.create_session()
        return True

    def close(self) -> None:
        if self.session is not None:
            close_session(self.session)
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

    def post_to_esp(self, payload: RequestsPayloadT, message: EmailMessage) -> requests.Response:
        session = self.session
        close_after = session is None  # called outside send_messages()
        if session is None:
            session = self.create_session()
        error = None
        try:
            # (The request's parameters hold credentials: kept out of this frame's
            # locals, which Django's error reports show.)
            response = session.request(**self._request_params(payload))
        except requests.RequestException as err:
            error = self._transport_error(err, payload, message)
        finally:
            if close_after:
                close_session(session)
        if error is not None:
            # Raised outside the except block: requests' exception (whose text and
            # frames can hold the request's URL, headers and body) is not chained.
            raise error
        self.raise_for_status(response, payload, message)
        return response

    def _request_params(self, payload: RequestsPayloadT) -> dict[str, Any]:
        params = payload.get_request_params(self.api_url)
        params.setdefault("timeout", self.timeout)
        return params

    def _transport_error(
        self, err: requests.RequestException, payload: BasePayload, message: EmailMessage
    ) -> AnymailRequestsAPIError:
        """The AnymailRequestsAPIError for a failure inside requests: also an instance of
        ``err``'s class, without ``err`` itself (nor any credential in its text)."""
        esp = self.esp_name
        if isinstance(err, requests.exceptions.InvalidHeader):
            # requests' message quotes the header value: often a credential.
            text = (
                f"Could not call the {esp} API: an HTTP header value is invalid. "
                "Check your Anymail credential settings for stray spaces, quotes or "
                "line breaks."
            )
        elif isinstance(err, requests.Timeout):
            text = (
                f"Timed out calling the {esp} API: {type(err).__name__}: {err}\n"
                f"The request may already have reached {esp}, so a blind retry could send "
                "the message twice. To wait longer, raise the ANYMAIL REQUESTS_TIMEOUT "
                f"setting (now {_describe_timeout(self.timeout)})."
            )
        else:
            text = f"Could not reach the {esp} API: {type(err).__name__}: {err}"
        # (The exception replaces any credential of the backend or payload in the text.)
        error = requests_api_error_class(type(err))(
            text, email_message=message, payload=payload, backend=self
        )
        error.request = err.request
        error.transport_failure = _transport_failure(err)
        return error

    def raise_for_status(
        self, response: requests.Response, payload: RequestsPayloadT, message: EmailMessage
    ) -> None:
        """Raise AnymailRequestsAPIError for a non-2xx response, worded by describe_error().

        ESPs that report per-recipient errors with another status override this.
        """
        if not 200 <= response.status_code < 300:
            raise self.api_error(self.describe_error(response, payload), response, payload, message)

    def describe_error(self, response: requests.Response, payload: RequestsPayloadT) -> str:
        """The text of the error for a non-2xx ``response`` (the exception itself quotes the
        body below it). ESPs override it to name the answer's error fields, or add a hint."""
        return f"{self.esp_name} API error: {http_status(response)}."

    def read_json(self, response: requests.Response) -> Any:
        """The response's JSON; ValueError if it isn't usable JSON (invalid, not UTF-8,
        or nested deeper than any ESP answers).

        Never a RecursionError (unlike ``response.json()``). Any credential of this
        backend the ESP echoes is already replaced, and lone surrogates escaped: the
        data (and what is made from it) can be shown, e.g. in Django's error reports.
        """
        data = loads_json(response.content or b"")
        return clean_json(data, credential_values(self, response.request))

    def error_json(self, response: requests.Response) -> Any:
        """:meth:`read_json` for describing an error response: None if it isn't JSON."""
        try:
            return self.read_json(response)
        except ValueError:
            return None

    def deserialize_json_response(
        self, response: requests.Response, payload: BasePayload, message: EmailMessage
    ) -> Any:
        """:meth:`read_json`, or an AnymailRequestsAPIError if the response isn't usable JSON."""
        try:
            return self.read_json(response)
        except ValueError:
            pass
        # Raised here, not chained: the parser's error keeps the whole body.
        raise AnymailRequestsAPIError(
            f"Invalid JSON in the {self.esp_name} API response.",
            email_message=message,
            payload=payload,
            response=response,
            backend=self,
        )

    def invalid_response(
        self, problem: str, response: requests.Response, payload: BasePayload, message: EmailMessage
    ) -> AnymailRequestsAPIError:
        """The error for an answer of the wrong shape ("... format: <problem>.")."""
        return self.api_error(
            f"Invalid {self.esp_name} API response format: {problem}.", response, payload, message
        )

    def api_error(
        self, text: str, response: requests.Response, payload: BasePayload, message: EmailMessage
    ) -> AnymailRequestsAPIError:
        """The error to raise for ``response`` (its str() quotes the ESP's answer)."""
        return AnymailRequestsAPIError(
            text, email_message=message, payload=payload, response=response, backend=self
        )

    def _dump_api_request(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """DEBUG_API_REQUESTS: show the request and response, with secrets hidden."""
        secrets = credential_values(self, response.request)
        # Debug output must not turn a message the ESP accepted into an error
        # (e.g. a closed stdout, or one that can't encode the text).
        with contextlib.suppress(OSError, ValueError):
            write_api_request(response, sys.stdout, secrets)


def http_status(response: requests.Response) -> str:
    """ "HTTP 400 Bad Request": the status, and its reason when the ESP sent one."""
    reason = f" {response.reason}" if response.reason else ""
    return f"HTTP {response.status_code}{reason}"


def _transport_failure(err: requests.RequestException) -> str | None:
    """Whether the request never left (NOT_SENT) or got no answer (NO_ANSWER), for retries."""
    if isinstance(err, requests.ConnectTimeout):
        return NOT_SENT
    if isinstance(err, requests.exceptions.SSLError):
        return None  # a certificate problem, not a transient one
    if isinstance(err, requests.ConnectionError):
        # requests wraps urllib3's MaxRetryError, whose reason tells a failure to
        # connect (refused, DNS) from a connection lost after sending.
        reason = getattr(err.args[0] if err.args else None, "reason", None)
        return NOT_SENT if isinstance(reason, NewConnectionError) else NO_ANSWER
    if isinstance(err, requests.Timeout):
        return NO_ANSWER
    return None


def close_session(session: requests.Session) -> None:
    """Close the session and its pooled connections now.

    ``Session.close()`` alone leaves them to the garbage collector with some urllib3
    versions (2.8 clears its pool map without closing the pools), and every response
    kept in an ``anymail_status`` would keep a socket open.
    """
    for adapter in session.adapters.values():
        managers = [getattr(adapter, "poolmanager", None)]
        managers += list(getattr(adapter, "proxy_manager", {}).values())
        for manager in managers:
            pools = getattr(manager, "pools", None)
            if pools is None:
                continue
            for key in list(pools.keys()):
                pool = pools.get(key)
                if pool is not None:
                    pool.close()
    session.close()


def _describe_timeout(timeout: Any) -> str:
    if timeout is None:
        return "None: no timeout"
    if isinstance(timeout, tuple):
        return f"{timeout!r}: (connect, read) seconds"
    return f"{timeout:g} seconds"


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
        backend: AnymailRequestsBackend[Any],
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
