"""The ``anymail`` command line: ``anymail demo``, ``anymail sandbox``, ``anymail --version``.

``anymail demo`` runs the whole round trip on 127.0.0.1 (:mod:`anymail.sandbox.demo`):
the ESP sandbox and a small Django app, a realistic message sent over real HTTP
through the real backend, and a delivery and a bounce posted back through the
app's webhook view. ``--esp NAME`` picks the ESP, ``--open`` keeps it running.

``anymail demo --offline`` needs no server: it sends the same message (text and
HTML, an attachment, an inline image, tags, metadata, per-recipient merge data)
through Anymail's console backend, which prints the normalized send parameters,
then prints the resulting ``anymail_status``. ``--offline --esp postmark`` sends
it through that ESP's backend with dummy credentials but intercepts the HTTP
call: it prints what the demo changed in the message for that ESP, the exact
request the ESP would receive, what the ESP cannot send, and the status Anymail
would report for a typical success response. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from django.core.exceptions import ImproperlyConfigured

from anymail import __version__
from anymail.exceptions import AnymailError

#: A 1x1 transparent PNG, for the inline image.
DEMO_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4c0000000"
    "0049454e44ae426082"
)


def configure_django(**overrides: Any) -> None:
    from anymail.conf import configure_standalone

    configure_standalone(
        INSTALLED_APPS=["anymail"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_FROM_EMAIL="Example Shop <orders@shop.example.com>",
        EMAIL_BACKEND="anymail.backends.console.EmailBackend",
        ANYMAIL={"SEND_DEFAULTS": {"tags": ["demo"]}},
        **overrides,
    )


def build_demo_message() -> Any:
    """An order-confirmation batch send that uses most of Anymail's features."""
    from anymail.message import AnymailMessage

    message = AnymailMessage(
        subject="Your order {{order_no}} has shipped",
        body="Hi {{name}}, your order {{order_no}} is on its way.",
        to=["Ana García <ana@example.com>", '"Smith, Jo" <jo.smith@example.net>'],
        reply_to=["Support <support@shop.example.com>"],
        headers={"X-Campaign": "shipping-2026"},
        tags=["order-shipped"],
        metadata={"order_batch": "B-1042"},
        track_clicks=True,
        merge_data={
            "ana@example.com": {"name": "Ana", "order_no": "A-1001"},
            "jo.smith@example.net": {"name": "Jo", "order_no": "A-1002"},
        },
        merge_global_data={"shop": "Example Shop"},
        merge_metadata={
            "ana@example.com": {"customer_id": "c-17"},
            "jo.smith@example.net": {"customer_id": "c-42"},
        },
    )
    cid = message.attach_inline_image(DEMO_PNG, filename="logo.png")
    message.attach_alternative(
        f'<p><img alt="Example Shop" src="cid:{cid}"></p>'
        "<p>Hi {{name}}, your order <b>{{order_no}}</b> is on its way.</p>",
        "text/html",
    )
    message.attach("invoice.csv", "item,qty,price\nAnvil,1,19.99\n", "text/csv")
    return message


def demo_esps() -> Mapping[str, Any]:
    """The ESPs ``anymail demo --offline --esp`` knows (anymail._demo.esps), by slug."""
    from anymail._demo.esps import DEMO_ESPS

    return DEMO_ESPS


def print_status(message: Any, out: TextIO) -> None:
    status = message.anymail_status
    out.write("anymail_status:\n")
    out.write(f"  status: {sorted(status.status) if status.status is not None else None}\n")
    message_id = status.message_id
    if isinstance(message_id, set):
        message_id = sorted(message_id)
    out.write(f"  message_id: {message_id}\n")
    for address, recipient in status.recipients.items():
        out.write(f"  recipients[{address!r}]: {recipient.status} ({recipient.message_id})\n")


def run_console_demo(out: TextIO) -> int:
    configure_django()
    from anymail.backends.console import EmailBackend

    message = build_demo_message()
    with EmailBackend(stream=out) as connection:
        connection.send_messages([message])
    print_status(message, out)
    return 0


