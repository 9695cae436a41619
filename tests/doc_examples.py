"""Run the code examples of the docs' guide pages, so they cannot rot.

Each page's fenced code blocks run in order, in one namespace per page (like a
doctest session):

- a ``python`` block whose first line is ``# settings.py ...`` is loaded the
  way Django loads a settings module (Django 6.1 refuses one that mixes
  ``EMAIL_BACKEND`` and ``MAILERS``), then applied to the test's settings;
- any other ``python`` block is executed; the ``test_*`` functions (their
  arguments are pytest fixtures) and ``TestCase`` classes it defines are run;
- a ``pycon`` block is a doctest: its output must match.

A block whose first line says ``(Django 6.1)`` runs on Django 6.1 only, one
that says ``(Django 5.2)`` on older Django only. Other languages (``sh``,
``text`` ...) are not run.

Every page starts from the set-up of the guide's quick start: Postmark as the
default backend, with the token the docs show. A settings block that sets
``EMAIL_BACKEND`` or ``MAILERS`` replaces that set-up (``ANYMAIL`` included).
HTTP goes to the small ESP emulators below (through ``responses``), which
answer as the real APIs do for the documented token, unknown tokens, inactive
recipients and unknown templates. Nothing else is reachable. Pages run in a
temporary directory that holds a ``logo.png``, the image file the examples
attach.
"""

from __future__ import annotations

import doctest
import io
import json
import re
import sys
import textwrap
import types
import unittest
import uuid
from base64 import b64decode
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import django
import pytest
import responses
from django.conf import Settings
from django.core import mail

from .utils import PNG

DOCS = Path(__file__).resolve().parent.parent / "docs"

#: The credentials the docs' examples use; anything else is refused as the ESP would.
POSTMARK_SERVER_TOKEN = "<your-server-token>"
MAILGUN_API_KEY = "<your-mailgun-api-key>"
DEFAULT_FROM_EMAIL = "You <you@example.com>"

#: Addresses the emulated ESP has marked inactive (they hard-bounced before).
INACTIVE = frozenset({"former.customer@example.com", "bounced@example.net"})
#: The stored templates the emulated Postmark account has (by alias).
POSTMARK_TEMPLATES = frozenset({"welcome", "order-shipped"})

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]+)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_RUN_LANGUAGES = frozenset({"python", "pycon"})


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the block's first line of code, 1-based
    language: str
    code: str

    @property
    def title(self) -> str:
        return self.code.split("\n", 1)[0]

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"

    def runs_on_this_django(self) -> bool:
        if "(Django 6.1)" in self.title:
            return django.VERSION >= (6, 1)
        if "(Django 5.2)" in self.title:
            return django.VERSION < (6, 1)
        return True


def code_blocks(page: str, docs: Path = DOCS) -> list[Block]:
    """The page's python and pycon blocks, in order."""
    text = (docs / page).read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        if match["lang"] not in _RUN_LANGUAGES:
            continue
        line = text.count("\n", 0, match.start("body")) + 1
        code = textwrap.dedent(match["body"])
        blocks.append(Block(page, line, match["lang"], code))
    return blocks


# --- the emulated ESPs ---------------------------------------------------------------


