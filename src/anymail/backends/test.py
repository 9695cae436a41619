"""Anymail's test backend: processes messages like a generic ESP, sends nothing.

Like Django's locmem backend it appends each sent message to
``django.core.mail.outbox``. Unlike it, every message goes through Anymail's
whole send pipeline (signals, send defaults, address parsing, serialization
checks), ends up with an ``anymail_status`` (status "sent", a unique message
id), and gets an ``anymail_send_params`` dict: the normalized parameters an
ESP backend would have sent, send defaults included.

With the ``emulate_esp`` option (or the ``TEST_EMULATE_ESP`` setting) naming an
ESP, it enforces that ESP's declared capabilities instead of accepting
everything: a message using a feature the ESP lacks raises the same
:exc:`AnymailUnsupportedFeature` the ESP's backend would (or, with
``IGNORE_UNSUPPORTED_FEATURES``, is recorded without it), and the ESP's send
defaults (``<ESP>_SEND_DEFAULTS``) apply instead of ``TEST_SEND_DEFAULTS``.
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from functools import cache
from typing import Any, Final

from django.core import mail
from django.core.mail import EmailMessage

from .._features import FEATURES
from ..addresses import EmailAddress
from ..conf import STRING, Setting, get_send_defaults, get_setting, invalid_setting
from ..message import AnymailRecipientStatus
from ..utils import CaseInsensitiveDict, serialize_json
from .base import AnymailBaseBackend, BasePayload, Capabilities

# JSON-bound features a real ESP would serialize: checked so that tests catch
# what would fail in production (e.g. a Decimal in metadata).
_JSON_FEATURES = ("metadata", "merge_metadata", "merge_headers", "merge_data", "merge_global_data")


class TestPayload(BasePayload):
    """Accepts every feature and records the normalized values."""

    capabilities = Capabilities(
        max_reply_to=None,
        multiple_html=True,
        alternatives=frozenset({"*"}),
        multiple_from=True,
        spoofed_to=True,
        send_at_str=True,
    )

    def init_payload(self) -> None:
        self.recorded: dict[str, Any] = {}

    def get_params(self) -> dict[str, Any]:
        """The recorded params, with addresses as formatted strings."""
        return {name: _readable(value) for name, value in self.recorded.items()}

    def _record(self, name: str, value: Any) -> None:
        if name in _JSON_FEATURES:
            serialize_json(value, name)
        self.recorded[name] = value

    def add_alternative(self, content: str, mimetype: str) -> None:
        self.recorded.setdefault("alternatives", []).append((content, mimetype))

    def add_attachment(self, attachment: Any) -> None:
        self.recorded.setdefault("attachments", []).append(attachment)


def _recorder(hook_name: str, key: str) -> Any:
    def hook(self: TestPayload, value: Any) -> None:
        self._record(key, value)

    hook.__name__ = hook_name
    return hook


#: The hooks that record their one value, and the key it is recorded under: set_to,
#: set_subject, set_tags ... under their feature's name, and a few others. (The hooks
#: of another shape are defined on the class above.)
_RECORDING_HOOKS: Final = {
    **{feature.hook: feature.name for feature in FEATURES if feature.hook == f"set_{feature.name}"},
    "set_from_email_list": "from_email",  # several From addresses, as a list
    "set_spoofed_to_header": "to_header",
    "set_spoofed_cc_header": "cc_header",
}
for _hook, _key in _RECORDING_HOOKS.items():
    if _hook not in vars(TestPayload):
        setattr(TestPayload, _hook, _recorder(_hook, _key))


def _readable(value: Any) -> Any:
    # (CaseInsensitiveDict last: isinstance() of it, an ABC, is the slow check.)
    if isinstance(value, str):
        return value
    if isinstance(value, EmailAddress):
        return value.address
    if isinstance(value, list):
        if value and isinstance(value[0], EmailAddress):
            return [item.address for item in value]
        return value
    if isinstance(value, CaseInsensitiveDict):
        return dict(value)
    return value


#: Modules in anymail.backends that are not ESP backends (besides the _private ones).
_NOT_ESPS: Final = frozenset({"base", "base_requests", "test", "console", "queued"})


def esp_names() -> list[str]:
    """The ESP names ``emulate_esp`` accepts: the ESP backends' module names."""
    from .. import backends

    return sorted(
        info.name
        for info in pkgutil.iter_modules(backends.__path__)
        if info.name not in _NOT_ESPS and not info.name.startswith("_")
    )


