"""The contract suite's URLconf: Anymail's routes plus the test-only Dummy ESP."""

from django.urls import include, path

from . import dummy_esp

urlpatterns = [path("anymail/", include("anymail.urls")), *dummy_esp.urlpatterns]
