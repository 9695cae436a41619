"""Every ESP on your machine: a local server that speaks each ESP's send API.

Point a backend at it with the ESP's API-URL setting (Amazon SES: the
``endpoint_url`` of ``AMAZON_SES_CLIENT_PARAMS``), see what was sent in its web
UI, and make it post the ESP's own (correctly signed) tracking events and
inbound messages to your app's webhooks::

    from anymail.sandbox import Sandbox

    with Sandbox(webhook_url="http://127.0.0.1:8000/anymail/") as sandbox:
        settings.ANYMAIL = sandbox.settings("postmark")   # POSTMARK_API_URL and a key
        send_mail(...)
        sandbox.fire(sandbox.messages()[0], "bounced")    # -> your tracking receivers

The server binds 127.0.0.1 only. Posts are built by :mod:`anymail.testing`'s
builders with the sandbox's own keys (:class:`SandboxKeys`; ``settings()`` gives
the app the matching ones; for SNS, Amazon SES's and Scaleway's, the pinned
signing certificate) and its ``webhook_secret`` as basic auth.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from types import TracebackType
from typing import Any

from .esps import EMULATORS, ApiRequest, ApiResponse, Emulator, Message
from .keys import SandboxKeys
from .server import SandboxHTTPServer, handle_api, serve_in_thread
from .store import EventRecord, Received, Store

__all__ = ["EMULATORS", "EventRecord", "Message", "Received", "Sandbox", "SandboxKeys"]

#: The key every emulator accepts unless you choose another.
DEFAULT_API_KEY = "sandbox-api-key"
#: Long and random-looking enough for Anymail's WEBHOOK_SECRET check; not a secret.
DEFAULT_WEBHOOK_SECRET = "sandbox-webhooks:3c1f0b9e7a5d4c2e8f6a1b0d9c7e5f3a"  # noqa: S105


class Sandbox:
    """The sandbox server. ``start()`` (or ``with``) serves it from a daemon thread."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        webhook_url: str | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        verbose: bool = False,
        keys: SandboxKeys | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.api_key = api_key
        #: Where the app's Anymail URLs are: "http://127.0.0.1:8000/anymail/".
        self.webhook_url = webhook_url
        self.verbose = verbose
        #: The app's WEBHOOK_SECRET ("user:password"), which settings() gives it.
        self.webhook_secret = webhook_secret
        self.store = Store()
        #: The key pairs it signs Postal, SendGrid and SNS posts with (its own).
        self.keys = keys if keys is not None else SandboxKeys()
        self.emulators: dict[str, Emulator] = {
            esp: cls(api_key, self.keys) for esp, cls in EMULATORS.items()
        }
        self._server: SandboxHTTPServer | None = None
        #: Inbound posts made to the app, with its answers.
        self.inbound_posts: list[EventRecord] = []

    # -- running ---------------------------------------------------------------------
    def start(self) -> Sandbox:
        self._server = SandboxHTTPServer((self.host, self.port), self)
        self.port = self._server.server_address[1]
        serve_in_thread(self._server)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server = SandboxHTTPServer((self.host, self.port), self)
        self.port = self._server.server_address[1]
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    # -- pointing backends at it -------------------------------------------------------
    def settings(self, esp: str) -> dict[str, Any]:
        """The ``ANYMAIL`` settings that send through ``esp``'s emulator and accept its posts.

        The API URL and key, ``WEBHOOK_SECRET`` and the keys that verify the ESP's
        signed webhooks (throwaway keys the sandbox signs with).
        """
        emulator = self.emulator(esp)
        return {
            **emulator.settings(self.url),
            **emulator.webhook_settings(),
            "WEBHOOK_SECRET": self.webhook_secret,
        }

    def backend(self, esp: str) -> str:
        return f"anymail.backends.{esp}.EmailBackend"

    def emulator(self, esp: str) -> Emulator:
        try:
            return self.emulators[esp]
        except KeyError:
            known = ", ".join(sorted(self.emulators))
            raise LookupError(f"The sandbox has no {esp!r} emulator (it has: {known}).") from None

    def handle_api(self, emulator: Emulator, request: ApiRequest) -> ApiResponse:
        return handle_api(self.store, emulator, request)

    # -- what it received ------------------------------------------------------------
    def messages(self, esp: str | None = None) -> list[Received]:
        """Received messages, newest first (only ``esp``'s if given)."""
        return [item for item in self.store.all() if esp is None or item.esp == esp]

    # -- firing events ---------------------------------------------------------------
    def fire(self, received: Received, event: str, recipient: str | None = None) -> EventRecord:
        """Post ``esp``'s own ``event`` for ``received`` to the app's tracking webhook.

        ``recipient`` defaults to the message's first. The answer is recorded on
        ``received.events`` (and returned), whatever its status.
        """
        from .fire import post_event

        emulator = self.emulator(received.esp)
        if event not in emulator.events:
            raise ValueError(
                f"{emulator.name} has no {event!r} event in the sandbox "
                f"(it has: {', '.join(emulator.events)})."
            )
        if self.webhook_url is None:
            raise ValueError(
                "Set the sandbox's webhook_url (your app's Anymail URL) to fire events."
            )
        recipient = recipient or received.message.recipients[0]
        record = post_event(
            emulator, self.webhook_url, self.webhook_secret, received.message, recipient, event
        )
        received.events.append(record)
        return record

    def post_inbound(self, form: dict[str, str]) -> EventRecord:
        """Post an inbound message (form fields esp, from, to, subject, text) to the app."""
        from .fire import post_inbound

        if self.webhook_url is None:
            raise ValueError("Set the sandbox's webhook_url (your app's Anymail URL) to post.")
        record = post_inbound(
            self.emulator(form.get("esp", "")), self.webhook_url, self.webhook_secret, form
        )
        self.inbound_posts.append(record)
        return record


def http_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST and return (status, body text); (None, reason) when nothing answered."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"The webhook URL must be http(s): {url!r}.")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as error:
        return None, f"no answer: {getattr(error, 'reason', error)}"
