"""Throughput of Anymail's send pipeline, without any network.

    uv run python benchmarks/bench_send.py [--seconds 1.0] [--smoke]

Prints, for each scenario, how many messages per second one core processes
and the time per message. The ESP scenarios run the real backend (payload
building, JSON/multipart encoding, response parsing) against an in-process
transport that answers like the ESP, so they measure Anymail's own overhead:
what a worker spends per email besides waiting for the ESP.

``--smoke`` runs each scenario only a few times (CI runs it, so the benchmark
keeps working); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from anymail.cli import DEMO_PNG, configure_django

configure_django()

from anymail._demo._capture import make_backend, open_captured  # noqa: E402
from anymail.addresses import _parse, parse_address_list  # noqa: E402
from anymail.cli import demo_esps  # noqa: E402
from anymail.message import AnymailMessage  # noqa: E402

#: Runs per scenario with --smoke.
SMOKE_RUNS = 3


def simple_message() -> AnymailMessage:
    return AnymailMessage(
        subject="Reset your password",
        body="Follow this link to reset your password: https://example.com/r/abc",
        from_email="Example <noreply@example.com>",
        to=["Customer Name <customer@example.com>"],
        tags=["password-reset"],
        metadata={"user_id": "12345"},
    )


def rich_message() -> AnymailMessage:
    message = simple_message()
    message.cc = ["Manager <manager@example.com>"]
    message.reply_to = ["Support <support@example.com>"]
    message.extra_headers = {"X-Campaign": "reset"}
    message.attach_alternative(
        "<p>Follow <a href='https://example.com/r/abc'>this link</a></p>", "text/html"
    )
    message.attach("receipt.csv", "item,price\nwidget,1.00\n", "text/csv")
    message.attach_inline_image(DEMO_PNG, "logo.png")
    return message


def measure(label: str, func: Callable[[], Any], seconds: float, smoke: bool) -> None:
    func()  # warm up (imports, caches)
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while (count < SMOKE_RUNS) if smoke else (time.perf_counter() < deadline):
        func()
        count += 1
    elapsed = time.perf_counter() - start
    per_item = elapsed / count
    print(f"{label:<48} {count / elapsed:>10,.0f}/s {per_item * 1e6:>10,.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per scenario")
    parser.add_argument(
        "--smoke", action="store_true", help=f"run each scenario {SMOKE_RUNS} times, untimed"
    )
    args = parser.parse_args()
    seconds, smoke = args.seconds, args.smoke

    print(f"{'scenario':<48} {'throughput':>12} {'per item':>13}")
    for label, address in (
        ("parse a plain address (uncached)", "Customer Name <customer@example.com>"),
        ("parse a quoted display name (uncached)", '"Smith, Jo" <jo@example.com>'),
        ("parse an IDN address (uncached)", "Jo <jo@exämple.com>"),
    ):
        measure(
            label,
            lambda address=address: (_parse.cache_clear(), parse_address_list(address)),
            seconds,
            smoke,
        )

    from anymail.backends.test import EmailBackend as TestBackend

    test_backend = TestBackend()
    measure(
        "test backend: simple message",
        lambda: test_backend.send_messages([simple_message()]),
        seconds,
        smoke,
    )
    measure(
        "test backend: rich message",
        lambda: test_backend.send_messages([rich_message()]),
        seconds,
        smoke,
    )

    for slug, esp in sorted(demo_esps().items()):
        if slug == "sendinblue":
            continue  # the Brevo backend under its deprecated name
        backend = make_backend(esp)
        # The demo's canned ESP (a requests transport, or boto3 events for SES).
        captured = open_captured(esp, backend)

        def send(backend: Any = backend, captured: list[Any] = captured) -> None:
            captured.clear()
            backend.send_messages([rich_message()])

        measure(f"{slug}: rich message, in-process ESP", send, seconds, smoke)
        backend.close()


if __name__ == "__main__":
    main()
