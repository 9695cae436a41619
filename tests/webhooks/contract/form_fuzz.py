"""Hostile variants of a form post (a list of (name, value) fields), for form-posting ESPs.

Field mutations keep the post well signed (the builder signs whatever fields it
gets), so they reach the parser: a field missing, empty, 1 MB long, not UTF-8,
with control characters, repeated, or holding broken JSON or numbers. Body
mutations (bytes: truncated, empty, garbage) are refused.
"""

from __future__ import annotations

from typing import Any

from .fuzz import DEEP, HUGE_TEXT, Mutation

#: Values put in place of a field's own.
REPLACEMENTS: tuple[tuple[str, str | bytes], ...] = (
    ("empty", ""),
    ("huge", HUGE_TEXT),
    ("invalid-utf8", b"\xff\xfe\xc3("),
    ("controls", "\x00\r\n\t\x7f"),
    ("broken-json", '{"a": [1,'),
    ("deep-json", "[" * DEEP),
    ("json-object", '{"a": {"b": null}}'),
    ("json-list", '[["a", 1], [null], 7]'),
    ("negative", "-1"),
    ("overflow", "9" * 400),
    ("float", "1e999"),
)


def form_mutations(
    fields: list[tuple[str, Any]], skip: frozenset[str] = frozenset()
) -> list[Mutation]:
    """The mutations of ``fields``; ``skip`` names fields to leave alone (the builder's own)."""
    found: list[Mutation] = []
    names = list(dict.fromkeys(name for name, _ in fields if name not in skip))
    for name in names:
        found.append(Mutation(f"delete.{name}", [(n, v) for n, v in fields if n != name]))
        found.append(Mutation(f"repeat.{name}", [*fields, (name, "another value")]))
        for label, value in REPLACEMENTS:
            found.append(
                Mutation(f"{label}.{name}", [(n, value if n == name else v) for n, v in fields])
            )
    found += [
        Mutation("unknown-fields", [*fields, *((f"x-{i}", "y") for i in range(200))]),
        Mutation("body-empty", b"", strict=True),
        Mutation("body-garbage", b"%ZZ&&==&\xff\xfe=%", strict=True),
        Mutation("body-not-a-form", b'{"json": "instead"}', strict=True),
    ]
    return found
