"""Hostile variants of a valid webhook payload, for the contract suite.

Each :class:`Mutation` is either a changed JSON tree (a value of another type, a
deleted key, a 1 MB string, deep nesting) or raw bytes (truncated, badly
encoded). ``strict`` mutations must be refused (400); the others may also be
accepted (200) when the field they touch is optional or ignored. None may raise.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.test import Client

from anymail.signals import inbound, tracking
from anymail.testing import WebhookRequest, captured_events

#: At most this many fields of a payload get the per-field mutations (spread evenly).
MAX_FIELDS = 40
#: Deeper than anything accepted (anymail.webhooks._payload.MAX_JSON_DEPTH is 64), and
#: deep enough to overflow a naively recursive parser.
DEEP = 100_000
HUGE_TEXT = "x" * (1024 * 1024)

#: A value of each JSON type, to put where a value of another type belongs.
SWAPS: tuple[Any, ...] = (None, True, 7, 1.5, "text", [], {})

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mutation:
    id: str
    payload: Any  # a JSON tree, or bytes
    strict: bool = False


def _paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    items: Any = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _replaced(payload: Any, path: Path, value: Any) -> Any:
    result = copy.deepcopy(payload)
    parent = result
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return result


def _deleted(payload: Any, path: Path) -> Any:
    result = copy.deepcopy(payload)
    parent = result
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return result


def _get(payload: Any, path: Path) -> Any:
    for key in path:
        payload = payload[key]
    return payload


def _name(path: Path) -> str:
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path) or "."


def _same_type(a: Any, b: Any) -> bool:
    return type(a) is type(b) or (
        isinstance(a, int | float)
        and isinstance(b, int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    )


def deep_json(depth: int = DEEP) -> bytes:
    return b"[" * depth + b"]" * depth


def mutations(payload: Any) -> list[Mutation]:
    found: list[Mutation] = []
    paths = list(_paths(payload))
    step = max(1, len(paths) // MAX_FIELDS)
    for path in paths[::step][:MAX_FIELDS]:
        name = _name(path)
        current = _get(payload, path)
        for swap in SWAPS:
            if not _same_type(swap, current):
                found.append(
                    Mutation(f"swap{name}={json.dumps(swap)}", _replaced(payload, path, swap))
                )
        if isinstance(path[-1], str):
            found.append(Mutation(f"delete{name}", _deleted(payload, path)))
        if isinstance(current, str):
            found.append(Mutation(f"huge{name}", _replaced(payload, path, HUGE_TEXT)))
        if isinstance(current, dict | list):
            found.append(
                Mutation(f"nest{name}", _replaced(payload, path, json.loads(deep_json(200))))
            )
    body = json.dumps(payload).encode("utf-8")
    text = body.decode("utf-8")
    found += [
        Mutation("deep-document", deep_json(), strict=True),
        Mutation("empty", b"", strict=True),
        Mutation("truncated-1", body[:1], strict=True),
        Mutation("truncated-half", body[: len(body) // 2], strict=True),
        Mutation("truncated-last", body[:-1], strict=True),
        Mutation("invalid-utf8", body.replace(b'"', b'"\xff\xfe', 2), strict=True),
        Mutation("utf16", text.encode("utf-16"), strict=True),
        Mutation("latin1-bytes", body.replace(b'"', b'"caf\xe9 ', 2), strict=True),
        Mutation(
            "nan", body[:1] + b'"x": NaN, ' + body[1:] if body[:1] == b"{" else b"NaN", strict=True
        ),
        Mutation("huge-number", b"1" + b"0" * 5000, strict=True),
        Mutation("lone-surrogates", json.dumps(_surrogated(payload)).encode("ascii")),
        Mutation("not-an-object", b'"just text"', strict=True),
        Mutation("top-level-list", json.dumps([payload]).encode("utf-8"), strict=True),
    ]
    return found


def _surrogated(value: Any) -> Any:
    """Every string with a lone surrogate appended (valid JSON, unencodable text)."""
    if isinstance(value, dict):
        return {key: _surrogated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_surrogated(item) for item in value]
    if isinstance(value, str):
        return value + "\ud800"
    return value


def sample(found: list[Mutation], original: Any = None, size: int = 16) -> list[Mutation]:
    """Every strict (body) mutation, and an even spread of the field mutations: ``size``
    in all, where the payloads share most fields (each field kind is mutated somewhere).

    (A byte mutation that left ``original`` as it was, e.g. Mandrill's ``[]`` with no
    quote to break, is no mutation: left out.)
    """
    unchanged = json.dumps(original).encode("utf-8")
    strict = [mutation for mutation in found if mutation.strict and mutation.payload != unchanged]
    fields = [mutation for mutation in found if not mutation.strict]
    step = max(1, len(fields) // max(1, size - len(strict)))
    return fields[::step] + strict


def post_hostile(request: WebhookRequest, url: str, mutation: Mutation) -> int | None:
    """Post a hostile variant: it must be refused (400, nothing dispatched, a one-line
    reason that echoes nothing sent) or, unless strict, accepted. The events dispatched
    when accepted; None when refused."""
    with captured_events(tracking) as tracked, captured_events(inbound) as received:
        # Client() raises any exception the view lets out: none may.
        response = request.post(Client(), url)
    assert response.status_code in ((400,) if mutation.strict else (200, 400)), response.content
    if response.status_code == 400:
        assert tracked == [] and received == []
        reason = response.content.decode()
        assert "\n" not in reason and len(reason) <= 300
        assert "xxxxxxxxxx" not in reason  # nothing the ESP sent is echoed
        return None
    return len(tracked) + len(received)
