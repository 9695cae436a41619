"""A URLconf without Anymail's webhooks (for the Amazon SES system checks)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
