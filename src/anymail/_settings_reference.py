"""Generate the settings reference (``docs/settings.md``) from the declarations.

Every row comes from a :class:`anymail.conf.Setting` that a backend, a webhook
view or the inbound parser declares (``anymail._settings_registry``): the same
declarations the settings are read with and the system checks use.
``python -m anymail._settings_reference > docs/settings.md``; a test checks the
committed file is current, so the page is never edited by hand.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from anymail import _settings_registry as registry
from anymail.conf import SECONDS, TIMEOUT, UNSET, Setting
from anymail.signals import inbound, tracking

HEADER = """\
# Settings reference

Generated from the settings each backend and webhook view declares by
`python -m anymail._settings_reference`; do not edit by hand.

A setting is looked for in this order; the first place that has it wins:

1. a **keyword** argument: a backend option (`get_connection(api_key=...)`, or
   Django 6.1 `MAILERS["name"]["OPTIONS"]`), or an argument of the webhook view's
   `as_view(...)` where the table shows one. Its name is the setting's, lowercase,
   without the ESP's prefix;
2. `ANYMAIL = {"POSTMARK_SERVER_TOKEN": ...}` in your settings.py;
3. `ANYMAIL_POSTMARK_SERVER_TOKEN = ...` in your settings.py;
4. a **bare** `POSTMARK_SERVER_TOKEN = ...` in your settings.py, only for the
   settings marked *bare* (credentials other apps may share);
5. the default. A *required* setting that is found nowhere raises
   `AnymailImproperlyConfigured` (`AnymailInvalidMailer` for a `MAILERS` entry),
   naming every place that was looked at.

Values of *secret* settings never appear in Anymail's errors, logs or checks.
`manage.py check` warns about names in `ANYMAIL` (or `ANYMAIL_*`) that are not
on this page, and suggests the closest one.
"""

COLUMNS = ("Setting", "Type", "Default", "Keyword", "Bare", "Secret", "Read by", "Description")


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _value(setting: Setting, value: Any) -> str:
    if value is UNSET:
        return "required"
    text = f"`{value!r}`"
    if setting.type in (SECONDS, TIMEOUT) and isinstance(value, int | float) and value:
        text += f" ({_duration(value)})"
    return text


def default_cell(entry: registry.Entry) -> str:
    if entry.setting.default_doc is not None:
        return entry.setting.default_doc
    return " or ".join(_value(entry.setting, value) for value in entry.defaults)


def _reader_label(reader: registry.Reader) -> str:
    if reader.kind != "webhook":
        return {"backend": "backend", "inbound": "inbound parsing"}[reader.kind]
    signal = getattr(reader.owner, "signal", None)
    if signal is tracking:
        return "tracking webhook"
    if signal is inbound:
        return "inbound webhook"
    return "webhooks"


def read_by_cell(readers: tuple[registry.Reader, ...]) -> str:
    labels = {_reader_label(reader) for reader in readers}
    webhooks = {"tracking webhook", "inbound webhook", "webhooks"} & labels
    if len(webhooks) > 1:
        labels = (labels - webhooks) | {"webhooks"}
    order = ("backend", "tracking webhook", "inbound webhook", "webhooks", "inbound parsing")
    return ", ".join(label for label in order if label in labels)


def keyword_cell(setting: Setting, readers: tuple[registry.Reader, ...]) -> str:
    forms = []
    if any(reader.kind == "backend" and reader.takes_keyword(setting) for reader in readers):
        forms.append(f"`{setting.name}`")
    if any(reader.kind == "webhook" and reader.takes_keyword(setting) for reader in readers):
        forms.append(f"`as_view({setting.name}=...)`")
    return ", ".join(forms) or "—"


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def table(entries: list[registry.Entry]) -> list[str]:
    lines = [_row(list(COLUMNS)), _row(["---"] * len(COLUMNS))]
    for entry in entries:
        setting = entry.setting
        lines.append(
            _row(
                [
                    f"`{entry.name}`",
                    setting.type.label,
                    default_cell(entry),
                    keyword_cell(setting, entry.readers),
                    "yes" if setting.bare else "",
                    "yes" if setting.secret else "",
                    read_by_cell(entry.readers),
                    _sentence(setting.help),
                ]
            )
        )
    return lines


def options_table() -> list[str]:
    """Backend options that are not settings (Django's own, and aliases)."""
    backends = [reader for reader in registry.readers() if reader.kind == "backend"]
    found: dict[int, tuple[Setting, list[str]]] = {}
    for reader in backends:
        for setting in reader.settings:
            if not setting.in_settings:
                found.setdefault(id(setting), (setting, []))[1].append(str(reader.esp_name))
    lines = [
        _row(["Option", "Backends", "Type", "Default", "Description"]),
        _row(["---"] * 5),
    ]
    for setting, esp_names in sorted(found.values(), key=lambda item: item[0].name):
        which = "all" if len(esp_names) == len(backends) else ", ".join(sorted(esp_names))
        lines.append(
            _row(
                [
                    f"`{setting.name}`",
                    which,
                    setting.type.label,
                    _value(setting, setting.default),
                    _sentence(setting.help),
                ]
            )
        )
    return lines


def render() -> str:
    by_esp: dict[str, list[registry.Entry]] = defaultdict(list)
    shared: list[registry.Entry] = []
    for entry in registry.entries():
        if entry.prefix is None:
            shared.append(entry)
        else:
            by_esp[str(entry.esp_name)].append(entry)
    lines = [HEADER, "## Settings of every ESP", ""]
    lines += [*table(shared), ""]
    for esp_name in sorted(by_esp, key=str.lower):
        lines += [f"## {esp_name}", "", *table(by_esp[esp_name]), ""]
    lines += [
        "## Backend options that are not settings",
        "",
        "Keyword arguments only (`get_connection(...)` or `MAILERS` `OPTIONS`):",
        "",
        *options_table(),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
