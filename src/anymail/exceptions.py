"""The AnymailError family, plus Anymail's configuration errors and warnings.

Every exception here carries a message that tells the user what went wrong and
what to change. None of them ever includes a secret (API key, webhook secret):
messages quote the ESP's *response*, never the request's credentials, and any
credential the ESP echoes back is replaced (by field name and by value).
"""

from __future__ import annotations

from typing import Any, Final

from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from requests import RequestException

try:
    # Django 6.0 deprecated it (it is ValueError there); imported from message,
    # where it has no deprecation warning.
    from django.core.mail.message import BadHeaderError
except ImportError:  # a Django that no longer has it
    BadHeaderError = ValueError

from ._redact import credential_values, printable, redact_text, redact_values, truncate

#: How much of an ESP's response body to quote in an exception message.
RESPONSE_QUOTE_LIMIT: Final = 2000
#: How much of Anymail's own description to keep (it can quote the ESP's error list).
MESSAGE_LIMIT: Final = 2000
#: How much of a response body is read to quote it (the rest is never looked at).
_RESPONSE_READ_LIMIT: Final = 64 * 1024


class AnymailError(Exception):
    """Base class for exceptions raised by Anymail.

    Optional keyword arguments give context that is added to the message and
    kept as attributes: ``backend``, ``email_message``, ``payload``,
    ``response`` (an ESP API response) and ``status_code``.

    The message is bounded in size, and any credential of the backend or of the
    request (API key, token, URL password) is replaced wherever it appears:
    in ``str()``, in ``repr()`` and in ``args``.
    """

    def __init__(
        self,
        *args: Any,
        backend: Any = None,
        email_message: Any = None,
        payload: Any = None,
        response: Any = None,
        status_code: int | None = None,
        esp_name: str | None = None,
    ) -> None:
        secrets = _credentials(backend, payload, response)
        super().__init__(*(_clean_arg(arg, secrets) for arg in args))
        self.backend = backend
        self.email_message = email_message
        self.payload = payload
        self.response = response
        if status_code is None and response is not None:
            status_code = getattr(response, "status_code", None)
        self.status_code = status_code
        if esp_name is None and backend is not None:
            esp_name = getattr(backend, "esp_name", None)
        self.esp_name = esp_name

    def __str__(self) -> str:
        # Built once: quoting the response means reading and redacting it.
        text = self.__dict__.get("_text")
        if text is None:
            secrets = _credentials(self.backend, self.payload, self.response)
            parts = [_clean_arg(" ".join(str(arg) for arg in self.args), secrets)]
            description = self.describe_response()
            if description:
                parts.append(printable(description))
            text = self.__dict__["_text"] = "\n".join(part for part in parts if part)
        return text

    def describe_response(self) -> str | None:
        """A short quote of the ESP's response, or None when there is none."""
        if self.response is None:
            return None
        esp = self.esp_name or "ESP"
        status = f" {self.status_code}" if self.status_code is not None else ""
        secrets = _credentials(self.backend, self.payload, self.response)
        text = _response_text(self.response, secrets)
        if text is None:
            # Nothing to quote (e.g. an SDK's parsed response): the status, if any.
            return f"{esp} API response{status}" if status else None
        if not text:
            return f"{esp} API response{status} (empty)"
        return f"{esp} API response{status}: {text}"


def _credentials(backend: Any, payload: Any, response: Any) -> frozenset[str]:
    return credential_values(backend, payload, getattr(response, "request", None))


def _clean_arg(arg: Any, secrets: frozenset[str]) -> Any:
    if not isinstance(arg, str):
        return arg
    return printable(truncate(redact_values(arg, secrets), MESSAGE_LIMIT))


