"""``anymail demo``: the whole round trip on 127.0.0.1, with no credentials.

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
        raise RuntimeError("anymail demo configures Django itself: run it on its own.")


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
            describe_signing(sandbox, esp, out)
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


def describe_signing(sandbox: Sandbox, esp: str, out: TextIO) -> None:
    """How the app checks that the events come from the sandbox."""
    out.write("The app's webhooks accept the sandbox's posts with ANYMAIL settings:\n")
    out.write(f"  WEBHOOK_SECRET = {sandbox.webhook_secret!r} (basic auth)\n")
    for name, value in sandbox.emulator(esp).webhook_settings().items():
        if isinstance(value, dict):  # pinned certificates: URL -> PEM
            for url in value:
                out.write(f"  {name} = {{{url!r}: '-----BEGIN CERTIFICATE-----...'}}\n")
            out.write("  (the sandbox's own SNS certificate, pinned to the URL its posts name)\n")
            continue
        shown = f"{value[:40]}...{value[-8:]}" if len(value) > 60 else value
        what = "public key of the sandbox's own key pair" if len(value) > 60 else "shared key"
        out.write(f"  {name} = {shown!r} ({what})\n")


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
    from .keys import SandboxKeys

    sandbox = Sandbox(
        port=args.port,
        webhook_url=args.app_url,
        api_key=args.api_key,
        webhook_secret=args.webhook_secret,
        verbose=True,
        keys=SandboxKeys(args.keys),
    )
    # The sandbox passes its own keys to the webhook builders; they still read a few
    # settings (e.g. WEBHOOK_SECRET's default), so configure Django if nothing has.
    configure_standalone(INSTALLED_APPS=["anymail"], USE_TZ=True)
    sandbox.start()
    out.write(f"Anymail sandbox on {sandbox.url} (web UI there); events go to {args.app_url}\n")
    out.write(f"Point a backend at it with these ANYMAIL settings, e.g. for {DEFAULT_ESP}:\n")
    for name, value in sandbox.settings(DEFAULT_ESP).items():
        out.write(f"  {name!r}: {value!r},\n")
    out.write("Settings that verify the sandbox's signed webhooks (its own key pairs):\n")
    for esp in ("postal", "sendgrid", "amazon_ses", "scaleway"):
        for name, value in sandbox.emulator(esp).webhook_settings().items():
            out.write(f"  {name!r}: {value!r},\n")
    if args.keys is None:
        out.write("(New key pairs each run: --keys FILE keeps them.)\n")
    out.write("Ctrl-C stops.\n")
    out.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0
