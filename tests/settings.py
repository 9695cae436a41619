"""Minimal Django settings for Anymail's test suite."""

SECRET_KEY = "anymail-tests-not-secret"
USE_TZ = True
TIME_ZONE = "America/New_York"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "anymail"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "tests.urls"
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
DEFAULT_FROM_EMAIL = "from@example.com"
