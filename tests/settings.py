"""Minimal Django settings for Anymail's test suite."""

import django

SECRET_KEY = "anymail-tests-not-secret"
USE_TZ = True
TIME_ZONE = "America/New_York"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "anymail"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "tests.urls"
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
DEFAULT_FROM_EMAIL = "from@example.com"

# Django's Tasks framework (the django-tasks backport before Django 6), for the queued
# backend: tasks run at once by default; "dummy" only records them.
_TASKS = "django.tasks" if django.VERSION >= (6, 0) else "django_tasks"
TASKS = {
    "default": {"BACKEND": f"{_TASKS}.backends.immediate.ImmediateBackend"},
    "dummy": {
        "BACKEND": f"{_TASKS}.backends.dummy.DummyBackend",
        "QUEUES": ["default", "email"],
    },
}
