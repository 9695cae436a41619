"""Compare this Anymail with the public django-anymail release, on the same work.

    uv run python benchmarks/compare_public.py [--seconds 1.0] [--release 15.2]

Builds a throw-away virtual environment with the public release from PyPI
(and Django 5.2), runs ``_send_scenarios.py`` there and in this project's
environment, and prints microseconds per message for each. HTTP is mocked
with ``responses`` in both, so the figures are each library's own overhead.
Needs PyPI access the first time (uv caches the packages).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "_send_scenarios.py"


#: Subprocess environment: no interpreter downloads, nothing of this checkout importable.
ENV = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "PYTHONPATH": ""}


@contextlib.contextmanager
def public_python(release: str = "") -> Iterator[tuple[str, str]]:
    """(python, version) of a throw-away virtual environment with the public release
    (``release``, or the latest), Django 5.2 and responses, made with uv."""
    if shutil.which("uv") is None:
        sys.exit("Comparing with the public release needs uv on PATH (python3 -m pip install uv).")
    with tempfile.TemporaryDirectory() as venv_dir:
        requirement = f"django-anymail[postmark,sendgrid]{'==' + release if release else ''}"
        subprocess.run(
            ["uv", "venv", "-q", "--python", sys.executable, venv_dir], check=True, env=ENV
        )
        venv_python = str(Path(venv_dir) / "bin" / "python")
        subprocess.run(
            [
                "uv",
                "pip",
                "install",
                "-q",
                "--python",
                venv_python,
                requirement,
                "django>=5.2,<6",
                "responses",
            ],
            check=True,
            env=ENV,
        )
        version = subprocess.run(
            [venv_python, "-c", "import anymail; print(anymail.__version__)"],
            check=True,
            capture_output=True,
            text=True,
            env=ENV,
            cwd=tempfile.gettempdir(),
        ).stdout.strip()
        yield venv_python, version


def run_script(python: str, args: list[str], env: dict[str, str], stdin: str = "") -> Any:
    """Run a benchmark script with ``python``; its result is the JSON of its last output line."""
    output = subprocess.run(
        [python, *args],
        input=stdin,
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),  # so the public run can't import this checkout
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run(python: str, seconds: float, env: dict[str, str]) -> dict[str, float]:
    result: dict[str, float] = run_script(python, [str(SCENARIOS), str(seconds)], env)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--release", default="", help="public version (default: latest)")
    args = parser.parse_args()

    with public_python(args.release) as (venv_python, version):
        public = run(venv_python, args.seconds, ENV)
    ours = run(sys.executable, args.seconds, {**ENV, "PYTHONPATH": str(HERE.parent / "src")})

    print(f"{'scenario':<28} {'this project':>14} {'public ' + version:>16} {'ratio':>7}")
    for scenario, ours_us in ours.items():
        public_us = public.get(scenario)
        ratio = f"{public_us / ours_us:.2f}x" if public_us else "-"
        public_text = f"{public_us:,.0f} µs" if public_us else "-"
        print(f"{scenario:<28} {ours_us:>11,.0f} µs {public_text:>16} {ratio:>7}")
    print("(µs per message, lower is better; ratio > 1 means this project is faster)")


if __name__ == "__main__":
    main()
