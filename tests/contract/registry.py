"""The backends the contract suite runs against.

Every module in ``tests/contract/cases/`` defines ``CASE``, a
:class:`ContractCase` that says how to build that backend with dummy settings
and how its ESP answers (registered on a ``responses.RequestsMock``). Adding a
backend to the suite means adding one such module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import responses

from . import cases

#: Registers an answer on the RequestsMock.
Mocker = Callable[[responses.RequestsMock], None]


@dataclass(frozen=True)
class ContractCase:
    id: str  # the ESP slug, e.g. "postmark"
    backend: str  # dotted path of the EmailBackend
    esp_name: str  # the backend's esp_name, e.g. "Postmark"
    options: dict[str, Any] = field(default_factory=dict)  # backend kwargs (dummy credentials)
    uses_requests: bool = True
    # A typical success answer for any message.
    mock_success: Mocker | None = None
    # An error answer. The tuple: the HTTP status and a piece of the ESP's error
    # text that the AnymailAPIError message must quote.
    mock_error: Callable[[responses.RequestsMock], tuple[int, str]] | None = None
    # An answer in which every recipient is refused, for ESPs that say so at send time.
    mock_all_rejected: Mocker | None = None
    # For backends that don't use requests: a context manager entered around each
    # test (e.g. an AWS emulator), and a function counting the API calls made.
    context: Callable[[], AbstractContextManager[Any]] | None = None
    count_calls: Callable[[], int] | None = None
    # Supported features the mocked ESP can't answer (e.g. an emulator lacking an API).
    features_not_mocked: frozenset[str] = frozenset()
    # For HTTP backends that don't use requests: the (connect, read) timeouts the
    # connection's API client uses (to check the `timeout` option reaches it).
    client_timeouts: Callable[[Any], tuple[Any, Any]] | None = None
    # For backends that don't use requests: everything sent so far, as text (for
    # requests backends the suite reads the recorded request bodies).
    sent_text: Callable[[], str] | None = None
    # The ESP refuses a message without an html body (unless it uses a template).
    requires_html_body: bool = False


def load_cases() -> list[ContractCase]:
    found = []
    for info in pkgutil.iter_modules(cases.__path__):
        module = importlib.import_module(f"{cases.__name__}.{info.name}")
        found.append(module.CASE)
    return sorted(found, key=lambda case: case.id)


CASES = load_cases()