def _esp_backend(module_name: str) -> type[AnymailBaseBackend]:
    # Imported only now: an ESP's SDK (boto3 for amazon_ses) is needed only
    # when that ESP is the one emulated.
    backend: type[AnymailBaseBackend] = importlib.import_module(
        f"{__package__}.{module_name}"
    ).EmailBackend
    return backend


@cache
def _emulating_payload(module_name: str) -> type[TestPayload]:
    """TestPayload, limited to the capabilities the ESP's payload class declares
    (with and without a template)."""
    esp_backend = _esp_backend(module_name)

    class EmulatingPayload(TestPayload):
        capabilities = esp_backend.payload_class.capabilities
        template_capabilities = esp_backend.payload_class.template_capabilities

        def init_payload(self) -> None:
            super().init_payload()
            self.esp_name = esp_backend.esp_name  # errors name the ESP, as its backend's do

    EmulatingPayload.__name__ = EmulatingPayload.__qualname__ = f"TestPayloadAs{module_name}"
    return EmulatingPayload


def _esp_module_name(value: Any, setting_esp_name: str) -> str:
    names = esp_names()
    module_name = (
        value.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(value, str) else ""
    )
    if module_name not in names:
        raise invalid_setting(
            "emulate_esp",
            setting_esp_name,
            f"{value!r} is not an ESP Anymail has a backend for. Use one of: {', '.join(names)}.",
        )
    return module_name


EMULATE_ESP: Final = Setting(
    "emulate_esp",
    STRING,
    'An ESP (backend module name, e.g. "postmark") whose capabilities and send '
    "defaults the backend applies.",
    default=None,
)


class EmailBackend(AnymailBaseBackend[TestPayload]):
    """``anymail.backends.test.EmailBackend``: for your app's tests."""

    esp_name = "Test"
    payload_class = TestPayload
    declared_settings = (EMULATE_ESP,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        emulate_esp = get_setting(EMULATE_ESP, self.esp_name, kwargs)
        #: The ESP whose capabilities are enforced (its backend module name), or None.
        self.emulated_esp: str | None = None
        self._emulating_payload: type[TestPayload] | None = None
        if emulate_esp is not None:
            self.emulated_esp = _esp_module_name(emulate_esp, self.esp_name)
            self._emulating_payload = _emulating_payload(self.emulated_esp)
            # The send defaults production would merge in (and check) for this ESP.
            esp_backend = _esp_backend(self.emulated_esp)
            kwargs.setdefault(
                "send_defaults",
                get_send_defaults(esp_backend.settings_esp_name or esp_backend.esp_name),
            )
        super().__init__(*args, **kwargs)
        if not hasattr(mail, "outbox"):
            mail.outbox = []

    def build_message_payload(self, message: EmailMessage, defaults: Any) -> TestPayload:
        if self._emulating_payload is None:
            return super().build_message_payload(message, defaults)
        return self._emulating_payload(message, defaults, self)

    def post_to_esp(self, payload: TestPayload, message: EmailMessage) -> dict[str, Any]:
        message.anymail_send_params = payload.get_params()
        self.deliver(message)
        return {"message_id": str(uuid.uuid4()), "status": "sent"}

    def deliver(self, message: EmailMessage) -> None:
        mail.outbox.append(message)

    def parse_recipient_status(
        self, response: Any, payload: TestPayload, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        return payload.statuses_for_all(response["message_id"], response["status"])
