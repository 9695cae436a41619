"""Helpers shared by Anymail's tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import django
import pytest
import responses

#: A real 1x1 PNG image.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4c0000000"
    "0049454e44ae426082"
)

#: Marks tests of Django 6.1's MAILERS setting (skipped on older Django).
requires_mailers = pytest.mark.skipif(
    django.VERSION < (6, 1), reason="MAILERS is new in Django 6.1"
)


def request_json(call: responses.Call) -> Any:
    """The JSON body of a request recorded by ``responses``."""
    body = call.request.body
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


def only_request(mocked: responses.RequestsMock) -> Any:
    """The one request sent (fails if there were none or several)."""
    assert len(mocked.calls) == 1, f"expected one request, got {len(mocked.calls)}"
    return mocked.calls[0].request


def only_request_json(mocked: responses.RequestsMock) -> Any:
    """The JSON body of the one request sent."""
    only_request(mocked)
    return request_json(mocked.calls[0])


def make_message(**kwargs: Any) -> Any:
    """An AnymailMessage with a subject, a text body, a sender and one recipient.

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
    return AnymailMessage(**params)


FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


def fixture_json(esp: str, name: str) -> Any:
    """A JSON fixture from tests/fixtures/<esp>/ (copied from the ESP fact sheets)."""
    return json.loads((FIXTURES_DIR / esp / name).read_text(encoding="utf-8"))
