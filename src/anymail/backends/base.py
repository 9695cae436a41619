"""The send pipeline shared by every Anymail backend.

``AnymailBaseBackend.send_messages()`` runs each message through:

1. the ``pre_send`` signal (``AnymailCancelSend`` skips the message silently);
2. ``build_message_payload()``: a :class:`BasePayload` normalizes the Django
   message plus Anymail attributes, merged with the send defaults
   (``_normalize.py``, driven by the feature table ``anymail._features``),
   checks them against the payload's declared :class:`Capabilities` (with or
   without a template: ``_capabilities.py``), and calls one ``set_<feature>()``
   hook per feature present (``_hooks.py``);
3. ``post_to_esp()`` and ``parse_recipient_status()`` (ESP specific);
4. ``message.anymail_status`` and the ``post_send`` signal;
5. ``AnymailRecipientsRefused`` when every recipient was refused.

Steps 1 and 3-5 are the functions of ``_send.py`` (one message after the
other) and ``_concurrency.py`` (with ESP calls in flight together).

An ESP backend subclasses both classes: the backend knows how to call the
ESP, the payload only translates normalized values into the ESP's format.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final, Generic, TypeVar, cast, get_args

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from .._features import BATCH_FEATURES, FEATURES, FEATURES_BY_NAME
from ..addresses import EmailAddress
from ..conf import (
    ESP_SEND_DEFAULTS,
    FAIL_SILENTLY,
    IGNORE_RECIPIENT_STATUS,
    IGNORE_UNSUPPORTED_FEATURES,
    SEND_DEFAULTS,
    Setting,
    get_bool,
    get_positive_int,
    get_send_defaults,
)
from ..exceptions import (
    AnymailError,
    AnymailRecipientsRefused,
    AnymailUnsupportedFeature,
)
from ..message import AnymailRecipientStatus, AnymailStatus, RecipientStatuses
from ..retry import RETRY_SETTINGS, RetryPolicy, retry_policy_option
from ..signals import post_send
from ._capabilities import Capabilities, Support, check_line_breaks, enforce, select_mode
from ._concurrency import SEND_CONCURRENCY, can_send_concurrently, send_concurrently
from ._hooks import PayloadHooks
from ._normalize import SendParams, normalize
from ._send import FAIL_SILENTLY_ERRORS, send_each
from ._split import BatchLimits, SplitSend

__all__ = [
    "FEATURE_ORDER",
    "AnymailBaseBackend",
    "BasePayload",
    "Capabilities",
    "RecipientStatuses",
    "SendParams",
    "Support",
]

logger = logging.getLogger("anymail")

#: The payload class a backend builds (and its post_to_esp() etc. are given).
PayloadT = TypeVar("PayloadT", bound="BasePayload")


#: Normalized features, in the order their hooks are called.
FEATURE_ORDER: Final = tuple(feature.name for feature in FEATURES)
_HOOKS: Final = tuple((feature.name, feature.hook) for feature in FEATURES)


class BasePayload(PayloadHooks):
    """Normalizes one message and feeds it, feature by feature, to ESP hooks.

    Subclasses set ``capabilities``, implement ``init_payload()``, the
    ``set_<feature>()`` hooks for the features they support and, if they need it,
    ``finish_payload()``. The normalized values stay available in
    ``self.send_params`` (only features present), and as ``self.is_batch`` and
    ``self.all_recipients``.
    """

    capabilities: ClassVar[Capabilities] = Capabilities()
    #: The declaration for messages with a template_id, where the ESP's limits
    #: differ then: a clone of ``capabilities`` (``capabilities.replace(...)``).
    template_capabilities: ClassVar[Capabilities | None] = None
    #: Features the payload takes from ``send_params`` when it builds the request
    #: (in finish_payload() or serialize_data()), so they need no hook.
    read_from_send_params: ClassVar[frozenset[str]] = frozenset()
    #: The ESP calls a batch send too big for one is cut into (set when it is sent).
    split: SplitSend | None = None

    def __init__(
        self, message: EmailMessage, defaults: Mapping[str, Any], backend: AnymailBaseBackend[Any]
    ) -> None:
        self.message = message
        self.defaults = defaults
        self.backend = backend
        self.esp_name = backend.esp_name
        #: Unsupported features left out because of IGNORE_UNSUPPORTED_FEATURES.
        self.ignored_features: list[str] = []
        self.init_payload()
        caps = self.capabilities
        self._normalized = normalize(
            message,
            self.defaults,  # (init_payload may have changed them)
            send_at_str=bool(caps.send_at_str or not caps.send_at),
            esp_name=self.esp_name,
        )
        params = self._normalized.params
        self.send_params = cast(SendParams, params)
        check_line_breaks(params)
        # Decided before capability checks, so that a batch feature dropped under
        # IGNORE_UNSUPPORTED_FEATURES still sends each "to" its own message:
        # falling back to one message would show every recipient to all the others.
        self._batch_requested = not params.keys().isdisjoint(BATCH_FEATURES)
        uses_template = "template_id" in params and bool(caps.template_id)
        self._mode = select_mode(caps, self.template_capabilities, uses_template)
        #: The declaration in force: template_capabilities with a template_id.
        self.active_capabilities = self._mode.active
        # (What only this mode refuses is refused as each hook comes due.)
        enforce(params, self._mode, self._normalized, self.unsupported_feature)
        self._apply_hooks()
        self._check_batch_privacy()
        self.finish_payload()

    # --- for subclasses -------------------------------------------------

    def init_payload(self) -> None:
        """Set up the ESP-specific request data (called before any hook)."""

    def finish_payload(self) -> None:
        """Build what depends on several features at once (called after every hook)."""

    @property
    def is_batch(self) -> bool:
        """True when merge_data, merge_metadata or merge_headers is set (even empty).

        Stays True when one of them was left out as unsupported: the user asked
        for individual messages, and that is a privacy matter, not a feature.
        """
        return self._batch_requested

    @property
    def all_recipients(self) -> list[EmailAddress]:
        return [
            *self.send_params.get("to", []),
            *self.send_params.get("cc", []),
            *self.send_params.get("bcc", []),
        ]

    @property
    def uses_template(self) -> bool:
        """Whether the message is sent with the ESP's stored template (template_id)."""
        return "template_id" in self.send_params

    def statuses_for_all(
        self, message_id: str | None, status: str
    ) -> dict[str, AnymailRecipientStatus]:
        """The same status for every recipient: for an ESP that answers once for all."""
        return {
            email.addr_spec: AnymailRecipientStatus(message_id, status)
            for email in self.all_recipients
        }

    def for_recipient(
        self, per_recipient: Mapping[str, Any] | None, recipient: EmailAddress | None
    ) -> Any:
        """``recipient``'s entry in merge_data, merge_metadata or merge_headers ({} if none).

        Their keys are already the recipients' addr_spec, however the caller wrote them.
        """
        if recipient is None or not per_recipient:
            return {}
        return per_recipient.get(recipient.addr_spec) or {}

    def recipient_groups(self, split: bool | None = None) -> list[list[EmailAddress]]:
        """The recipients of each message the ESP sends, in request order.

        When ``split`` (default: ``is_batch``) and there are "to" recipients, each
        "to" gets a message of their own, with every cc and bcc as copies;
        otherwise there is one message to everyone.
        """
        to = self.send_params.get("to", [])
        if not to or not (self.is_batch if split is None else split):
            return [self.all_recipients]
        copies = [*self.send_params.get("cc", []), *self.send_params.get("bcc", [])]
        return [[address, *copies] for address in to]

    def error(self, text: str, error_class: type[AnymailError] = AnymailError) -> AnymailError:
        """An error about this message, to raise: bad input the ESP can't take."""
        return error_class(text, email_message=self.message, payload=self, backend=self.backend)

    def unsupported_feature(self, feature: str) -> None:
        """Report a feature the ESP can't send: raise, unless IGNORE_UNSUPPORTED_FEATURES.

        When ignoring, this records the feature in ``ignored_features`` (and logs
        it) and returns; the caller then leaves the feature out. A feature is
        reported once, however many parts of the message run into it.
        """
        if feature in self.ignored_features:
            return
        if self.backend.ignore_unsupported_features:
            self.ignored_features.append(feature)
            logger.debug("%s: sending without unsupported %s", self.esp_name, feature)
        else:
            raise self.error(
                f"{self.esp_name} does not support {feature}. "
                "Remove it from the message, or set ANYMAIL IGNORE_UNSUPPORTED_FEATURES "
                "to True to send without it.",
                AnymailUnsupportedFeature,
            )

    def sends_individual_messages(self) -> bool:
        """Whether this payload, as built, gives each "to" recipient its own message.

        Asked only for batch sends. By default: whenever the ESP can batch at all
        (it supports one of merge_data, merge_metadata, merge_headers); an ESP
        that batches only in some cases (e.g. only with a template) overrides this.
        """
        caps = self.active_capabilities
        return any(getattr(caps, feature) for feature in BATCH_FEATURES)

    def _check_batch_privacy(self) -> None:
        # A batch send asks for individual messages. Sending one message instead
        # would show every "to" recipient to all the others, so this is refused
        # even with IGNORE_UNSUPPORTED_FEATURES: that setting drops features,
        # it must not expose addresses.
        if (
            self._batch_requested
            and len(self.send_params.get("to", [])) > 1
            and not self.sends_individual_messages()
        ):
            raise self.error(
                f"{self.esp_name} cannot send this as a batch (merge_data, merge_metadata "
                "or merge_headers ask for an individual message to each 'to' recipient). "
                "Sending one message would show every recipient to the others, so it was "
                "not sent: send a separate message to each recipient instead.",
                AnymailUnsupportedFeature,
            )

    # --- hooks ---------------------------------------------------------------

    def _apply_hooks(self) -> None:
        params = self._normalized.params
        mode, refuse = self._mode, self.unsupported_feature
        checked, later = mode.checked, self.read_from_send_params
        can_batch = bool(checked) and self.sends_individual_messages()
        for name, hook in _HOOKS:
            if name not in params or (
                checked
                and name in checked
                and not mode.allows(FEATURES_BY_NAME[name], params, refuse, can_batch)
            ):
                continue
            if later and name in later:
                pass
            elif name == "from_email":
                if len(params[name]) == 1:
                    self.set_from_email(params[name][0])
                else:
                    self.set_from_email_list(params[name])
            elif name == "alternatives":
                for content, mimetype in params[name]:
                    self.add_alternative(content, mimetype)
            elif name == "attachments":
                for attachment in params[name]:
                    self.add_attachment(attachment)
            else:
                getattr(self, hook)(params[name])
            # A To or Cc header that differs from the recipients comes right after them.
            if (name == "to" or name == "cc") and f"{name}_header" in params:
                shown = f"{name}_header"
                if mode.allows_shown(shown, params, refuse):
                    getattr(self, f"set_spoofed_{shown}")(params[shown])


