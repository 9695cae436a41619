"""Helpers shared by Anymail's tests."""

from __future__ import annotations

import builtins
import importlib
import json
import pkgutil
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import django
import pytest
import responses

from anymail.cli import DEMO_PNG

#: The repository's root.
ROOT = Path(__file__).resolve().parent.parent

#: The sample image (a real 1x1 PNG): the demo's.
PNG = DEMO_PNG

#: Marks tests of Django 6.1's MAILERS setting (skipped on older Django).
requires_mailers = pytest.mark.skipif(
    django.VERSION < (6, 1), reason="MAILERS is new in Django 6.1"
)


def modules_in(package: ModuleType) -> list[ModuleType]:
    """Every module of ``package`` (e.g. a contract suite's cases/), imported."""
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
    ]


def request_json(call: Any) -> Any:
    """The JSON body of a request (or of a call recorded by ``responses``)."""
    body = getattr(call, "request", call).body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return json.loads(body)


def use_anymail_test_backend(settings: Any) -> None:
    """Make Django's default mailer Anymail's test backend.

    (Django's test set-up replaces the settings' backend with locmem.)
    """
    if django.VERSION >= (6, 1):
        settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    else:
        settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@contextmanager
def connected(signal: Any, *receivers: Callable[..., Any]) -> Iterator[None]:
    """The ``receivers`` connected to ``signal`` while the block runs (then disconnected,
    also when it raises)."""
    for receiver in receivers:
        signal.connect(receiver, weak=False)
    try:
        yield
    finally:
        for receiver in receivers:
            signal.disconnect(receiver)


@contextmanager
def recorded_sends() -> Iterator[list[tuple[str, str, int]]]:
    """(signal, subject, thread id) for every pre_send and post_send while the block
    runs, in order."""
    from anymail.signals import post_send, pre_send

    recorded: list[tuple[str, str, int]] = []

    def on_pre_send(sender: Any, message: Any, **kwargs: Any) -> None:
        recorded.append(("pre_send", message.subject, threading.get_ident()))

    def on_post_send(sender: Any, message: Any, status: Any, **kwargs: Any) -> None:
        recorded.append(("post_send", message.subject, threading.get_ident()))

    with connected(pre_send, on_pre_send), connected(post_send, on_post_send):
        yield recorded


def without_boto3(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Until the test ends, importing boto3 or botocore fails, as in a project without
    them; ``modules`` (dotted names) are forgotten, so that they are imported afresh."""
    real_import = builtins.__import__

    def no_boto(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "boto3" or name.startswith(("boto3.", "botocore")):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for module in modules:
        monkeypatch.delitem(sys.modules, module, raising=False)
        package, _, name = module.rpartition(".")
        monkeypatch.delattr(sys.modules[package], name, raising=False)
    monkeypatch.setattr(builtins, "__import__", no_boto)


def add_response(
    mocked: responses.RequestsMock,
    url: Any,
    body: Any = None,
    status: int = 200,
    method: str = responses.POST,
    **kwargs: Any,
) -> None:
    """Register an ESP answer: ``body`` is JSON, or raw text / an exception as given."""
    if body is None or isinstance(body, str | bytes | Exception):
        mocked.add(method, url, body=body if body is not None else "", status=status, **kwargs)
    else:
        mocked.add(method, url, json=body, status=status, **kwargs)


def assert_missing_setting(text: str, setting: str, option: str, bare_setting: bool = True) -> None:
    """``text`` is the error for a missing required ``setting``: it names the setting,
    and every place to set it (the bare setting only if it is read)."""
    assert text.startswith(f"Missing required Anymail setting {setting}. ")
    assert f'ANYMAIL = {{"{setting}": ...}}' in text
    assert f"ANYMAIL_{setting}" in text
    assert (f"ANYMAIL_{setting} or {setting}," in text) == bare_setting
    assert f"pass {option}=... to the email backend" in text


def only_request(mocked: responses.RequestsMock) -> Any:
    """The one request sent (fails if there were none or several)."""
    assert len(mocked.calls) == 1, f"expected one request, got {len(mocked.calls)}"
    return mocked.calls[0].request


def only_request_json(mocked: responses.RequestsMock) -> Any:
    """The JSON body of the one request sent."""
    only_request(mocked)
    return request_json(mocked.calls[0])


def make_message(html: str | None = None, **kwargs: Any) -> Any:
    """An AnymailMessage with a subject, a text body, a sender and one recipient, and
    (given ``html``) an html alternative. Other keywords are AnymailMessage's.

    The subject and body are long enough for ESPs with a minimum content length.
    """
    from anymail.message import AnymailMessage

    params: dict[str, Any] = {
        "subject": "Subject line",
        "body": "Body text of the message",
        "from_email": "from@example.com",
        "to": ["to@example.com"],
    }
    params.update(kwargs)
    message = AnymailMessage(**params)
    if html is not None:
        message.attach_alternative(html, "text/html")
    return message


FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


def fixture_text(esp: str, name: str) -> str:
    """A fixture from tests/fixtures/<esp>/ (copied from the ESP fact sheets), as text."""
    return (FIXTURES_DIR / esp / name).read_text(encoding="utf-8")


def fixture_json(esp: str, name: str) -> Any:
    """A JSON fixture from tests/fixtures/<esp>/ (copied from the ESP fact sheets)."""
    return json.loads(fixture_text(esp, name))


def form_parts(call: Any) -> list[tuple[Any, ...]]:
    """A multipart request's body (or a recorded call's), in order: (name, value) for
    fields, (name, filename, type, bytes) for files. Fails if the request isn't
    multipart/form-data or a part has unexpected headers."""
    request = getattr(call, "request", call)
    content_type = request.headers["Content-Type"]
    match = re.fullmatch(r"multipart/form-data; boundary=(\S+)", content_type)
    assert match, content_type
    delimiter = b"--" + match.group(1).encode("ascii")
    body = request.body
    assert isinstance(body, bytes)
    chunks = body.split(delimiter)
    assert chunks[0] == b"" and chunks[-1] == b"--\r\n"
    parts: list[tuple[Any, ...]] = []
    for chunk in chunks[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, content = chunk[2:-2].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode("utf-8").split("\r\n"))
        disposition = re.fullmatch(
            r'form-data; name="([^"]*)"(?:; filename="([^"]*)")?',
            headers.pop("Content-Disposition"),
        )
        assert disposition
        name, filename = disposition.groups()
        part_type = headers.pop("Content-Type", None)
        assert not headers, headers
        if filename is None and part_type is None:
            parts.append((name, content.decode("utf-8")))
        else:
            parts.append((name, filename, part_type, content))
    return parts


def form_fields(call: Any) -> list[tuple[str, str]]:
    return [part for part in form_parts(call) if len(part) == 2]  # type: ignore[misc]


def run_python(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python *args`` (this interpreter, in the repository's root, with ``env`` or this
    process's environment), its output captured as text."""
    return subprocess.run(  # noqa: S603 (our own scripts and commands)
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_django_script(script: str) -> str:
    """Run ``script`` in a fresh Python (the test settings, no pytest, an empty PATH);
    assert that it succeeds and return what it printed."""
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT), "PATH": ""}
    result = run_python("-c", script, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout
