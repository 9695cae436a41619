"""Anymail's webhook routes: ``path("anymail/", include("anymail.urls"))``.

Each ESP adds ``<esp>/tracking/`` and ``<esp>/inbound/`` here, named
``<esp>_tracking_webhook`` and ``<esp>_inbound_webhook``.
"""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
