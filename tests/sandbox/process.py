"""``anymail sandbox`` run in another process, as a developer would run it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def running_sandbox(port: int, *options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start ``anymail sandbox --port PORT OPTIONS...``; yield its URL once it answers.

    The process is stopped when the block ends; its output can be read after that.
    """
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT / "src")
    command = [sys.executable, "-m", "anymail.cli", "sandbox", "--port", str(port), *options]
    process = subprocess.Popen(  # noqa: S603 (our own command)
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        # A deadline, not a count of tries: on a busy machine the new process may take
        # a while to import, and its first answer longer than one try's timeout.
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url, timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("anymail sandbox did not answer")
                time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)
