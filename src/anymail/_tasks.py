"""Django's Tasks framework: ``django.tasks`` on Django 6+, the ``django-tasks`` backport before."""

from __future__ import annotations

import django

from .exceptions import AnymailImproperlyInstalled

if django.VERSION >= (6, 0):
    from django.tasks import (
        DEFAULT_TASK_BACKEND_ALIAS,
        DEFAULT_TASK_QUEUE_NAME,
        TaskContext,
        task,
        task_backends,
    )
    from django.tasks.exceptions import InvalidTask, InvalidTaskBackend
else:
    try:
        from django_tasks import (
            DEFAULT_TASK_BACKEND_ALIAS,
            DEFAULT_TASK_QUEUE_NAME,
            TaskContext,
            task,
            task_backends,
        )
        from django_tasks.exceptions import InvalidTaskBackendError as InvalidTaskBackend
        from django_tasks.exceptions import InvalidTaskError as InvalidTask
    except ImportError as err:
        raise AnymailImproperlyInstalled("django-tasks", install_extra="queued") from err

__all__ = [
    "DEFAULT_TASK_BACKEND_ALIAS",
    "DEFAULT_TASK_QUEUE_NAME",
    "InvalidTask",
    "InvalidTaskBackend",
    "TaskContext",
    "task",
    "task_backends",
]
