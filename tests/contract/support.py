"""What the contract tests share: a registered case with its ESP mocked, and the message."""

from __future__ import annotations

import functools
import re
from typing import Any

import django
import responses
from django.core.mail import get_connection

from anymail.backends.base import Capabilities

from ..utils import make_message as shared_make_message
from .registry import ContractCase

HTML_BODY = "<p>Body html of the message</p>"

#: The contract message: a text and an html body, as most real messages have (some
#: ESPs refuse a text-only message); ``html=None`` for a text-only one.
make_message = functools.partial(
    shared_make_message,
    html=HTML_BODY,
    from_email="Sender <from@example.com>",
    to=["Recipient <to@example.com>"],
)


class Esp:
    """One contract case, with its ESP's answers mocked."""

    def __init__(self, case: ContractCase, mock: responses.RequestsMock) -> None:
        self.case = case
        self.mock = mock

    def connection(self, **kwargs: Any) -> Any:
        return get_connection(self.case.backend, **{**self.case.options, **kwargs})

    @property
    def capabilities(self) -> Capabilities:
        return self.connection().payload_class.capabilities

    @property
    def template_capabilities(self) -> Capabilities | None:
        return self.connection().payload_class.template_capabilities

    def answer(self, answer: Any, url: str | None = None) -> None:
        """Answer requests to ``url`` (default: the case's endpoint) with ``answer``."""
        target = url if url is not None else re.compile(self.case.endpoint or ".*")
        self.mock.add_callback(responses.POST, target, callback=answer)

    def mock_success(self, url: str | None = None) -> None:
        if self.case.accept is not None:
            self.case.accept()
        elif self.case.answer is not None:
            self.answer(self.case.answer, url)

    def mock_error(self) -> tuple[int, str]:
        """Make the ESP answer with the case's error: (status, quoted error text)."""
        assert self.case.error is not None
        status, body, quoted = self.case.error
        if body is not None:
            self.mock_answer(status, body)
        return status, quoted

    def mock_answer(self, status: int, body: Any) -> None:
        """The ESP's next answer at the case's endpoint: ``body`` (JSON, or text as given)."""
        kind = "body" if isinstance(body, str | bytes) else "json"
        target = re.compile(self.case.endpoint or ".*")
        self.mock.add(responses.POST, target, status=status, **{kind: body})

    @property
    def request_count(self) -> int:
        if self.case.count_calls is not None:
            return self.case.count_calls()
        return len(self.mock.calls)

    @property
    def last_request(self) -> Any:
        """The last request sent (None for backends that don't use requests)."""
        return self.mock.calls[-1].request if self.case.uses_requests else None

    def sent_text(self) -> str:
        """Everything sent to the ESP so far, as text."""
        if self.case.sent_text is not None:
            return self.case.sent_text()
        bodies = [call.request.body or b"" for call in self.mock.calls]
        return "\n".join(
            body.decode("utf-8", "replace") if isinstance(body, bytes) else body for body in bodies
        )


def mailer(case: ContractCase, settings: Any, alias: str, options: dict[str, Any]) -> Any:
    """The backend Django 6.1 makes from MAILERS[alias] (get_connection() on older Django)."""
    if django.VERSION < (6, 1):
        return get_connection(case.backend, **options)
    from django.core.mail import mailers

    settings.MAILERS = {
        "default": {"BACKEND": "anymail.backends.test.EmailBackend"},
        alias: {"BACKEND": case.backend, "OPTIONS": options},
    }
    return mailers[alias]
