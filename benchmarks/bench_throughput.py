"""Messages per second through each HTTP backend, against a local fake ESP.

    uv run python benchmarks/bench_throughput.py [--latency-ms 25] [--count 200]
        [--esp postmark ...] [--concurrency 8] [--public [--release 15.2]] [--smoke]

Starts ``fake_esp.py`` on 127.0.0.1 (in its own process, answering after
``--latency-ms``), then sends ``--count`` messages in one ``send_messages()``
call per ESP and mode, and prints messages/s:

- ``sequential``: ``send_concurrency=1``, one ESP round trip after the other;
- ``concurrent``: ``send_concurrency=--concurrency``;
- ``coalesced``: the ESPs with a batch call for independent messages (Postmark,
  Resend, Mailjet): messages coalesced into batch calls, ``--concurrency`` of them
  in flight (the first two modes turn coalescing off);
- ``public``: the public django-anymail release (with ``--public``: installed
  from PyPI into a throw-away virtual environment, never into this project's).

The ratio columns are concurrent and coalesced / public (or / sequential without
``--public``). ``--smoke`` sends a few messages to two ESPs: it only checks that
the benchmark still works.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))

from compare_public import ENV, public_python, run_script  # noqa: E402

from anymail.cli import configure_django, demo_esps  # noqa: E402

configure_django()

from django.utils.module_loading import import_string  # noqa: E402

from anymail.backends._coalesce import CoalescingBackend  # noqa: E402

#: ESPs called through boto3, not HTTP: not benchmarked here.
NOT_HTTP = frozenset({"amazon_ses", "sendinblue"})  # (sendinblue: Brevo's old name)


@contextmanager
def fake_esp(latency_ms: float) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, str(HERE / "fake_esp.py"), "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
        env={**ENV, "PYTHONPATH": str(SRC)},
    )
    assert process.stdout is not None
    try:
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait()


def esp_specs(base_url: str, esps: list[str]) -> dict[str, dict[str, Any]]:
    """Backend path and options per ESP (the demo's dummy credentials), with the API
    URL moved to the fake ESP: ``<base_url>/<esp><the ESP's own API path>``."""
    demos = demo_esps()
    specs = {}
    for esp in esps:
        demo = demos[esp]
        # (Postal has no metadata: sent without it, in both releases.)
        options = {**demo.options, "ignore_unsupported_features": True}
        real_url = options.get("api_url") or import_string(demo.backend).default_api_url
        options["api_url"] = f"{base_url}/{esp}{urlsplit(real_url).path}"
        coalesces = issubclass(import_string(demo.backend), CoalescingBackend)
        specs[esp] = {"backend": demo.backend, "options": options, "coalesces": coalesces}
    return specs


def run_worker(python: str, job: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = run_script(
        python, [str(HERE / "_throughput_worker.py")], env, stdin=json.dumps(job)
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=25.0)
    parser.add_argument("--count", type=int, default=200, help="messages per ESP and mode")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--esp", action="append", help="only this ESP (repeatable)")
    parser.add_argument("--public", action="store_true", help="also run the public release")
    parser.add_argument("--release", default="", help="public version (default: latest)")
    parser.add_argument("--smoke", action="store_true", help="a few messages, two ESPs")
    args = parser.parse_args()

    all_esps = sorted(set(demo_esps()) - NOT_HTTP)
    esps = args.esp or (["postmark", "sendgrid"] if args.smoke else all_esps)
    count = 4 if args.smoke else args.count
    latency_ms = 0.0 if args.smoke else args.latency_ms
    modes = {
        "sequential": {"send_concurrency": 1, "coalesce_sends": False},
        "concurrent": {"send_concurrency": args.concurrency, "coalesce_sends": False},
        "coalesced": {"send_concurrency": args.concurrency, "coalesce_sends": True},
    }
    with fake_esp(latency_ms) as base_url:
        specs = esp_specs(base_url, esps)
        for spec in specs.values():
            # coalesce_sends is an option of the backends that coalesce only.
            spec["modes"] = {
                mode: {k: v for k, v in extra.items() if spec["coalesces"] or k != "coalesce_sends"}
                for mode, extra in modes.items()
                if spec["coalesces"] or mode != "coalesced"
            }
        job = {"count": count, "esps": specs, "modes": modes}
        results = run_worker(sys.executable, job, {**ENV, "PYTHONPATH": str(SRC)})
        version = ""
        if args.public:
            with public_python(args.release) as (python, version):
                own = {esp: {**spec, "modes": {"public": {}}} for esp, spec in specs.items()}
                public = run_worker(python, {**job, "esps": own}, ENV)
            for esp in esps:
                results[esp].update(public[esp])

    columns = [*modes, *(["public"] if args.public else [])]
    print(
        f"{count} messages per run, fake ESP latency {latency_ms:g} ms, "
        f"concurrency {args.concurrency}" + (f", public release {version}" if version else "")
    )
    ratios = ("concurrent", "coalesced")
    print(
        f"{'ESP':<10}"
        + "".join(f"{c:>12}" for c in columns)
        + "".join(f"{c[:4] + '/' + ('pub' if args.public else 'seq'):>10}" for c in ratios)
    )
    errors = []
    for esp in esps:
        row = results[esp]
        cells = []
        for column in columns:
            value = row.get(column)
            if isinstance(value, float):
                cells.append(f"{value:>10,.0f}/s")
            elif value is None:
                cells.append(f"{'-':>12}")  # a mode this ESP doesn't have
            else:
                cells.append(f"{'error':>12}")
                errors.append(f"{esp} {column}: {value}")
        base = row.get("public" if args.public else "sequential")
        for column in ratios:
            value = row.get(column)
            if isinstance(base, float) and isinstance(value, float):
                cells.append(f"{value / base:>9.1f}x")
            else:
                cells.append(f"{'-':>10}")
        print(f"{esp:<10}" + "".join(cells))
    for error in errors:
        print(error)
    if errors and args.smoke:
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    main()
