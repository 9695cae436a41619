"""Settings for the queued-sending end-to-end test: a SQLite file shared by the process
that queues and the django-tasks-db workers, and a fake ESP on 127.0.0.1.

The test passes the database path and the fake ESP's URL in the environment.
"""

import os

import django

SECRET_KEY = "anymail-e2e-not-secret"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "anymail",
    "django_tasks_db",
    *(["django_tasks"] if django.VERSION < (6, 0) else []),
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["ANYMAIL_E2E_DB"],
        # Two workers and the queuing process share the file.
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

ESP_URL = os.environ["ANYMAIL_E2E_ESP_URL"]
ANYMAIL = {
    "RESEND_API_KEY": "re_e2e_key",
    "RESEND_API_URL": f"{ESP_URL}/resend/",
    "POSTMARK_SERVER_TOKEN": "e2e-server-token",
    "POSTMARK_API_URL": f"{ESP_URL}/postmark/",
    # (connect, read): the fake ESP's "read timeout" fault answers after 3 s. (Short, to
    # keep the test quick; long enough that a busy machine doesn't time out others.)
    "REQUESTS_TIMEOUT": (10, 1.5),
    # Short waits, so that the test runs in seconds (Retry-After is still honoured).
    "RETRY_BACKOFF": 0.01,
    "RETRY_MAX_BACKOFF": 0.05,
    "RETRY_MAX_ATTEMPTS": 6,
    "RETRY_DEADLINE": 60,
}
if django.VERSION >= (6, 1):
    # Resend through a mailer alias, Postmark by delivery_backend (on Django 5.2,
    # enqueue.py makes the same two queued backends with get_connection()).
    MAILERS = {
        "default": {
            "BACKEND": "anymail.backends.queued.EmailBackend",
            "OPTIONS": {"mailer": "resend"},
        },
        "resend": {"BACKEND": "anymail.backends.resend.EmailBackend"},
        "postmark_queued": {
            "BACKEND": "anymail.backends.queued.EmailBackend",
            "OPTIONS": {
                "delivery_backend": "anymail.backends.postmark.EmailBackend",
                "enqueue_on_commit": False,
            },
        },
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"anymail": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
}
