"""Every setting Anymail reads, collected from the declarations in the code.

Each class that reads settings declares them (``declared_settings``, a tuple of
:class:`anymail.conf.Setting`); a class declares only its own and inherits its
bases'. This module walks the readers for the system checks (unknown names and
their "did you mean", Django 6.1 MAILERS OPTIONS) and for the settings reference
(``python -m anymail._settings_reference``):

- the ``EmailBackend`` of every module in ``anymail.backends``;
- every routed webhook view (``anymail.urls.WEBHOOK_ROUTES``);
- the inbound parser's limits (``anymail._inbound_mime.Limits``).

Modules are imported here, not when Anymail loads. A backend that needs an extra
(Amazon SES: boto3) keeps its declarations in a module that does not
(:data:`DECLARED_WITHOUT_EXTRAS`), so the checks know its settings either way.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from django.utils.module_loading import import_string

from .conf import UNSET, Setting, esp_prefix
from .exceptions import AnymailImproperlyInstalled

#: Backend module -> the module that declares its settings without the backend's extra
#: (``ESP_NAME`` and ``BACKEND_SETTINGS``; the backend class declares the same tuple).
DECLARED_WITHOUT_EXTRAS: Final = {"amazon_ses": "anymail._amazon_ses_settings"}

#: Readers that are neither a backend nor a webhook view.
OTHER_READERS: Final = ("anymail._inbound_mime.Limits",)

_MISSING: Final[Any] = object()


@dataclass(frozen=True)
class Reader:
    """A class that reads settings, and everything it declares (bases included)."""

    path: str  # "anymail.backends.postmark.EmailBackend"
    kind: str  # "backend", "webhook" or "inbound"
    #: The ESP name its settings are named after ("Postmark"); None: global settings only.
    esp_name: str | None
    settings: tuple[Setting, ...]
    #: The class (None when it could not be imported: see DECLARED_WITHOUT_EXTRAS).
    owner: type | None = None

    def default(self, setting: Setting) -> Any:
        """The setting's default as this reader applies it (UNSET: required)."""
        if setting.default_for is not None and self.owner is not None:
            return setting.default_for(self.owner)
        return setting.default

    def takes_keyword(self, setting: Setting) -> bool:
        """Whether the setting can be given as a keyword argument to this reader."""
        if not setting.option:
            return False
        if self.kind == "webhook":  # as_view() only takes the view's (data) attributes
            value = getattr(self.owner, setting.name, _MISSING)
            return value is not _MISSING and not callable(value)
        return self.kind == "backend"


@dataclass(frozen=True)
class Entry:
    """One setting name (``"POSTMARK_SERVER_TOKEN"``) and what reads it."""

    name: str
    setting: Setting
    esp_name: str | None
    readers: tuple[Reader, ...]

    @property
    def prefix(self) -> str | None:
        return esp_prefix(self.esp_name) if self.esp_name and self.setting.per_esp else None

    @property
    def suffix(self) -> str:
        """The name without the ESP prefix ("SERVER_TOKEN")."""
        return self.setting.name.upper()

    @property
    def defaults(self) -> list[Any]:
        """The distinct defaults the readers apply (UNSET for a required setting)."""
        found: list[Any] = []
        for reader in self.readers:
            default = reader.default(self.setting)
            if default not in found:
                found.append(default)
        return found

    @property
    def required(self) -> bool:
        return UNSET in self.defaults


def class_settings(cls: type) -> tuple[Setting, ...]:
    """The settings a class declares, its bases' included (a subclass's declaration of a
    name replaces its bases')."""
    found: dict[tuple[str, bool, bool], Setting] = {}
    for klass in cls.__mro__:
        for setting in vars(klass).get("declared_settings", ()):
            found.setdefault((setting.name, setting.per_esp, setting.in_settings), setting)
    return tuple(found.values())


def settings_esp_name(cls: type) -> str | None:
    return getattr(cls, "settings_esp_name", None) or getattr(cls, "esp_name", None)


def _class_reader(cls: type, kind: str) -> Reader:
    return Reader(
        path=f"{cls.__module__}.{cls.__qualname__}",
        kind=kind,
        esp_name=settings_esp_name(cls) if kind != "inbound" else None,
        settings=class_settings(cls),
        owner=cls,
    )


def _backend_readers() -> Iterator[Reader]:
    from . import backends
    from .backends.base import AnymailBaseBackend

    for info in pkgutil.iter_modules(backends.__path__):
        if info.name.startswith("_"):
            continue
        name = f"{backends.__name__}.{info.name}"
        try:
            module = importlib.import_module(name)
        except AnymailImproperlyInstalled:
            if info.name not in DECLARED_WITHOUT_EXTRAS:
                continue  # an extra is missing and nothing else declares its settings
            light = importlib.import_module(DECLARED_WITHOUT_EXTRAS[info.name])
            yield Reader(
                path=f"{name}.EmailBackend",
                kind="backend",
                esp_name=light.ESP_NAME,
                settings=light.BACKEND_SETTINGS + class_settings(AnymailBaseBackend),
            )
            continue
        backend = getattr(module, "EmailBackend", None)
        if isinstance(backend, type):
            yield _class_reader(backend, "backend")


def webhook_route_views(
    routes: Iterable[Any], load: Callable[[str], Any] = import_string
) -> Iterator[Any]:
    """The view class of each view path of ``routes`` (``anymail.urls.WEBHOOK_ROUTES``),
    in route order (a legacy alias path may name the same class again)."""
    seen = set()
    for route in routes:
        if route.view in seen:
            continue
        seen.add(route.view)
        module = route.view.rpartition(".")[0]
        try:
            view = load(route.view)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue  # the ESP's webhook module is not in this tree (yet): nothing to read
        yield view


def _webhook_readers() -> Iterator[Reader]:
    from .urls import WEBHOOK_ROUTES

    for view in webhook_route_views(WEBHOOK_ROUTES):
        yield _class_reader(view, "webhook")


@cache
def readers() -> tuple[Reader, ...]:
    return (
        *_backend_readers(),
        *_webhook_readers(),
        *(_class_reader(import_string(path), "inbound") for path in OTHER_READERS),
    )


@cache
def entries() -> tuple[Entry, ...]:
    """Every setting name that settings.py may hold, sorted by name.

    Raises RuntimeError (a bug in Anymail) if two declarations claim one name: each
    setting is declared once, and every reader shares that object.
    """
    found: dict[str, Entry] = {}
    for reader in readers():
        for setting in reader.settings:
            if not setting.in_settings or (setting.per_esp and reader.esp_name is None):
                continue
            name = setting.full_name(reader.esp_name)
            entry = found.get(name)
            if entry is None:
                found[name] = Entry(name, setting, reader.esp_name, (reader,))
            elif entry.setting is not setting:
                raise RuntimeError(
                    f"Anymail declares the setting {name} twice ({entry.readers[0].path} and "
                    f"{reader.path}): share one Setting object."
                )
            else:
                found[name] = Entry(name, setting, entry.esp_name, (*entry.readers, reader))
    return tuple(found[name] for name in sorted(found))


def known_names() -> frozenset[str]:
    return frozenset(entry.name for entry in entries())


def esp_entries(prefix: str) -> list[Entry]:
    """The settings named after one ESP ("POSTMARK")."""
    return [entry for entry in entries() if entry.prefix == prefix]


def esp_prefixes() -> frozenset[str]:
    return frozenset(entry.prefix for entry in entries() if entry.prefix)
