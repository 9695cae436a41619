"""How SendGrid takes values: merge fields, and fields that hold only strings.

A dynamic template ('d-...' template_id) takes merge data as any JSON, under
the keys as given (``dynamic_template_data``); legacy and on-the-fly templates
take string ``substitutions``, whose field names the MERGE_FIELD_FORMAT pattern
(e.g. "-{}-") delimits. ``custom_args`` and personalization ``headers`` are
strings only too. The backend (``sendgrid.py``) builds the request with these.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any

from ..exceptions import AnymailSerializationError, AnymailWarning


def merge_fields(
    params: Mapping[str, Any],
    recipient_data: dict[str, Any],
    addr_spec: str,
    is_dynamic: bool,
    merge_field_format: str | None,
) -> dict[str, Any]:
    """merge_global_data overlaid with one recipient's merge_data, in SendGrid's form."""
    merged = {**params.get("merge_global_data", {}), **recipient_data}
    if not merged:
        return {}
    if is_dynamic:
        # Handlebars templates take any JSON values, under the keys as given.
        return {"dynamic_template_data": merged}
    substitutions = {}
    for key, value in merged.items():
        where = (
            f"merge_data[{addr_spec!r}][{key!r}]"
            if key in recipient_data
            else f"merge_global_data[{key!r}]"
        )
        field = merge_field_format.format(key) if merge_field_format else key
        substitutions[field] = _substitution_value(value, where)
    return {"substitutions": substitutions}


def warn_if_undelimited(params: Mapping[str, Any]) -> None:
    """Warn when no legacy merge field name has delimiters (and no format adds them)."""
    keys = set(params.get("merge_global_data", {}))
    for values in params.get("merge_data", {}).values():
        keys.update(values)
    if keys and all(re.fullmatch(r"\w+", str(key)) for key in keys):
        warnings.warn(
            "SendGrid legacy (or on-the-fly) template merge fields don't seem to have "
            f"delimiters ({', '.join(sorted(map(str, keys)))}). Set "
            "SENDGRID_MERGE_FIELD_FORMAT or esp_extra['merge_field_format'] to e.g. "
            "\"-{}-\". (Dynamic templates, with a 'd-...' template_id, need no format.)",
            AnymailWarning,
            stacklevel=2,  # (the line of sendgrid.py that builds the personalizations)
        )


def merge_field_format_problem(merge_field_format: Any) -> str | None:
    """Why ``merge_field_format`` is unusable, or None if it is fine (or None)."""
    if merge_field_format is None:
        return None
    example = 'e.g. "-{}-" for -field- or "{{{{{}}}}}" for {{field}}'
    if not isinstance(merge_field_format, str):
        kind = type(merge_field_format).__name__
        return f"expected a str.format() pattern ({example}), not {kind}."
    try:
        formatted = merge_field_format.format("\x00")
    except (IndexError, KeyError, ValueError):
        return (
            f"expected a str.format() pattern with a single {{}} for the field name ({example}); "
            "double any literal { or } characters."
        )
    if "\x00" not in formatted:
        return f"the pattern has no {{}} placeholder for the field name ({example})."
    return None


def _string_value(value: Any, where: str, rule: str) -> str:
    """A value SendGrid takes only as a string: numbers formatted, anything else refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise AnymailSerializationError(
        f"Don't know how to send {type(value).__name__} {where} to SendGrid: {rule}"
    )


def string_values(values: Mapping[str, Any], where: str) -> dict[str, str]:
    """custom_args and headers: strings only."""
    rule = "it only accepts strings (and Anymail converts numbers). Format the value as a str "
    rule += "before sending."
    return {key: _string_value(value, f"{where}[{key!r}]", rule) for key, value in values.items()}


def _substitution_value(value: Any, where: str) -> str | None:
    """Legacy substitutions are strings (None is passed through)."""
    if value is None:
        return None
    return _string_value(
        value,
        where,
        "legacy and on-the-fly template substitutions must be strings (or numbers, which "
        "Anymail converts). Format the value as a str, or use a dynamic template ('d-...' "
        "template_id), which accepts structured data.",
    )