def _response_text(response: Any, secrets: frozenset[str]) -> str | None:
    """The start of the ESP's response (secrets hidden), or None if it has no text."""
    content = getattr(response, "content", None)
    if isinstance(content, bytes):
        # Only the start is read: the body can be huge, and only a quote is shown.
        head = content[:_RESPONSE_READ_LIMIT]
        encoding = getattr(response, "encoding", None) or "utf-8"
        try:
            text = head.decode(encoding, errors="replace")
        except LookupError:
            text = head.decode("utf-8", errors="replace")
    else:
        try:
            text = response.text
        except (AttributeError, UnicodeDecodeError, ValueError):
            return None
        if not isinstance(text, str):
            return None
        text = text[:_RESPONSE_READ_LIMIT]
    return truncate(redact_text(text.strip(), secrets), RESPONSE_QUOTE_LIMIT)


class AnymailAPIError(AnymailError):
    """The ESP's API rejected the send, or could not be reached."""

    #: For a failure to get any answer: "not_sent" (could not connect) or "no_answer"
    #: (sent, then timed out or cut off). Retries depend on it (see anymail.retry).
    transport_failure: str | None = None


class AnymailRequestsAPIError(AnymailAPIError, RequestException):
    """An AnymailAPIError from an HTTP (requests-based) backend.

    Also a ``requests.RequestException``, so code that already catches
    requests' errors keeps working. One raised for a failure inside requests
    (a timeout, an SSL error ...) is also an instance of that exception's class
    (see :func:`requests_api_error_class`): ``except requests.Timeout`` catches it.
    """

    #: The requests exception class this error class also derives from, if any.
    requests_error_class: type[RequestException] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # RequestException.__init__ pops `response` and `request`; keep ours.
        response = kwargs.get("response")
        super().__init__(*args, **kwargs)
        self.response = response
        self.request = getattr(response, "request", None)

    def __reduce__(self) -> Any:
        if self.requests_error_class is None:
            return super().__reduce__()
        # The combined class is made at run time: rebuild it from the requests class.
        return (_rebuild_requests_api_error, (self.requests_error_class, self.args), self.__dict__)


_combined_classes: dict[type[RequestException], type[AnymailRequestsAPIError]] = {}


def requests_api_error_class(error_class: type[Exception]) -> type[AnymailRequestsAPIError]:
    """The AnymailRequestsAPIError class to raise for an exception of ``error_class``.

    For a requests exception class, a subclass of both (made once, then reused),
    as the spec promises: the error is also "a subclass of the original RequestException".
    """
    if (
        not issubclass(error_class, RequestException)
        or error_class is RequestException
        or not _combinable(error_class)
    ):
        return AnymailRequestsAPIError
    combined = _combined_classes.get(error_class)
    if combined is None:
        made = type(
            f"AnymailRequestsAPIError[{error_class.__name__}]",
            (AnymailRequestsAPIError, error_class),
            {"__module__": __name__, "requests_error_class": error_class},
        )
        # (setdefault: two threads making the class at once still share one.)
        combined = _combined_classes.setdefault(error_class, made)
    return combined


def _combinable(error_class: type[Exception]) -> bool:
    # A class with an __init__ of its own (requests' JSONDecodeError) expects
    # other arguments than Anymail passes: keep the plain class for those.
    return not any(
        "__init__" in vars(klass)
        for klass in error_class.__mro__
        if klass.__module__ != "builtins" and klass is not RequestException
    )


def _rebuild_requests_api_error(
    error_class: type[RequestException], args: tuple[Any, ...]
) -> AnymailRequestsAPIError:
    cls = requests_api_error_class(error_class)
    error = cls.__new__(cls)
    error.args = args  # (OSError.__new__ leaves args to __init__, which isn't called here)
    return error


class AnymailRecipientsRefused(AnymailError):
    """Every recipient of the message was refused (rejected or invalid) at send time."""

    def __init__(self, message: str | None = None, *args: Any, **kwargs: Any) -> None:
        if message is None:
            message = (
                "All message recipients were rejected or invalid. Check the message's "
                "anymail_status.recipients for details, or set "
                "ANYMAIL IGNORE_RECIPIENT_STATUS to True to send anyway."
            )
        super().__init__(message, *args, **kwargs)