class PostmarkEmulator:
    """Answers Postmark's four send endpoints like Postmark does (the cases the docs use)."""

    API = "https://api.postmarkapp.com/"
    ENDPOINTS = ("email", "email/batch", "email/withTemplate", "email/batchWithTemplates")

    def __init__(self) -> None:
        self.sent = 0

    def register(self, mock: responses.RequestsMock) -> None:
        for endpoint in self.ENDPOINTS:
            mock.add_callback(responses.POST, self.API + endpoint, callback=self.answer)

    def answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        if request.headers.get("X-Postmark-Server-Token") != POSTMARK_SERVER_TOKEN:
            return self.reply(
                401,
                {
                    "ErrorCode": 10,
                    "Message": "The Server Token you provided in the X-Postmark-Server-Token "
                    "request header was invalid. Please verify that you are using a valid token.",
                },
            )
        data = json.loads(request.body)
        endpoint = request.url[len(self.API) :]
        if endpoint == "email/batchWithTemplates":
            return self.reply(200, [self.result(item) for item in data["Messages"]])
        if endpoint == "email/batch":
            return self.reply(200, [self.result(item) for item in data])
        result = self.result(data)
        return self.reply(422 if result["ErrorCode"] else 200, result)

    def result(self, message: dict[str, Any]) -> dict[str, Any]:
        alias = message.get("TemplateAlias")
        if alias is not None and alias not in POSTMARK_TEMPLATES:
            return {
                "ErrorCode": 1101,
                "Message": "The Template's 'Alias' associated with this request is not "
                "valid or was not found.",
            }
        recipients = [
            address
            for field in ("To", "Cc", "Bcc")
            for _name, address in getaddresses([message.get(field) or ""])
            if address
        ]
        inactive = [address for address in recipients if address.lower() in INACTIVE]
        note = (
            ". Inactive recipients are ones that have generated a hard bounce, a spam "
            "complaint, or a manual suppression."
        )
        if inactive and len(inactive) == len(recipients):
            return {
                "ErrorCode": 406,
                "Message": "You tried to send to recipient(s) that have been marked as "
                f"inactive. Found inactive addresses: {', '.join(inactive)}{note}",
            }
        self.sent += 1
        text = "OK"
        if inactive:
            text = (
                "Message OK, but will not deliver to these inactive addresses: "
                f"{', '.join(inactive)}{note}"
            )
        result = {
            "ErrorCode": 0,
            "Message": text,
            "MessageID": str(uuid.UUID(int=self.sent, version=4)),
            "SubmittedAt": "2026-12-01T09:30:00.0000000Z",
        }
        if message.get("To"):
            result["To"] = message["To"]
        return result

    @staticmethod
    def reply(status: int, body: Any) -> tuple[int, dict[str, str], str]:
        return status, {"Content-Type": "application/json"}, json.dumps(body)


class MailgunEmulator:
    """Answers Mailgun's messages endpoint: every accepted message is queued."""

    URL = re.compile(r"^https://api\.mailgun\.net/v3/([^/]+)/messages$")

    def __init__(self) -> None:
        self.sent = 0

    def register(self, mock: responses.RequestsMock) -> None:
        mock.add_callback(responses.POST, self.URL, callback=self.answer)

    def answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Basic" or b64decode(credentials) != f"api:{MAILGUN_API_KEY}".encode():
            return 401, {"Content-Type": "text/plain"}, "Forbidden"
        domain = self.URL.match(request.url)[1]
        self.sent += 1
        message_id = f"<20261201093000.{self.sent}.DOCS@{domain}>"
        body = {"id": message_id, "message": "Queued. Thank you."}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)


# --- running a page ----------------------------------------------------------------------


def base_settings() -> dict[str, Any]:
    """The quick start's set-up: Postmark as the default backend."""
    backend = "anymail.backends.postmark.EmailBackend"
    values: dict[str, Any] = {
        "ANYMAIL": {"POSTMARK_SERVER_TOKEN": POSTMARK_SERVER_TOKEN},
        "DEFAULT_FROM_EMAIL": DEFAULT_FROM_EMAIL,
    }
    if django.VERSION >= (6, 1):
        values["MAILERS"] = {"default": {"BACKEND": backend}}
    else:
        values["EMAIL_BACKEND"] = backend
    return values


def emulated_esps() -> responses.RequestsMock:
    """A ``responses`` mock answering as the ESPs do (to be used as a context manager)."""
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    PostmarkEmulator().register(mock)
    MailgunEmulator().register(mock)
    return mock


