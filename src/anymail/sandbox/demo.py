"""``anymail demo --e2e``: the whole round trip on 127.0.0.1, with no credentials.

It starts the sandbox and a small Django app (SQLite in memory, Anymail configured
for one ESP, pointed at the sandbox by the ESP's API-URL setting), sends the demo
message over real HTTP through the real backend, has the sandbox post a delivery
and a bounce back through the app's real webhook view, and prints what the app's
``tracking`` receiver got. ``--open`` keeps both running and prints the UI's URL.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, TextIO

from . import EMULATORS, Sandbox

DEFAULT_ESP = "postmark"


def configure(sandbox: Sandbox, esp: str) -> None:
    from ..conf import configure_standalone

    configured = configure_standalone(
        SECRET_KEY="anymail-demo-not-secret",  # noqa: S106 (an in-memory demo)
        INSTALLED_APPS=["django.contrib.contenttypes", "anymail"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        ROOT_URLCONF="anymail.sandbox.demo_urls",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        USE_TZ=True,
        DEFAULT_FROM_EMAIL="Example Shop <orders@shop.example.com>",
        EMAIL_BACKEND=sandbox.backend(esp),
        # The demo message uses features some ESPs lack: send it without them there.
        ANYMAIL={**sandbox.settings(esp), "IGNORE_UNSUPPORTED_FEATURES": True},
    )
    if not configured:
        raise RuntimeError("anymail demo --e2e configures Django itself: run it on its own.")


def run(esp: str | None, keep_open: bool, out: TextIO) -> int:
    from .app import serve_django

    esp = esp or DEFAULT_ESP
    if esp not in EMULATORS:
        choices = ", ".join(sorted(EMULATORS))
        raise LookupError(f"The sandbox has no {esp!r} emulator; choose one of: {choices}")
    with Sandbox() as sandbox:
        configure(sandbox, esp)
        from django.dispatch import receiver

        from ..cli import build_demo_message
        from ..signals import tracking

        received: list[Any] = []

        @receiver(tracking, weak=False)
        def show_event(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
            received.append(event)
            out.write(
                f"  app's tracking receiver got: {event.event_type} for {event.recipient} "
                f"(message_id {event.message_id}, from {esp_name})\n"
            )

        with serve_django() as app_url:
            sandbox.webhook_url = f"{app_url}/anymail/"
            name = sandbox.emulator(esp).name
            out.write(f"Sandbox on {sandbox.url}, app on {app_url}, ESP: {name}\n")
            for message in send_demo(build_demo_message, out):
                out.write(f"Sent {message.subject!r} through {name}'s backend over HTTP:\n")
                for address, recipient in message.anymail_status.recipients.items():
                    out.write(f"  {address}: {recipient.status} ({recipient.message_id})\n")
            stored = sandbox.messages()[-1]
            for event in ("delivered", "bounced"):
                out.write(f"The sandbox posts {name}'s {event!r} event to the app's webhook:\n")
                record = sandbox.fire(stored, event)
                out.write(f"  app answered {record.status}\n")
            if keep_open:
                out.write(
                    f"\nOpen {sandbox.url} to see the messages and fire more events. "
                    "Ctrl-C stops.\n"
                )
                out.flush()
                with contextlib.suppress(KeyboardInterrupt):
                    threading.Event().wait()
    return 0 if len(received) == 2 else 1


def send_demo(build: Any, out: TextIO) -> list[Any]:
    """Send the demo message, or one copy per recipient where the ESP cannot batch-send
    (the backend refuses before any request, so nothing is sent twice)."""
    from ..exceptions import AnymailUnsupportedFeature

    message = build()
    try:
        message.send()
    except AnymailUnsupportedFeature as error:
        if "batch" not in str(error):
            raise
        out.write("This ESP has no batch sends: the demo sends each recipient a copy.\n")
        copies = []
        for address in message.to:
            copy = build()
            copy.to = [address]
            copy.merge_data = copy.merge_metadata = None
            copy.send()
            copies.append(copy)
        return copies
    return [message]


def serve(args: Any, out: TextIO) -> int:
    """``anymail sandbox``: serve until interrupted."""
    from ..conf import configure_standalone

    sandbox = Sandbox(
        port=args.port,
        webhook_url=args.app_url,
        api_key=args.api_key,
        webhook_secret=args.webhook_secret,
        verbose=True,
    )
    # The webhook builders read their signing keys from settings: the sandbox's own
    # (unless Django is configured already).
    keys: dict[str, Any] = {}
    for emulator in sandbox.emulators.values():
        keys.update(emulator.webhook_settings())
    configure_standalone(ANYMAIL=keys, INSTALLED_APPS=["anymail"], USE_TZ=True)
    sandbox.start()
    out.write(f"Anymail sandbox on {sandbox.url} (web UI there); events go to {args.app_url}\n")
    out.write("Point a backend at it with these ANYMAIL settings, e.g. for Postmark:\n")
    for name, value in sandbox.settings("postmark").items():
        out.write(f"  {name} = {value!r}\n")
    out.write("Ctrl-C stops.\n")
    out.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0