class AnymailBaseBackend(BaseEmailBackend, Generic[PayloadT]):
    """Base for Anymail's email backends. Subclasses set ``esp_name`` and implement
    ``post_to_esp()`` and ``parse_recipient_status()``; they are generic in their
    payload class (``AnymailBaseBackend[PostmarkPayload]``), which is what those
    methods are given and what ``payload_class`` is (unless the class sets it).

    Accepts the global Anymail settings as keyword arguments too
    (``ignore_unsupported_features``, ``ignore_recipient_status``, ``send_defaults``),
    and ``fail_silently`` as Django's own backends do.
    """

    esp_name: ClassVar[str] = "Anymail"
    #: Settings prefix ("POSTMARK" for POSTMARK_API_KEY ...); default from esp_name.
    settings_esp_name: ClassVar[str | None] = None
    #: The class that builds each message's payload: the generic argument, by default.
    payload_class: ClassVar[type[BasePayload]] = BasePayload
    #: The settings and options (keyword arguments, Django 6.1 MAILERS OPTIONS) this
    #: class's own __init__ reads. Each class declares only its own; ``manage.py
    #: check`` and the settings reference collect the whole hierarchy.
    declared_settings: ClassVar[tuple[Setting, ...]] = (
        FAIL_SILENTLY,
        IGNORE_UNSUPPORTED_FEATURES,
        IGNORE_RECIPIENT_STATUS,
        SEND_DEFAULTS,
        ESP_SEND_DEFAULTS,
        *RETRY_SETTINGS,
        SEND_CONCURRENCY,
    )
    #: The attribute holding the connection ``open()`` makes ("session"), for backends
    #: whose ``post_to_esp()`` can run in worker threads, each with its own connection
    #: (see _concurrency.py). None: always sequential.
    concurrent_connection_attr: ClassVar[str | None] = None
    #: The ESP's per-call limits: bigger batch sends are split (_split.py), and
    #: coalesced messages share a call up to them (_coalesce.py). None: no limit.
    batch_limits: ClassVar[BatchLimits | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The payload class is named once, where the backend is declared generic in it.
        if "payload_class" not in vars(cls):
            for base in vars(cls).get("__orig_bases__", ()):
                args = get_args(base)
                if args and isinstance(args[0], type) and issubclass(args[0], BasePayload):
                    cls.payload_class = args[0]
                    break

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        self.ignore_unsupported_features = get_bool(IGNORE_UNSUPPORTED_FEATURES, kwargs=kwargs)
        self.ignore_recipient_status = get_bool(IGNORE_RECIPIENT_STATUS, kwargs=kwargs)
        #: Retries of transient failures (anymail.retry), or None: RETRY_SENDS is off.
        self.retry_policy: RetryPolicy | None = retry_policy_option(kwargs)
        #: ESP calls one send_messages() keeps in flight (1: one after the other).
        self.send_concurrency = get_positive_int(SEND_CONCURRENCY, kwargs=kwargs)
        send_defaults = kwargs.pop("send_defaults", None)
        self.send_defaults: dict[str, Any] = (
            dict(send_defaults)
            if send_defaults is not None
            else get_send_defaults(self.settings_esp_name or self.esp_name)
        )
        # Like Django's own backends: fail_silently is ours to keep, and the
        # remaining options (alias, unknown keys) go to Django, which reports them.
        super().__init__(**kwargs)
        self.fail_silently = fail_silently

    def open(self) -> bool:
        """Open any connection the backend needs; True if this call opened it."""
        return False

    def close(self) -> None:
        pass

    def send_messages(self, email_messages: Iterable[EmailMessage]) -> int:
        """Send each message; return how many the ESP accepted.

        With ``fail_silently``, a *delivery* failure (the ESP's API failed or
        refused every recipient) is logged instead of raised, that message's
        ``anymail_status`` shows it, and the next message is sent. Errors in
        the message itself (invalid address, unsupported feature, unserializable
        data) still raise, as Django's SMTP backend raises for a malformed message.
        """
        email_messages = list(email_messages or [])
        if not email_messages:
            return 0
        try:
            created_connection = self.open()
        except AnymailError as err:
            # e.g. an SDK client that can't be created: nothing can be sent.
            if not (self.fail_silently and isinstance(err, FAIL_SILENTLY_ERRORS)):
                raise
            logger.warning("%s connection failed (fail_silently): %s", self.esp_name, err)
            return 0
        try:
            # (A single message, the usual case, is sent as it is: nothing to overlap.)
            if len(email_messages) > 1 and can_send_concurrently(self, email_messages):
                return send_concurrently(self, email_messages)
            return send_each(self, email_messages)
        finally:
            if created_connection:
                self.close()

    def build_message_payload(self, message: EmailMessage, defaults: Mapping[str, Any]) -> PayloadT:
        return cast(PayloadT, self.payload_class(message, defaults, self))

    def post_to_esp(self, payload: PayloadT, message: EmailMessage) -> Any:
        """Send the payload to the ESP; return its raw response."""
        raise NotImplementedError(f"{type(self).__name__} must implement post_to_esp()")

    def parse_recipient_status(
        self, response: Any, payload: PayloadT, message: EmailMessage
    ) -> dict[str, AnymailRecipientStatus]:
        """Map each recipient's addr_spec to its AnymailRecipientStatus."""
        raise NotImplementedError(f"{type(self).__name__} must implement parse_recipient_status()")

    def run_post_send(self, message: EmailMessage) -> None:
        """Send post_send to every receiver; afterwards re-raise the first error, if any."""
        results = post_send.send_robust(
            self.__class__,
            message=message,
            status=message.anymail_status,
            esp_name=self.esp_name,
        )
        for _receiver, result in results:
            if isinstance(result, Exception):
                raise result

    def raise_for_recipient_status(
        self, status: AnymailStatus, response: Any, payload: PayloadT, message: EmailMessage
    ) -> None:
        if self.ignore_recipient_status or not status.status:
            return
        if status.status <= {"invalid", "rejected"}:
            refused = ", ".join(
                f"{address} ({recipient.status})"
                for address, recipient in status.recipients.items()
            )
            raise AnymailRecipientsRefused(
                f"{self.esp_name} refused every recipient of the message: {refused}. "
                "See the message's anymail_status for details, or set ANYMAIL "
                "IGNORE_RECIPIENT_STATUS to True to treat this as sent.",
                email_message=message,
                payload=payload,
                response=response,
                backend=self,
            )
