"""Background sending: a backend that queues each message as a task of Django's Tasks framework.

``send_messages()`` turns each message into JSON (:mod:`anymail.serialization`)
and enqueues one :func:`anymail.tasks.send_email_message` task per message, on
transaction commit by default; it never talks to the ESP. A task worker (the
database worker of django-tasks-db, RQ, Celery ... whatever the task backend
is) sends it through the wrapped backend, with retries (:mod:`anymail.retry`).

Options (backend keyword arguments, Django 6.1 ``MAILERS`` OPTIONS, or ANYMAIL
settings prefixed ``QUEUED_``):

- ``mailer``: the alias of the Django 6.1 mailer that sends (e.g. "transactional"), or
- ``delivery_backend``: the dotted path of the backend that sends, with
  ``delivery_options`` (a dict of its options; no secrets: task arguments are stored
  in plain text, so credentials belong in settings);
- ``task_backend``, ``queue_name``, ``priority``: where the task goes (Django's
  "default" backend and queue, priority 0);
- ``enqueue_on_commit``: True (default) to enqueue when the current database
  transaction commits (never, if it rolls back), False to enqueue at once.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any, ClassVar, Final

import django
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils.module_loading import import_string

from .._settings_registry import class_settings
from .._tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME, InvalidTask
from ..conf import BOOL, DICT, STRING, Setting, SettingType, get_bool, get_setting
from ..exceptions import AnymailImproperlyConfigured, AnymailInvalidMailer
from ..serialization import message_to_json
from .base import FAIL_SILENTLY

logger = logging.getLogger("anymail")

#: The settings prefix of this backend's options (ANYMAIL["QUEUED_TASK_BACKEND"] ...).
ESP_NAME: Final = "Queued"

MAILER: Final = Setting(
    "mailer",
    STRING,
    "The Django 6.1 MAILERS alias that sends the queued messages (or set delivery_backend).",
    default=None,
)
DELIVERY_BACKEND: Final = Setting(
    "delivery_backend",
    STRING,
    "Dotted path of the backend that sends the queued messages (or set mailer).",
    default=None,
)
DELIVERY_OPTIONS: Final = Setting(
    "delivery_options",
    DICT,
    "Options for delivery_backend; stored with each task, so no credentials.",
    default=None,
)
TASK_BACKEND: Final = Setting(
    "task_backend",
    STRING,
    "The TASKS alias the send tasks are enqueued on.",
    default=DEFAULT_TASK_BACKEND_ALIAS,
)
QUEUE_NAME: Final = Setting(
    "queue_name", STRING, "The task queue the send tasks go to.", default=DEFAULT_TASK_QUEUE_NAME
)
PRIORITY: Final = Setting(
    "priority", SettingType("whole number"), "The send tasks' priority.", default=0
)
ENQUEUE_ON_COMMIT: Final = Setting(
    "enqueue_on_commit",
    BOOL,
    "Enqueue when the current database transaction commits (never if it rolls back).",
    default=True,
)

#: An option name that looks like a credential (for a backend that declares none).
_CREDENTIAL_WORDS: Final = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)


class EmailBackend(BaseEmailBackend):
    """Queues messages for a task worker, which sends them through another backend."""

    esp_name: ClassVar[str] = ESP_NAME
    declared_settings: ClassVar[tuple[Setting, ...]] = (
        FAIL_SILENTLY,
        MAILER,
        DELIVERY_BACKEND,
        DELIVERY_OPTIONS,
        TASK_BACKEND,
        QUEUE_NAME,
        PRIORITY,
        ENQUEUE_ON_COMMIT,
    )

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        def option(setting: Setting) -> Any:
            # Checked below, in this backend's words (and as a MAILERS error for an alias).
            return get_setting(setting, ESP_NAME, kwargs, check=False)

        mailer = option(MAILER)
        delivery_backend = option(DELIVERY_BACKEND)
        delivery_options = option(DELIVERY_OPTIONS)
        task_backend = option(TASK_BACKEND)
        queue_name = option(QUEUE_NAME)
        priority = option(PRIORITY)
        self.enqueue_on_commit = get_bool(ENQUEUE_ON_COMMIT, ESP_NAME, kwargs)
        self._alias = kwargs.get("alias")
        super().__init__(**kwargs)
        self.fail_silently = fail_silently
        self.delivery = self._delivery(mailer, delivery_backend, delivery_options)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise self._config_error(f"priority must be a whole number, not {priority!r}.")

        from ..tasks import send_email_message  # (imports the Tasks framework)

        try:
            self.task = send_email_message.using(
                backend=task_backend, queue_name=queue_name, priority=priority
            )
        except (InvalidTask, ImproperlyConfigured) as err:
            raise self._config_error(
                f"the task backend {task_backend!r} can't take the send task "
                f"(queue {queue_name!r}, priority {priority}): {err}"
            ) from err

    def _config_error(self, problem: str) -> AnymailImproperlyConfigured:
        if self._alias is not None:
            return AnymailInvalidMailer(problem[0].upper() + problem[1:], alias=self._alias)
        return AnymailImproperlyConfigured(f"Invalid queued email backend options: {problem}")

    def _delivery(self, mailer: Any, backend: Any, options: Any) -> dict[str, Any]:
        """The JSON description of the backend the worker sends with (checked now)."""
        if (mailer is None) == (backend is None):
            raise self._config_error(
                "set either mailer (a Django 6.1 MAILERS alias) or delivery_backend (a dotted "
                "path to the backend that sends), not both or neither."
            )
        if mailer is not None:
            if options is not None:
                raise self._config_error(
                    "delivery_options go with delivery_backend; a mailer has its own OPTIONS."
                )
            if django.VERSION < (6, 1):
                raise self._config_error(
                    "mailer needs Django 6.1 MAILERS; use delivery_backend instead."
                )
            from django.core.mail import mailers

            if mailer not in mailers:
                raise self._config_error(f"mailer {mailer!r} is not in MAILERS.")
            self._refuse_loop(type(mailers[mailer]))
            delivery: dict[str, Any] = {"mailer": mailer}
        else:
            if not isinstance(backend, str):
                raise self._config_error("delivery_backend must be a dotted path (a str).")
            if options is not None and not isinstance(options, dict):
                raise self._config_error("delivery_options must be a dict.")
            try:
                backend_class = import_string(backend)
            except ImportError as err:
                raise self._config_error(
                    f"can't import delivery_backend {backend!r}: {err}"
                ) from err
            if not isinstance(backend_class, type) or not issubclass(
                backend_class, BaseEmailBackend
            ):
                raise self._config_error(f"delivery_backend {backend!r} is not an email backend.")
            self._refuse_loop(backend_class)
            secrets = {setting.name for setting in class_settings(backend_class) if setting.secret}
            for name in options or {}:
                if str(name) in secrets or _CREDENTIAL_WORDS.search(str(name)):
                    raise self._config_error(
                        f"delivery_options can't hold {name!r}: task backends store task "
                        "arguments in plain text. Put it in your ANYMAIL settings instead."
                    )
            # Made once here, so a missing setting shows now rather than in the worker.
            backend_class(**(options or {}))
            delivery = {"backend": backend, "options": dict(options or {})}
        return delivery

    def _refuse_loop(self, backend_class: type) -> None:
        if issubclass(backend_class, EmailBackend):
            raise self._config_error("the delivery backend can't be a queued backend itself.")

    def send_messages(self, email_messages: Iterable[EmailMessage]) -> int:
        """Enqueue one task per message; return how many were (or will be, on commit) queued.

        Every message is turned into JSON first: one that can't be raises
        AnymailSerializationError, and none of the messages is queued.
        """
        jobs = [message_to_json(message) for message in email_messages or []]
        queued = 0
        for data in jobs:
            if self.enqueue_on_commit:
                transaction.on_commit(
                    functools.partial(self._enqueue, data), robust=self.fail_silently
                )
                queued += 1
            elif self._enqueue(data):
                queued += 1
        return queued

    def _enqueue(self, data: dict[str, Any]) -> bool:
        try:
            result = self.task.enqueue(data, self.delivery)
        except Exception as err:
            if not self.fail_silently:
                raise
            logger.warning("Could not queue a message (fail_silently): %s", err)
            return False
        logger.info(
            "Queued a message as task %s (task backend %r, queue %r)",
            result.id,
            self.task.backend,
            self.task.queue_name,
        )
        return True
