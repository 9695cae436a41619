"""Sends N messages per ESP through a fake ESP and prints messages/s as JSON.

Run by ``bench_throughput.py``, in this project's environment and in one with
the public django-anymail release, so it uses only Anymail's documented API.
Reads its job from stdin: ``{"count": N, "esps": {name: {"backend": path,
"options": {...}, "modes": {...}?}}, "modes": {mode: {extra backend options}}}``
(an ESP's own "modes" replace the job's).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import django
from django.conf import settings

settings.configure(INSTALLED_APPS=["anymail"], USE_TZ=True)
django.setup()

from django.core.mail import get_connection  # noqa: E402

from anymail.message import AnymailMessage  # noqa: E402


def message(index: int) -> AnymailMessage:
    sent = AnymailMessage(
        subject=f"Your order {index} has shipped",
        body="It is on its way: https://example.com/track/abc",
        from_email="Shop <shop@example.com>",
        to=[f"Customer {index} <customer{index}@example.com>"],
        tags=["shipping"],
        metadata={"order": str(index)},
    )
    sent.attach_alternative("<p>It is on its way.</p>", "text/html")  # Brevo needs html
    return sent


def rate(backend: str, options: dict[str, Any], count: int) -> float:
    connection = get_connection(backend, **options)
    connection.send_messages([message(0)])  # warm up: imports, first connection
    messages = [message(index) for index in range(count)]
    start = time.perf_counter()
    sent = connection.send_messages(messages)
    elapsed = time.perf_counter() - start
    if sent != count:
        raise RuntimeError(f"{backend}: sent {sent} of {count}")
    return count / elapsed


def main() -> None:
    job = json.load(sys.stdin)
    results: dict[str, dict[str, float | str]] = {}
    for esp, spec in job["esps"].items():
        results[esp] = {}
        for mode, extra in spec.get("modes", job["modes"]).items():
            try:
                options = {**spec["options"], **extra}
                results[esp][mode] = rate(spec["backend"], options, job["count"])
            except Exception as err:  # reported in the table: one ESP must not stop the run
                results[esp][mode] = f"{type(err).__name__}: {err}"[:200]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
