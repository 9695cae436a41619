"""Wire helpers for the coalescing and splitting tests: ESP answers shaped by the
request (the demo's canned answers), and the ESPs' request schemas."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import responses
from django.core.mail import get_connection

from anymail._demo.esps import DEMO_ESPS
from anymail.message import AnymailMessage

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@cache
def request_schema(esp: str, path: str) -> Any:
    """A validator for the ESP's documented request body at ``path`` (see the file's
    "source"): extracted from the ESP's published schema, references inlined."""
    schema = json.loads((FIXTURES / esp / "schema_requests.json").read_text())["requests"][path]
    validator_class = jsonschema.validators.validator_for(schema, jsonschema.Draft202012Validator)
    return validator_class(schema)


def assert_valid_request(esp: str, path: str, body: Any, allow: str | None = None) -> None:
    """``allow``: an error message where the schema disagrees with the fact sheet."""
    errors = [e for e in request_schema(esp, path).iter_errors(body) if e.message != allow]
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def answer_like(esp: str) -> Any:
    """A ``responses`` callback answering as the ESP does, one result per message sent."""
    answer = DEMO_ESPS[esp].answer

    def callback(request: Any) -> tuple[int, dict[str, str], str | bytes]:
        return answer(request)

    return callback


def connection(esp: str, **options: Any) -> Any:
    return get_connection(DEMO_ESPS[esp].backend, **{**DEMO_ESPS[esp].options, **options})


def message(index: int = 0, **kwargs: Any) -> AnymailMessage:
    kwargs.setdefault("to", [f"Customer {index} <customer{index}@example.com>"])
    return AnymailMessage(
        subject=f"Order {index}",
        body=f"Your order {index} has shipped.",
        from_email="shop@example.com",
        **kwargs,
    )


def bodies(mock: responses.RequestsMock) -> list[Any]:
    return [json.loads(call.request.body) for call in mock.calls]
