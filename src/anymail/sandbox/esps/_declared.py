"""What an emulator takes from Anymail's own declarations, so each fact is stated once.

The backend declares the ESP's name and its settings (``esp_name``, the
:class:`~anymail.conf.Setting` tuples); the tracking webhook module declares the
ESP's event names (its ``EVENT_TYPES``: the ESP's name -> Anymail's event type).
An emulator reads them here rather than spelling out ``"SENDGRID_API_KEY"`` or
``"spamreport"`` again, and keeps only what is the ESP's own behaviour.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ...conf import Setting
from ...exceptions import AnymailImproperlyInstalled
from ...signals import EventType

#: The events the sandbox fires (where the ESP has them), in the UI's order.
FIRED: Final = (
    EventType.DELIVERED,
    EventType.BOUNCED,
    EventType.OPENED,
    EventType.CLICKED,
    EventType.COMPLAINED,
)


@dataclass(frozen=True)
class BackendDeclarations:
    """The ESP's name and the settings its backend reads."""

    esp_name: str
    settings_esp_name: str
    settings: tuple[Setting, ...]

    def name_of(self, setting: Setting) -> str:
        """The full name of a setting for this ESP (its backend's or its webhook views')."""
        return setting.full_name(self.settings_esp_name)

    def setting(self, name: str) -> str:
        """The full name of a setting the backend declares ("api_url" -> "POSTAL_API_URL")."""
        for setting in self.settings:
            if setting.name == name:
                return self.name_of(setting)
        raise LookupError(f"the {self.esp_name} backend declares no {name!r} setting")

    def key_setting(self, option: str | None) -> str:
        """The setting that holds the API key: ``option``, else the backend's only secret."""
        if option is not None:
            return self.setting(option)
        secrets = [s for s in self.settings if s.secret and s.required and s.per_esp]
        if len(secrets) != 1:
            names = ", ".join(s.name for s in secrets) or "none"
            raise LookupError(f"the {self.esp_name} backend's key is one of: {names}")
        return self.name_of(secrets[0])


def backend_declarations(esp: str) -> BackendDeclarations:
    """The declarations of ``anymail.backends.<esp>`` (without its extra, where it needs one)."""
    from ..._settings_registry import DECLARED_WITHOUT_EXTRAS, class_settings, settings_esp_name

    try:
        backend = importlib.import_module(f"anymail.backends.{esp}").EmailBackend
    except AnymailImproperlyInstalled:
        light = importlib.import_module(DECLARED_WITHOUT_EXTRAS[esp])
        return BackendDeclarations(light.ESP_NAME, light.ESP_NAME, light.BACKEND_SETTINGS)
    return BackendDeclarations(
        backend.esp_name, settings_esp_name(backend) or backend.esp_name, class_settings(backend)
    )


def fired_events(event_types: Mapping[str, Any], **prefer: str) -> dict[str, str]:
    """Anymail's event -> the ESP's name for it, for each of :data:`FIRED` the ESP has.

    Inverts a webhook module's ``EVENT_TYPES`` (the ESP's name -> Anymail's type, or a
    tuple starting with it). ``prefer`` names the ESP's event where several of its
    names map to one of Anymail's, or where the webhook tells the event by more than
    its name (Mailgun's "failed" with a permanent severity).
    """
    unknown = set(prefer) - set(FIRED)
    if unknown:
        raise ValueError(f"the sandbox fires no {', '.join(sorted(unknown))} event")
    names: dict[str, list[str]] = {}
    for esp_event, mapped in event_types.items():
        event = mapped[0] if isinstance(mapped, tuple) else mapped
        names.setdefault(event, []).append(esp_event)
    events: dict[str, str] = {}
    for event in FIRED:
        if event in prefer:
            events[event] = prefer[event]
        elif len(names.get(event, [])) > 1:
            raise ValueError(
                f"several of the ESP's events are {event!r} ({names[event]}): prefer one"
            )
        elif event in names:
            events[event] = names[event][0]
    return events
