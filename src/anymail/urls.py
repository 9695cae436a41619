"""Anymail's webhook routes: ``path("anymail/", include("anymail.urls"))``.

The routes are data (:data:`WEBHOOK_ROUTES`): a path, the view class and the URL
name the spec gives it. A view is imported at its first request, not when the
URLconf loads, so including these URLs imports no ESP module and needs none of
the ESP extras (boto3, cryptography).

Routes arrive with their ESP's views; later issues add, named as the spec names them:

- ``brevo/tracking/`` ``brevo_tracking_webhook``, ``brevo/inbound/`` ``brevo_inbound_webhook``,
  and the legacy ``sendinblue/tracking/`` ``sendinblue_tracking_webhook``,
  ``sendinblue/inbound/`` ``sendinblue_inbound_webhook``;
- ``mailgun/tracking/`` ``mailgun_tracking_webhook``, and one pattern
  ``mailgun/inbound(_mime)?/`` ``mailgun_inbound_webhook`` (the ``_mime`` suffix only
  tells Mailgun to post raw MIME);
- ``mailjet/tracking/`` and ``mailjet/inbound/`` (``mailjet_*_webhook``);
- ``mandrill/`` ``mandrill_webhook`` (tracking and inbound in one view), and the legacy
  ``mandrill/tracking/`` ``mandrill_tracking_webhook`` to the same view;
- ``postal/``, ``postmark/``, ``sendgrid/`` and ``sparkpost/``, each with
  ``tracking/`` and ``inbound/`` (``<esp>_tracking_webhook``, ``<esp>_inbound_webhook``).

Scaleway has no webhook route: the spec defines none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class WebhookRoute:
    route: str  # relative to the include() prefix; a regex when `regex` is set
    view: str  # dotted path of the view class
    name: str
    regex: bool = False


WEBHOOK_ROUTES: tuple[WebhookRoute, ...] = (
    WebhookRoute(
        "amazon_ses/tracking/",
        "anymail.webhooks.amazon_ses.AmazonSESTrackingWebhookView",
        "amazon_ses_tracking_webhook",
    ),
    WebhookRoute(
        "amazon_ses/inbound/",
        "anymail.webhooks.amazon_ses.AmazonSESInboundWebhookView",
        "amazon_ses_inbound_webhook",
    ),
    WebhookRoute(
        "resend/tracking/",
        "anymail.webhooks.resend.ResendTrackingWebhookView",
        "resend_tracking_webhook",
    ),
    WebhookRoute(
        "resend/inbound/",
        "anymail.webhooks.resend.ResendInboundWebhookView",
        "resend_inbound_webhook",
    ),
)


class LazyWebhookView:
    """A URLconf callback that imports its view class at the first request.

    Django's CSRF and login-required middleware read their exemptions from the
    callback itself, before it runs: they are stated here, as every Anymail
    webhook view has them.
    """

    csrf_exempt = True
    login_required = False

    def __init__(self, view_path: str) -> None:
        self.view_path = view_path
        # What Django's URL introspection (lookup_str, checks) reads off a callback.
        self.__module__, _, self.__name__ = view_path.rpartition(".")
        self.__qualname__ = self.__name__
        self._view: Any = None

    def __repr__(self) -> str:
        return f"LazyWebhookView({self.view_path!r})"

    def resolve(self) -> Any:
        """The view function (``ViewClass.as_view()``), importing it the first time."""
        if self._view is None:
            self._view = import_string(self.view_path).as_view()
        return self._view

    @property
    def view_class(self) -> type:
        # AttributeError when the view can't be imported (an ESP extra is missing):
        # introspection (Django's reverse(), Anymail's checks) then skips it, and the
        # ImportError is raised, with its install hint, when the URL is requested.
        try:
            return self.resolve().view_class
        except ImportError as err:
            raise AttributeError(f"{self.view_path} is not importable: {err}") from None

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.resolve()(request, *args, **kwargs)


def webhook_urlpatterns(routes: Iterable[WebhookRoute]) -> list[URLPattern]:
    return [
        (re_path if route.regex else path)(
            route.route, LazyWebhookView(route.view), name=route.name
        )
        for route in routes
    ]


urlpatterns = webhook_urlpatterns(WEBHOOK_ROUTES)