def run_esp_demo(esp: str, out: TextIO) -> int:
    esps = demo_esps()
    if esp not in esps:
        choices = ", ".join(sorted(esps)) or "(none yet)"
        sys.stderr.write(f"anymail demo: unknown ESP {esp!r}; choose one of: {choices}\n")
        return 2
    configure_django()
    from anymail._demo._capture import send_captured

    send_captured(esps[esp], build_demo_message(), out)
    return 0


def demo_esp_names() -> list[str]:
    """The ESP names ``anymail demo --esp`` accepts (listed without importing their SDKs)."""
    return sorted(demo_esps())


def build_parser() -> argparse.ArgumentParser:
    # Plain text here: argparse prints it as written (the module docstring is reST).
    parser = argparse.ArgumentParser(
        prog="anymail",
        description="Anymail: Django email backends and webhooks for transactional "
        "email service providers (ESPs).",
        epilog="Run 'anymail demo --help' for the demo's options.",
    )
    parser.add_argument("--version", action="version", version=f"django-anymail {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from anymail.sandbox.demo import DEFAULT_ESP

    demo = commands.add_parser(
        "demo",
        help="the round trip on 127.0.0.1: send through the local ESP sandbox, get a "
        "delivery and a bounce back through the webhook view",
        description="Start the local ESP sandbox and a small Django app (SQLite), send a "
        "realistic message (text and HTML, an attachment, an inline image, tags, metadata, "
        "per-recipient merge data) over real HTTP through the ESP's real backend, have the "
        "sandbox post a delivery and a bounce back through the app's webhook view, and "
        "print what the app's tracking receiver got. No credentials, no network beyond "
        "127.0.0.1. With --offline: no server; print the message as Anymail's console "
        "backend sees it, or (with --esp) the exact HTTP request that ESP's backend "
        "would send.",
    )
    demo.add_argument(
        "--esp",
        metavar="NAME",
        help=f"the ESP (default {DEFAULT_ESP}). NAME is one of: {', '.join(demo_esp_names())}.",
    )
    demo.add_argument(
        "--open",
        action="store_true",
        help="keep the sandbox and the app running afterwards, and print the web UI's URL",
    )
    demo.add_argument(
        "--offline",
        action="store_true",
        help="start no server: show the message through the console backend, or with "
        "--esp the exact request that ESP's backend would send (nothing is sent)",
    )
    add_sandbox_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = sys.stdout
    try:
        if args.command == "sandbox":
            from anymail.sandbox.demo import serve

            return serve(args, out)
        esp = args.esp.lower().replace("-", "_") if args.esp else None
        if args.offline:
            if args.open:
                sys.stderr.write("anymail demo: --open needs the sandbox: drop --offline.\n")
                return 2
            return run_esp_demo(esp, out) if esp else run_console_demo(out)
        from anymail.sandbox.demo import run

        try:
            return run(esp, args.open, out)
        except LookupError as error:
            sys.stderr.write(f"anymail demo: {error}\n")
            return 2
    except (AnymailError, ImproperlyConfigured) as err:
        # A missing extra or a setting to fix: the message says what to do, a traceback
        # would only hide it. (Anything else is a bug, and keeps its traceback.)
        sys.stderr.write(f"anymail {args.command}: {' '.join(str(err).split())}\n")
        return 1


def add_sandbox_command(commands: Any) -> None:
    from anymail.sandbox import DEFAULT_API_KEY, DEFAULT_WEBHOOK_SECRET

    sandbox = commands.add_parser(
        "sandbox", help="serve every ESP's send API and a web UI on 127.0.0.1"
    )
    sandbox.add_argument("--port", type=int, default=8025, help="port (default 8025)")
    sandbox.add_argument(
        "--app-url",
        default="http://127.0.0.1:8000/anymail/",
        help="your app's Anymail URLs, where events are posted (default %(default)s)",
    )
    sandbox.add_argument("--api-key", default=DEFAULT_API_KEY, help="the key the ESPs accept")
    sandbox.add_argument(
        "--webhook-secret",
        default=DEFAULT_WEBHOOK_SECRET,
        help="basic auth sent with events: your WEBHOOK_SECRET",
    )
    sandbox.add_argument(
        "--keys",
        metavar="FILE",
        help="keep the keys that sign Postal, SendGrid, Amazon SES and Scaleway events in "
        "FILE (made if missing), so your app's key settings stay valid across restarts",
    )


if __name__ == "__main__":
    sys.exit(main())
