"""The ``anymail`` command in a process of its own, as users run it: this checkout's
package, without the tests' Django settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-u", "-m", "anymail.cli"]
CLI_ENV = {
    **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    "PYTHONPATH": str(ROOT / "src"),
}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own command)
        [*CLI, *args], capture_output=True, text=True, env=CLI_ENV, cwd=ROOT, timeout=120
    )


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 (our own command)
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=CLI_ENV,
        cwd=ROOT,
    )


def first_answer(url: str) -> requests.Response:
    """The answer to a GET of ``url`` once the server just started there listens."""
    for _ in range(150):
        try:
            # A slow first answer is no failure: the new process may still be making
            # its key pairs (seconds, on a busy machine).
            return requests.get(url, timeout=(2, 60))
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail(f"Nothing answered at {url}.")
