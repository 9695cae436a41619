"""Generate the ESP feature-support matrix from what the code declares.

Sending rows come from the feature table (``anymail._features``) and each
backend's declared capabilities, with and without a template; webhook rows from
the routed webhook views (``anymail.urls.WEBHOOK_ROUTES``): their ``signal``,
``signature_scheme`` and the ESP's freshness window.
``python -m anymail._feature_matrix > docs/esps/feature-matrix.md``; a test
checks the committed file is current, so the matrix is never edited by hand.
``python -m anymail._feature_matrix --readme`` prints the README's ESP table,
checked the same way.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.utils.module_loading import import_string

from anymail import backends
from anymail._features import FEATURES, Group
from anymail._settings_registry import webhook_route_views
from anymail.backends.base import AnymailBaseBackend, BasePayload, Capabilities
from anymail.signals import inbound, tracking
from anymail.urls import WEBHOOK_ROUTES
from anymail.webhooks.freshness import DEFAULT_MAX_AGE

#: Modules in anymail.backends that are not ESPs (or are aliases of another ESP).
NOT_ESPS = frozenset({"base", "base_requests", "test", "console", "queued", "sendinblue"})

#: The feature matrix's sections, by feature group.
SECTIONS: dict[Group, str] = {
    "anymail": "Anymail send options",
    "template": "Batch sending/merge and ESP templates",
    "django": "Django message features",
}

#: (row label, capability) in display order, from the feature table; a None
#: capability starts a section.
ROWS: tuple[tuple[str, str | None], ...] = tuple(
    row
    for group, title in SECTIONS.items()
    for row in [
        (title, None),
        *(row for feature in FEATURES if feature.group == group for row in feature.matrix),
    ]
)


def _webhook_views() -> dict[str, list[Any]]:
    """The routed webhook view classes, by esp_name (legacy aliases have their own name)."""
    views: dict[str, list[Any]] = defaultdict(list)
    for view in webhook_route_views(WEBHOOK_ROUTES, import_string):
        if view not in views[view.esp_name]:
            views[view.esp_name].append(view)
    return views


def _directions(views: list[Any]) -> set[str]:
    # A view with no signal (e.g. Mandrill's) sends both kinds of event.
    return {
        direction
        for view in views
        for direction, signal in (("tracking", tracking), ("inbound", inbound))
        if view.signal in (signal, None)
    }


def _signature(views: list[Any]) -> str:
    if not views:
        return "—"
    schemes = sorted({view.signature_scheme for view in views if view.signature_scheme})
    return " / ".join(schemes) if schemes else "Basic auth only"


def _window(esp_name: str, views: list[Any]) -> str:
    seconds = DEFAULT_MAX_AGE.get(esp_name)
    if not views or seconds is None:
        return "—"
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds // 60} min"


#: (row label, cell for an ESP's routed webhook views) in display order.
WEBHOOK_ROWS: tuple[tuple[str, Callable[[str, list[Any]], str]], ...] = (
    ("tracking webhook", lambda esp, views: "Yes" if "tracking" in _directions(views) else "No"),
    ("inbound webhook", lambda esp, views: "Yes" if "inbound" in _directions(views) else "No"),
    ("signature check", lambda esp, views: _signature(views)),
    ("signed-time window", _window),
)


def esp_backends() -> list[type[AnymailBaseBackend]]:
    found = []
    for info in pkgutil.iter_modules(backends.__path__):
        if info.name in NOT_ESPS or info.name.startswith("_"):  # _private helpers
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


def esp_cell(payload_class: type[BasePayload], name: str) -> str:
    """An ESP's cell: its declaration's answer, and what a template_id changes."""
    plain = cell(payload_class.capabilities, name)
    if payload_class.template_capabilities is None:
        return plain
    with_template = cell(payload_class.template_capabilities, name)
    if with_template == plain:
        return plain
    if plain == "No":
        return "With template_id" if with_template == "Yes" else f"{with_template} with template_id"
    if with_template == "No":
        return "Not with template_id" if plain == "Yes" else f"{plain}; not with template_id"
    return f"{plain}; {with_template} with template_id"


def render() -> str:
    esps = esp_backends()
    header = ["Feature", *(backend.esp_name for backend in esps)]
    webhook_views = _webhook_views()
    lines = [
        "# Feature support by ESP",
        "",
        "Generated from each backend's declared capabilities and the webhook views' "
        "declarations by `python -m anymail._feature_matrix`; do not edit by hand.",
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
        cells = [esp_cell(backend.payload_class, name) for backend in esps]
        lines.append("| " + " | ".join([label, *cells]) + " |")
    lines.append("| **Webhooks** (see [Receiving](../receiving.md)) |" + " |" * len(esps))
    for label, webhook_cell in WEBHOOK_ROWS:
        cells = [webhook_cell(b.esp_name, webhook_views.get(b.esp_name, [])) for b in esps]
        lines.append("| " + " | ".join([label, *cells]) + " |")
    return "\n".join(lines) + "\n"


#: (README column, capability) for the send column's notes.
SEND_NOTES: tuple[tuple[str, str], ...] = (("templates", "template_id"), ("batch", "merge_data"))


def repository_url() -> str:
    """The project's repository URL, from the installed package's metadata (pyproject.toml)."""
    from importlib.metadata import metadata

    project_urls = metadata("django-anymail").get_all("Project-URL") or []
    return dict(url.split(", ", 1) for url in project_urls)["Repository"]


def render_esp_list(docs_url: str) -> str:
    """The README's ESP table: send, tracking and inbound support per ESP.

    Drawn from the same declarations as :func:`render`; each ESP links to its
    page under ``docs_url`` (absolute, so the links work on a package index).
    """
    webhook_views = _webhook_views()
    webhook_cells = dict(WEBHOOK_ROWS)
    lines = [
        "| ESP | backend | send | tracking | inbound |",
        "| --- | --- | --- | --- | --- |",
    ]
    for backend in esp_backends():
        slug = backend.__module__.rsplit(".", 1)[1]
        # (With or without a template: Postmark batches merge_data with one only.)
        notes = [note for note, name in SEND_NOTES if esp_cell(backend.payload_class, name) != "No"]
        send = "Yes" + (f" ({', '.join(notes)})" if notes else "")
        views = webhook_views.get(backend.esp_name, [])
        track = webhook_cells["tracking webhook"](backend.esp_name, views)
        receive = webhook_cells["inbound webhook"](backend.esp_name, views)
        page = f"[{backend.esp_name}]({docs_url}esps/{slug}.md)"
        lines.append(f"| {page} | `{slug}` | {send} | {track} | {receive} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--readme"]:
        print(render_esp_list(f"{repository_url()}/blob/main/docs/"), end="")
    else:
        print(render(), end="")
