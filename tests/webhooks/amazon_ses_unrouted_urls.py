"""A URLconf without Anymail's webhooks (for the system checks about routed views)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
