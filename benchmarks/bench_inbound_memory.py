"""Peak memory of receiving a large inbound message, as a multiple of its size.

    uv run python benchmarks/bench_inbound_memory.py [--mb 25]

Builds a message of about 25 MB as a mail client sends it (text and HTML
bodies, an inline image, four base64 attachments), then, each in a fresh
process, parses it and uses it the way a receiver would: every normalized
attribute, and every attachment saved through ``as_uploaded_file()``. It
prints the peak of Python's allocations (tracemalloc), *including the raw
message where it is held in memory*, divided by the message size (target:
below 3x). The standard library's own parser, decoding the attachments with
``get_payload(decode=True)``, is shown for comparison. Bodies above Django's
FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) go to temporary files.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

SCENARIOS = {
    "stdlib": "email.parser.BytesParser().parsebytes(raw) + get_payload(decode=True)",
    "bytes": "AnymailInboundMessage.parse_raw_mime_bytes(raw)",
    "text": "AnymailInboundMessage.parse_raw_mime(raw as str, e.g. from JSON)",
    "file": "AnymailInboundMessage.parse_raw_mime_file(open(path, 'rb'))",
}


def build_message(megabytes: float) -> bytes:
    """A multipart/mixed message of about ``megabytes`` MB (random, incompressible content)."""
    rng = random.Random(25)
    content = int(megabytes * 1_000_000 * 0.74)  # base64 adds a third, headers a little
    msg = EmailMessage()
    msg["From"] = "Ana García <ana@example.com>"
    msg["To"] = "Inbound <inbound@example.com>"
    msg["Subject"] = "Quarterly report, with attachments"
    msg.set_content("Hi,\n\nthe report and the data are attached.\n\nAna\n")
    msg.add_alternative('<p>Hi,</p><p>the report is attached.</p><img src="cid:logo@example">')
    html = msg.get_payload()[1]
    html.add_related(rng.randbytes(content // 20), "image", "png", cid="<logo@example>")
    for share, filename in ((0.55, "report.pdf"), (0.25, "data.zip"), (0.1, "photo.jpg")):
        maintype, subtype = ("application", filename.rsplit(".", 1)[1])
        msg.add_attachment(
            rng.randbytes(int(content * share)), maintype, subtype, filename=filename
        )
    msg.add_attachment(rng.randbytes(content // 20), "application", "octet-stream", filename="x")
    return msg.as_bytes()


def receive(message: Any) -> int:
    """Use the message like a receiver: every attribute, every attachment saved in chunks."""
    _ = (message.from_email, message.to, message.cc, message.subject, message.date)
    _ = (message.text, message.html, message.content_id_map)
    saved = 0
    for attachment in message.attachments + message.inlines:
        uploaded = attachment.as_uploaded_file()
        for chunk in uploaded.chunks():
            saved += len(chunk)
        uploaded.close()
    return saved


def child(scenario: str, path: str) -> None:
    from anymail.cli import configure_django

    configure_django()
    from anymail.inbound import AnymailInboundMessage

    size = Path(path).stat().st_size
    source: Any = None
    if scenario in ("stdlib", "bytes"):
        source = Path(path).read_bytes()
    elif scenario == "text":
        source = Path(path).read_bytes().decode("utf-8", "surrogateescape")
    held = sys.getsizeof(source) if source is not None else 0

    def stdlib() -> int:
        from email.parser import BytesParser

        message = BytesParser().parsebytes(source)
        return sum(
            len(part.get_payload(decode=True) or b"")
            for part in message.walk()
            if part.get_filename() or part.get("Content-ID")
        )

    runs: dict[str, Callable[[], int]] = {
        "stdlib": stdlib,
        "bytes": lambda: receive(AnymailInboundMessage.parse_raw_mime_bytes(source)),
        "text": lambda: receive(AnymailInboundMessage.parse_raw_mime(source)),
        "file": lambda: receive(AnymailInboundMessage.parse_raw_mime_file(open(path, "rb"))),  # noqa: SIM115
    }
    tracemalloc.start()
    start = time.perf_counter()
    saved = runs[scenario]()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{(held + peak) / size:.2f} {seconds:.2f} {saved}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=25.0, help="message size (default 25)")
    parser.add_argument("--child", nargs=2, metavar=("SCENARIO", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    with tempfile.NamedTemporaryFile(suffix=".eml") as file:
        file.write(build_message(args.mb))
        file.flush()
        size = Path(file.name).stat().st_size
        print(f"Message: {size / 1e6:.1f} MB. Peak memory as a multiple of the message size:")
        print(f"{'':72} {'memory':>7} {'time':>6}")
        for scenario, description in SCENARIOS.items():
            result = subprocess.run(
                [sys.executable, __file__, "--child", scenario, file.name],
                check=True,
                capture_output=True,
                text=True,
            )
            memory, seconds, _ = result.stdout.split()
            print(f"{description:72} {memory:>6}x {seconds:>5}s")


if __name__ == "__main__":
    main()
