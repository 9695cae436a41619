"""Send scenarios that use only Anymail's documented public API.

Run by ``compare_public.py`` in two environments (this project, and the
public django-anymail release from PyPI), so both are timed on exactly the
same work. Prints one JSON object: scenario -> microseconds per message.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["anymail"],
    USE_TZ=True,
    DEFAULT_FROM_EMAIL="Shop <shop@example.com>",
    ANYMAIL={"POSTMARK_SERVER_TOKEN": "bench-token", "SENDGRID_API_KEY": "bench-key"},
)
django.setup()

import responses  # noqa: E402
from django.core.mail import get_connection  # noqa: E402

from anymail.message import AnymailMessage  # noqa: E402

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4c0000000"
    "0049454e44ae426082"
)


def message() -> AnymailMessage:
    msg = AnymailMessage(
        subject="Your receipt",
        body="Thanks for your order.",
        to=["Customer Name <customer@example.com>"],
        cc=["Accounts <accounts@example.com>"],
        reply_to=["Support <support@example.com>"],
        headers={"X-Order": "1234"},
        tags=["receipt"],
        metadata={"order": "1234"},
        track_clicks=True,
    )
    msg.attach_alternative("<p>Thanks for your order.</p>", "text/html")
    msg.attach("receipt.csv", "item,price\nwidget,1.00\n", "text/csv")
    msg.attach_inline_image(PNG, "logo.png")
    return msg


def measure(send: Callable[[], Any], seconds: float) -> float:
    send()  # warm up
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        send()
        count += 1
    return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    results: dict[str, float] = {}

    test_backend = get_connection("anymail.backends.test.EmailBackend")
    results["test backend"] = measure(lambda: test_backend.send_messages([message()]), seconds)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            "https://api.postmarkapp.com/email",
            json={
                "To": "customer@example.com",
                "SubmittedAt": "2026-11-21T10:00:00Z",
                "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
                "ErrorCode": 0,
                "Message": "OK",
            },
        )
        mock.add(responses.POST, "https://api.sendgrid.com/v3/mail/send", status=202, body="")
        for esp in ("postmark", "sendgrid"):
            connection = get_connection(f"anymail.backends.{esp}.EmailBackend")
            with connection:  # one HTTP session for all sends, as in a batch
                results[f"{esp} (mocked HTTP)"] = measure(
                    lambda connection=connection: connection.send_messages([message()]), seconds
                )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
