"""What every ESP emulator shares: the request, the error, the received message.

An emulator is a small class per ESP. It names the ESP's API-URL setting and
endpoints, checks the auth header as the ESP does (its own 401 body), turns an
accepted request into the messages the ESP would send (with the ESP's ids), and
builds the ESP's tracking payload for an event on one of them. Its helpers are
small modules beside this one: ``_addresses``, ``_values`` (JSON values), ``_auth``
(where the key is), ``_time``, ``_mime``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message as MimeMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl

from ._addresses import addr_spec
from ._declared import BackendDeclarations, backend_declarations

if TYPE_CHECKING:
    from ..keys import SandboxKeys
    from ._auth import KeyIn


@dataclass
class Attachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None


@dataclass
class Message:
    """One message as the ESP would send it (a batch send makes several)."""

    from_email: str
    to: list[str]
    subject: str = ""
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    text: str | None = None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    template: str | None = None
    #: The ESP's message id for each recipient (addr-spec, as the ESP reports it).
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def recipients(self) -> list[str]:
        return [addr_spec(address) for address in self.to + self.cc + self.bcc]


@dataclass
class ApiRequest:
    method: str
    path: str
    #: Header names as sent; look them up with :meth:`header` (case-insensitive).
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def json(self, invalid: EspError) -> Any:
        """The JSON body; ``invalid`` (the ESP's answer to malformed JSON) if it isn't JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise invalid from None

    def json_object(self, invalid: EspError) -> dict[str, Any]:
        """The JSON body, which must be an object: else ``invalid``."""
        data = self.json(invalid)
        if not isinstance(data, dict):
            raise invalid
        return data

    def form(self) -> tuple[list[tuple[str, str]], list[tuple[str, Attachment]]]:
        """Fields and files of a urlencoded or multipart body."""
        content_type = self.header("Content-Type") or ""
        if not content_type.startswith("multipart/"):
            return parse_qsl(self.body.decode("utf-8"), keep_blank_values=True), []
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        mime = BytesParser(policy=HTTP).parsebytes(head + self.body)
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, Attachment]] = []
        for part in mime.iter_parts() if isinstance(mime, MimeMessage) else []:
            name = part.get_param("name", header="content-disposition")
            decoded = part.get_payload(decode=True)
            payload = decoded if isinstance(decoded, bytes) else b""
            filename = part.get_filename()
            if filename is None:
                fields.append((str(name), payload.decode("utf-8")))
            else:
                files.append((str(name), Attachment(filename, part.get_content_type(), payload)))
        return fields, files


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any, **headers: str) -> ApiResponse:
        return cls(status, json.dumps(data, indent=2).encode("utf-8"), headers=headers)


class EspError(Exception):
    """The ESP's error answer: raised while checking a request."""

    def __init__(self, response: ApiResponse) -> None:
        super().__init__(response.status)
        self.response = response

    @classmethod
    def json(cls, status: int, data: Any) -> EspError:
        return cls(ApiResponse.json(status, data))

    def response_json(self) -> Any:
        return json.loads(self.response.body)


class Emulator:
    """The send API of one ESP (subclasses fill in the class attributes)."""

    #: The ESP's slug (backend module, webhook URL prefix).
    esp: ClassVar[str]
    #: What its backend declares (name, settings); filled in from ``esp``.
    declared: ClassVar[BackendDeclarations]
    #: The name the UI shows (default: the backend's ``esp_name``).
    name: ClassVar[str]
    #: The path of the API URL under the ESP's prefix (it mimics the real URL's).
    api_path: ClassVar[str] = ""
    #: The backend setting that points it at the sandbox (default: its ``api_url``).
    api_url_setting: ClassVar[str]
    #: The backend's setting (as declared) that holds the key; None: its only secret one.
    key_option: ClassVar[str | None] = None
    #: Where a request carries the key (see :mod:`._auth`); None where the emulator's
    #: own :meth:`authenticate` finds it (in the body, a request signature).
    key_in: ClassVar[KeyIn | None] = None
    #: Endpoint path (after the API URL) -> handler method name.
    endpoints: ClassVar[Mapping[str, str]]
    #: GET endpoints (e.g. an API the app's webhook view calls back) -> handler name.
    get_endpoints: ClassVar[Mapping[str, str]] = {}
    #: The events the sandbox fires for this ESP (the UI's buttons, in this order):
    #: Anymail's event name -> the ESP's own name for it, as its tracking post writes it.
    events: ClassVar[Mapping[str, Any]]
    #: The tracking webhook path under the app's Anymail URLs.
    webhook_name: ClassVar[str] = "tracking"
    #: The inbound webhook path, and the :mod:`anymail.testing` builder of its posts.
    inbound_name: ClassVar[str] = "inbound"
    inbound_builder: ClassVar[str | None] = None  # default: the ESP's slug

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        if "esp" not in own:
            return
        cls.declared = backend_declarations(cls.esp)
        if "name" not in own:
            cls.name = cls.declared.esp_name
        if "api_url_setting" not in own:
            cls.api_url_setting = cls.declared.setting("api_url")

    def __init__(self, api_key: str, keys: SandboxKeys | None = None) -> None:
        from ..keys import SandboxKeys

        self.api_key = api_key
        #: The key pairs it signs webhooks with (where the ESP signs with a private key).
        self.keys = keys if keys is not None else SandboxKeys()

    @property
    def secret_headers(self) -> tuple[str, ...]:
        """Request headers holding credentials (shown masked in the UI)."""
        return (self.key_in.header,) if self.key_in is not None else ()

    def api_url(self, root: str) -> str:
        return f"{root}{self.esp}/{self.api_path}"

    def settings(self, root: str) -> dict[str, Any]:
        """The ANYMAIL settings that send through this emulator."""
        key_setting = self.declared.key_setting(self.key_option)
        return {key_setting: self.api_key, self.api_url_setting: self.api_url(root)}

    def webhook_settings(self) -> dict[str, Any]:
        """The app's settings that verify this emulator's signed webhook posts."""
        return {}

    @property
    def signing_key(self) -> str:
        """The shared secret it signs webhook posts with, where the ESP signs with one."""
        return f"{self.api_key}-webhooks"

    def authenticate(self, request: ApiRequest) -> None:
        """Raise the ESP's 401 (or whatever it answers) unless the key is right."""
        if self.key_in is None:
            raise NotImplementedError
        presented = self.key_in.read(request)
        if presented != self.key_in.expected(self.api_key):
            raise self.refused(presented)

    def refused(self, presented: object) -> EspError:
        """The ESP's answer to a request with a wrong key (``presented``; None: no key)."""
        raise NotImplementedError

    def event_payload(self, message: Message, recipient: str, event: str) -> Any:
        """The ESP's tracking post for ``event`` on ``message`` to ``recipient``."""
        raise NotImplementedError

    #: ``inbound_payload(form)``: the ESP's inbound post for the UI's form (from, to,
    #: subject, text); ESPs that receive mail define it.
    inbound_payload: Callable[[dict[str, str]], Any] | None = None

    def builder_options(self, url: str, secret: str | None) -> dict[str, Any]:
        """Options for the ESP's :mod:`anymail.testing` builder (e.g. the sandbox's signer)."""
        return {}