@dataclass
class PageRunner:
    """Runs the blocks of ``page`` (a path below ``docs``) with a test's fixtures."""

    page: str
    request: pytest.FixtureRequest
    settings: Any
    monkeypatch: pytest.MonkeyPatch
    docs: Path = DOCS
    namespace: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.namespace = {"__name__": f"docs_{Path(self.page).stem}"}

    def run(self) -> None:
        """Run every block of the page (for this Django line), in order."""
        for block in code_blocks(self.page, self.docs):
            if not block.runs_on_this_django():
                continue
            if block.language == "pycon":
                self.run_doctest(block)
            elif block.title.startswith("# settings.py"):
                self.load_settings(block)
            else:
                self.run_python(block)

    def compiled(self, block: Block) -> Any:
        # Padded, so that tracebacks point at the line in the page.
        return compile("\n" * (block.line - 1) + block.code, str(self.docs / block.page), "exec")

    def load_settings(self, block: Block) -> None:
        module = types.ModuleType(f"docs_settings_{block.line}")
        exec(self.compiled(block), module.__dict__)  # noqa: S102
        names = {name: value for name, value in vars(module).items() if name.isupper()}
        # (Loading sets the process's time zone from TIME_ZONE: keep the tests' own.)
        module.TIME_ZONE = self.settings.TIME_ZONE
        self.monkeypatch.setitem(sys.modules, module.__name__, module)
        Settings(module.__name__)  # Django's own checks of a settings module

        apps = names.pop("INSTALLED_APPS", None)
        if apps is not None:
            # "..." is the project's own apps; the tests' settings install Anymail already.
            assert "anymail" in apps, f"{block.where}: INSTALLED_APPS without anymail"
        if {"EMAIL_BACKEND", "MAILERS"} & names.keys():
            # A new email set-up: nothing of the page's earlier one is left over
            # (Django 6.1 refuses EMAIL_BACKEND beside MAILERS anyway).
            for name in ("EMAIL_BACKEND", "MAILERS", "ANYMAIL"):
                if name not in names and hasattr(self.settings, name):
                    delattr(self.settings, name)
        for name, value in names.items():
            setattr(self.settings, name, value)

    def run_python(self, block: Block) -> None:
        before = set(self.namespace)
        exec(self.compiled(block), self.namespace)  # noqa: S102
        for name in sorted(set(self.namespace) - before):
            value = self.namespace[name]
            if getattr(value, "__module__", None) != self.namespace["__name__"]:
                continue  # imported (TestCase itself ...), not defined by the example
            if name.startswith("test_") and isinstance(value, types.FunctionType):
                self.run_test_function(block, value)
            elif isinstance(value, type) and issubclass(value, unittest.TestCase):
                self.run_test_case(block, value)

    def run_test_function(self, block: Block, function: types.FunctionType) -> None:
        code = function.__code__
        names = code.co_varnames[: code.co_argcount]
        arguments = {name: self.request.getfixturevalue(name) for name in names}
        # Each example test starts with an empty outbox, as each pytest test does
        # (pytest-django's mailoutbox is fixed once per test: give the current one).
        mail.outbox = []
        if "mailoutbox" in arguments:
            arguments["mailoutbox"] = mail.outbox
        function(**arguments)

    def run_test_case(self, block: Block, case: type[unittest.TestCase]) -> None:
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
        assert suite.countTestCases(), f"{block.where}: {case.__name__} has no tests"
        stream = io.StringIO()
        result = unittest.TextTestRunner(stream=stream, verbosity=2).run(suite)
        assert result.wasSuccessful(), f"{block.where}: {case.__name__}\n{stream.getvalue()}"

    def run_doctest(self, block: Block) -> None:
        parser = doctest.DocTestParser()
        test = parser.get_doctest(
            block.code, self.namespace, block.where, str(self.docs / block.page), block.line - 1
        )
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        output = io.StringIO()
        runner.run(test, out=output.write, clear_globs=False)
        assert not runner.failures, output.getvalue()
        self.namespace.update(test.globs)  # (the DocTest ran in a copy)


def logo_file(directory: Path) -> Path:
    path = directory / "logo.png"
    path.write_bytes(PNG)
    return path