class AnymailInvalidAddress(AnymailError, ValueError):
    """An email address (from, to, cc, bcc, reply_to ...) could not be parsed."""


class AnymailInvalidHeader(AnymailError, BadHeaderError):
    """A header name or value is unusable (e.g. contains a line break: header injection).

    Also Django's BadHeaderError (a ValueError), which Django's own backends raise.
    """


class AnymailUnsupportedFeature(AnymailError, ValueError):
    """The message uses a feature the ESP (or Anymail's backend for it) cannot send."""


class AnymailSerializationError(AnymailError, TypeError):
    """Message data (metadata, merge data, esp_extra ...) could not be serialized."""

    def __init__(
        self,
        message: str | None = None,
        *args: Any,
        orig_err: Exception | None = None,
        **kwargs: Any,
    ) -> None:
        if message is None:
            message = (
                "Don't know how to send this data to the ESP. Convert values like "
                "Decimal, date or model instances to str before setting them as "
                "metadata or merge data."
            )
            if orig_err is not None:
                message += f"\n{orig_err}"
        super().__init__(message, *args, **kwargs)
        self.orig_err = orig_err


class AnymailCancelSend(AnymailError):
    """Raise from a pre_send receiver to cancel sending that message, silently."""


class AnymailWebhookValidationFailure(AnymailError, SuspiciousOperation):
    """A webhook request failed authentication or validation (HTTP 400, nothing dispatched)."""


class AnymailWebhookPayloadError(AnymailWebhookValidationFailure):
    """A webhook body is malformed: bad JSON, a missing field, a wrong type, too big or
    too deep (HTTP 400, nothing dispatched). Raised by the typed payload accessors."""


class AnymailWebhookTransientError(AnymailError):
    """A webhook could not be checked because of a temporary local failure.

    For example a signing certificate could not be fetched, or the cache that
    remembers processed events is down. Answer 5xx, so the ESP retries later;
    unlike :exc:`AnymailWebhookValidationFailure`, the post may well be genuine.
    """


class AnymailInboundParseError(AnymailWebhookValidationFailure, ValueError):
    """A received message is over the inbound limits (size, parts, nesting): HTTP 400."""


class AnymailConfigurationError(ImproperlyConfigured):
    """Anymail is configured incorrectly."""


class AnymailImproperlyConfigured(AnymailConfigurationError):
    """A required Anymail setting is missing or has an invalid value."""


try:
    from django.core.mail import InvalidMailer as _DjangoInvalidMailer
except ImportError:  # Django < 6.1 has no MAILERS: the class is just ours
    _DjangoInvalidMailer = ImproperlyConfigured


class AnymailInvalidMailer(AnymailImproperlyConfigured, _DjangoInvalidMailer):
    """A Django 6.1 ``MAILERS`` entry for an Anymail backend is misconfigured.

    Also Django's ``InvalidMailer`` (on Django 6.1+), so code that catches
    Django's own mailer errors sees Anymail's too.
    """

    def __init__(self, msg: str, *, alias: str | None = None) -> None:
        # Django's format, made here so it is the same on every Django version.
        if alias is not None:
            msg = f"MAILERS[{alias!r}]: {msg}"
        super().__init__(msg)


class AnymailImproperlyInstalled(AnymailConfigurationError, ImportError):
    """A package needed by an ESP backend is not installed."""

    def __init__(self, missing_package: str, install_extra: str = "<esp>") -> None:
        self.missing_package = missing_package
        self.install_extra = install_extra
        super().__init__(
            f"The {missing_package} package is required to use this ESP, but isn't "
            f"installed.\n(Be sure to use `pip install 'django-anymail[{install_extra}]'` "
            "with your desired ESPs.)"
        )


class AnymailWarning(Warning):
    """Base warning for Anymail."""


class AnymailInsecureWebhookWarning(AnymailWarning):
    """A webhook is reachable without any authentication."""


class AnymailDeprecationWarning(AnymailWarning, DeprecationWarning):
    """A deprecated Anymail feature or setting is in use."""
