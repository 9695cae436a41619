"""The backends the contract suite runs against.

Every module in ``tests/contract/cases/`` defines ``CASE``, a
:class:`ContractCase` that says how to build that backend with dummy settings,
how its ESP answers, and where its requests carry the credentials and the tags.
Adding a backend to the suite means adding one such module.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from anymail._demo.esps import DEMO_ESPS

from ..utils import modules_in, request_json
from . import cases

#: The ESP's answer to a request: (status, headers, body), as a ``responses`` callback.
Answer = Callable[[Any], tuple[int, dict[str, str], str | bytes]]
#: Reads something from the request the ESP received (``None`` for backends that don't
#: use requests: those read their emulator).
Reader = Callable[[Any], Any]

#: Credential values every backend refuses when it is made (and never quotes).
INVALID_CREDENTIALS: tuple[Any, ...] = (
    "",
    "   ",
    "  zq8-leading-space",
    "zq8 has space",
    "zq8\r\nX-Evil: 1",
    "zq8-line-break\n",
    "zq8-s\u00e9cret",
    "zq8-\u2019quoted\u2019",
    12345,
    None,
)


@dataclass(frozen=True)
class Credential:
    """A setting the backend can't send without (an API key, a token, an account id)."""

    option: str  # the backend keyword (MAILERS OPTIONS name), e.g. "server_token"
    setting: str  # e.g. "POSTMARK_SERVER_TOKEN"
    sent: Reader  # where the ESP's request carries it
    #: The request header that carries it (DEBUG_API_REQUESTS shows it redacted).
    header: str | None = None
    #: Whether the bare root setting (POSTMARK_SERVER_TOKEN) is read too.
    bare_setting: bool = True
    secret: bool = True
    invalid: tuple[Any, ...] = INVALID_CREDENTIALS

    @classmethod
    def in_header(cls, option: str, setting: str, name: str, prefix: str = "") -> Credential:
        """A credential sent as a header's value (after ``prefix``, e.g. "Bearer ")."""
        return cls(option, setting, header(name, prefix), header=name)


@dataclass(frozen=True)
class OptionsExample:
    """Backend options beyond the credentials, and what the ESP then receives."""

    options: dict[str, Any]
    url: str  # the request goes here
    #: The connection's attributes the options set, and their values.
    attributes: dict[str, Any] = field(default_factory=dict)
    #: Headers the request then carries.
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlainSend:
    """The shared plain message (``make_message``: text only, to one named recipient)
    on the wire: the whole request the ESP receives, and what is read from
    its answer."""

    url: str
    body: dict[str, Any]  # the request's whole JSON body
    status: str  # every recipient's status, read from the answer
    message_id: Any
    #: The ESP's JSON answer (None: the case's typical success answer).
    answer: Any = None
    #: Headers the request must not carry (e.g. a credential header of another form).
    absent_headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContractCase:
    id: str  # the ESP slug, e.g. "postmark"
    backend: str  # dotted path of the EmailBackend
    esp_name: str  # the backend's esp_name, e.g. "Postmark"
    options: dict[str, Any] = field(default_factory=dict)  # backend kwargs (dummy credentials)
    uses_requests: bool = True
    # The ESP's send endpoint(s) (a regex), and its typical success answer there.
    endpoint: str | None = None
    answer: Answer | None = None
    # An error answer: the HTTP status, the body (None: the emulator refuses by itself),
    # and a piece of the ESP's error text that the AnymailAPIError message must quote.
    error: tuple[int, Any, str] | None = None
    # More error answers (status, body, a piece of it the message must quote): each is
    # an AnymailRequestsAPIError naming the ESP and the HTTP status.
    http_errors: tuple[tuple[int, Any, str], ...] = ()
    # An answer in which every recipient is refused, for ESPs that say so at send time.
    rejected: Answer | None = None
    # For backends that don't use requests: makes the emulator accept the contract
    # messages; a context manager entered around each test (e.g. an AWS emulator),
    # and a function counting the API calls made.
    accept: Callable[[], None] | None = None
    context: Callable[[], AbstractContextManager[Any]] | None = None
    count_calls: Callable[[], int] | None = None
    # Supported features the mocked ESP can't answer (e.g. an emulator lacking an API).
    features_not_mocked: frozenset[str] = frozenset()
    # For HTTP backends that don't use requests: the (connect, read) timeouts the
    # connection's API client uses (to check the `timeout` option reaches it).
    client_timeouts: Callable[[Any], tuple[Any, Any]] | None = None
    # For backends that don't use requests: everything sent so far, as text (for
    # requests backends the suite reads the recorded request bodies).
    sent_text: Callable[[], str] | None = None
    # The ESP refuses a message without an html body (unless it uses a template).
    requires_html_body: bool = False
    credentials: tuple[Credential, ...] = ()
    # The tags of the last message, as the ESP received them.
    sent_tags: Reader | None = None
    options_example: OptionsExample | None = None
    # Headers every request carries (besides the credentials').
    request_headers: dict[str, str] = field(default_factory=dict)
    plain_send: PlainSend | None = None


#: The headers of a JSON API's requests: the body's type, and the answer's it accepts.
JSON_REQUEST = {"Content-Type": "application/json"}
JSON_EXCHANGE = {**JSON_REQUEST, "Accept": "application/json"}


def demo_case(id: str, esp_name: str, **fields: Any) -> ContractCase:
    """The case of an ESP in the demo's table: its backend, dummy options and typical
    success answer are the demo's (``fields`` may set others)."""
    demo = DEMO_ESPS[id]
    fields = {"options": dict(demo.options), "answer": demo.answer, **fields}
    return ContractCase(id=id, backend=demo.backend, esp_name=esp_name, **fields)


# --- readers -----------------------------------------------------------------------------


def header(name: str, prefix: str = "") -> Reader:
    """A request header's value (after ``prefix``, e.g. "Bearer ")."""

    def read(request: Any) -> str:
        value = request.headers[name]
        assert value.startswith(prefix), value
        return str(value[len(prefix) :])

    return read


def basic_auth(part: int) -> Reader:
    """The user name (0) or password (1) of the request's basic auth."""

    def read(request: Any) -> str:
        scheme, _, token = request.headers["Authorization"].partition(" ")
        assert scheme == "Basic"
        return base64.b64decode(token).decode("utf-8").split(":", 1)[part]

    return read


def json_at(*path: str | int, listed: bool = False) -> Reader:
    """The value at ``path`` in the request's JSON body (as a one-item list if ``listed``)."""

    def read(request: Any) -> Any:
        value = request_json(request)
        for key in path:
            value = value[key]
        return [value] if listed else value

    return read


#: Every module's CASE, by id.
CASES: list[ContractCase] = sorted(
    (module.CASE for module in modules_in(cases)), key=lambda case: case.id
)
