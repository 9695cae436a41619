"""Generate the ESP feature-support matrix from the backends' declared capabilities.

``python -m anymail._feature_matrix > docs/esps/feature-matrix.md``; a test
checks the committed file is current, so the matrix is never edited by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from anymail import backends
from anymail.backends.base import AnymailBaseBackend, Capabilities

#: Modules in anymail.backends that are not ESPs (or are aliases of another ESP).
NOT_ESPS = frozenset({"base", "base_requests", "test", "console", "sendinblue"})

#: (row label, capability) in display order; a None capability starts a section.
ROWS: tuple[tuple[str, str | None], ...] = (
    ("Anymail send options", None),
    ("envelope_sender", "envelope_sender"),
    ("metadata", "metadata"),
    ("merge_metadata", "merge_metadata"),
    ("merge_headers", "merge_headers"),
    ("send_at", "send_at"),
    ("tags", "tags"),
    ("track_clicks", "track_clicks"),
    ("track_opens", "track_opens"),
    ("Batch sending/merge and ESP templates", None),
    ("template_id", "template_id"),
    ("merge_data", "merge_data"),
    ("merge_global_data", "merge_global_data"),
    ("Django message features", None),
    ("cc / bcc", "cc"),
    ("reply_to", "reply_to"),
    ("extra headers", "extra_headers"),
    ("attachments", "attachments"),
    ("inline images", "inline_images"),
    ("AMP or other alternative parts", "alternatives"),
    ("non-ASCII mailbox (EAI) in from", "eai_from"),
    ("non-ASCII mailbox (EAI) in recipients", "eai_recipients"),
)


def esp_backends() -> list[type[AnymailBaseBackend]]:
    found = []
    for info in pkgutil.iter_modules(backends.__path__):
        if info.name in NOT_ESPS:
            continue
        module = importlib.import_module(f"{backends.__name__}.{info.name}")
        found.append(module.EmailBackend)
    return sorted(found, key=lambda backend: backend.esp_name.lower())


def cell(capabilities: Capabilities, name: str) -> str:
    value: Any = getattr(capabilities, name)
    if name == "tags" and value and capabilities.max_tags is not None:
        return f"Max {capabilities.max_tags} tag" + ("s" if capabilities.max_tags > 1 else "")
    if name == "reply_to" and value and capabilities.max_reply_to is not None:
        return f"Max {capabilities.max_reply_to}"
    if name == "alternatives":
        if "*" in value:
            return "Any"
        return ", ".join(sorted(value)) if value else "No"
    if isinstance(value, str):
        return value
    return "Yes" if value else "No"


def render() -> str:
    esps = esp_backends()
    header = ["Feature", *(backend.esp_name for backend in esps)]
    lines = [
        "# Feature support by ESP",
        "",
        "Generated from each backend's declared capabilities by "
        "`python -m anymail._feature_matrix`; do not edit by hand.",
        "A feature marked No raises `AnymailUnsupportedFeature` (or is left out with "
        "`IGNORE_UNSUPPORTED_FEATURES`). See each ESP's page for details and quirks.",
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    for label, name in ROWS:
        if name is None:
            lines.append("| **" + label + "** |" + " |" * len(esps))
            continue
        cells = [cell(backend.payload_class.capabilities, name) for backend in esps]
        lines.append("| " + " | ".join([label, *cells]) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
