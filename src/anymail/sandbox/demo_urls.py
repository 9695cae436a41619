"""The URLs of ``anymail demo``'s in-process app: Anymail's webhooks only."""

from django.urls import include, path

urlpatterns = [path("anymail/", include("anymail.urls"))]
