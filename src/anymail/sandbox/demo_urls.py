"""The URLs of ``anymail demo --e2e``'s in-process app: Anymail's webhooks only."""

from django.urls import include, path

urlpatterns = [path("anymail/", include("anymail.urls"))]
