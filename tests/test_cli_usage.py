"""The ``anymail`` command's help, version and error output (anymail.cli)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from anymail import __version__
from anymail.cli import demo_esps, main

#: reST markup that must not reach a terminal.
RST_MARKUP = ("``", ":class:", ":exc:", ":func:", ":data:", ":meth:")


def help_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def test_help_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(["--help"], capsys)
    assert text.startswith("usage: anymail [-h] [--version] COMMAND ...\n")
    assert "Anymail: Django email backends and webhooks" in text
    assert "demo" in text
    assert not [markup for markup in RST_MARKUP if markup in text]


def test_demo_help_lists_the_esp_names(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(["demo", "--help"], capsys)
    assert not [markup for markup in RST_MARKUP if markup in text]
    flat = " ".join(text.split())  # argparse wraps lines
    names = sorted(demo_esps())
    assert "amazon_ses" in names and "postmark" in names
    assert f"NAME is one of: {', '.join(names)}." in flat


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert help_text(["--version"], capsys) == f"django-anymail {__version__}\n"


def test_installed_command_reports_its_version() -> None:
    # The console script the package installs (pyproject's [project.scripts]).
    script = Path(sys.executable).with_name("anymail")
    result = subprocess.run(  # noqa: S603 (our own script)
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout) == (0, f"django-anymail {__version__}\n")


def test_missing_extra_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if boto3 weren't installed: the backend module is imported afresh and fails.
    monkeypatch.setitem(sys.modules, "boto3", None)
    monkeypatch.delitem(sys.modules, "anymail.backends.amazon_ses", raising=False)
    assert main(["demo", "--offline", "--esp", "amazon-ses"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "anymail demo: The boto3 package is required to use this ESP, but isn't installed. "
        "(Be sure to use `pip install 'django-anymail[amazon-ses]'` with your desired ESPs.)\n"
    )


def test_configuration_error_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from anymail import cli
    from anymail.exceptions import AnymailImproperlyConfigured

    def misconfigured(out: object) -> int:
        raise AnymailImproperlyConfigured("Invalid Anymail setting SEND_DEFAULTS: expected a dict.")

    monkeypatch.setattr(cli, "run_console_demo", misconfigured)
    assert main(["demo", "--offline"]) == 1
    assert capsys.readouterr().err == (
        "anymail demo: Invalid Anymail setting SEND_DEFAULTS: expected a dict.\n"
    )


def test_open_needs_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--offline", "--open"]) == 2
    assert capsys.readouterr().err == "anymail demo: --open needs the sandbox: drop --offline.\n"


def test_demo_esps_are_the_sandboxs() -> None:
    # `anymail demo --esp NAME` takes the same names with or without --offline.
    from anymail.sandbox import EMULATORS

    assert sorted(EMULATORS) == sorted(demo_esps())
