"""Anymail's webhook routes: ``path("anymail/", include("anymail.urls"))``.

The routes are data (:data:`WEBHOOK_ROUTES`): a path, the view class and the URL
name the spec gives it, for every ESP that posts webhooks (``<esp>_tracking_webhook``,
``<esp>_inbound_webhook``; Mandrill's combined ``mandrill_webhook``; Mailgun's
``inbound_mime`` URL reaches ``mailgun_inbound_webhook``; the deprecated
``sendinblue_*`` routes; Scaleway has a tracking route only, as TEM receives no mail).
A view module is imported when first needed (a request, ``reverse()``, the checks),
never when the URLconf loads, and no view module needs an ESP extra (boto3,
cryptography) until it verifies or fetches something.
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
        "mailjet/tracking/",
        "anymail.webhooks.mailjet.MailjetTrackingWebhookView",
        "mailjet_tracking_webhook",
    ),
    WebhookRoute(
        "mailjet/inbound/",
        "anymail.webhooks.mailjet.MailjetInboundWebhookView",
        "mailjet_inbound_webhook",
    ),
    WebhookRoute(
        "postmark/tracking/",
        "anymail.webhooks.postmark.PostmarkTrackingWebhookView",
        "postmark_tracking_webhook",
    ),
    WebhookRoute(
        "postmark/inbound/",
        "anymail.webhooks.postmark.PostmarkInboundWebhookView",
        "postmark_inbound_webhook",
    ),
    WebhookRoute(
        "mailgun/tracking/",
        "anymail.webhooks.mailgun.MailgunTrackingWebhookView",
        "mailgun_tracking_webhook",
    ),
    WebhookRoute(
        # One view: the "_mime" suffix only tells Mailgun to post raw MIME.
        r"^mailgun/inbound(?:_mime)?/$",
        "anymail.webhooks.mailgun.MailgunInboundWebhookView",
        "mailgun_inbound_webhook",
        regex=True,
    ),
    WebhookRoute(
        "mandrill/", "anymail.webhooks.mandrill.MandrillCombinedWebhookView", "mandrill_webhook"
    ),
    WebhookRoute(
        "mandrill/tracking/",
        "anymail.webhooks.mandrill.MandrillCombinedWebhookView",
        "mandrill_tracking_webhook",
    ),
    WebhookRoute(
        "sendgrid/tracking/",
        "anymail.webhooks.sendgrid.SendGridTrackingWebhookView",
        "sendgrid_tracking_webhook",
    ),
    WebhookRoute(
        "sendgrid/inbound/",
        "anymail.webhooks.sendgrid.SendGridInboundWebhookView",
        "sendgrid_inbound_webhook",
    ),
    WebhookRoute(
        "brevo/tracking/",
        "anymail.webhooks.brevo.BrevoTrackingWebhookView",
        "brevo_tracking_webhook",
    ),
    WebhookRoute(
        "brevo/inbound/",
        "anymail.webhooks.brevo.BrevoInboundWebhookView",
        "brevo_inbound_webhook",
    ),
    # Deprecated: SendinBlue is now Brevo (the views warn when used).
    WebhookRoute(
        "sendinblue/tracking/",
        "anymail.webhooks.sendinblue.SendinBlueTrackingWebhookView",
        "sendinblue_tracking_webhook",
    ),
    WebhookRoute(
        "sendinblue/inbound/",
        "anymail.webhooks.sendinblue.SendinBlueInboundWebhookView",
        "sendinblue_inbound_webhook",
    ),
    WebhookRoute(
        "postal/tracking/",
        "anymail.webhooks.postal.PostalTrackingWebhookView",
        "postal_tracking_webhook",
    ),
    WebhookRoute(
        "postal/inbound/",
        "anymail.webhooks.postal.PostalInboundWebhookView",
        "postal_inbound_webhook",
    ),
    WebhookRoute(
        "sparkpost/tracking/",
        "anymail.webhooks.sparkpost.SparkPostTrackingWebhookView",
        "sparkpost_tracking_webhook",
    ),
    WebhookRoute(
        "sparkpost/inbound/",
        "anymail.webhooks.sparkpost.SparkPostInboundWebhookView",
        "sparkpost_inbound_webhook",
    ),
    WebhookRoute(
        "scaleway/tracking/",
        "anymail.webhooks.scaleway.ScalewayTrackingWebhookView",
        "scaleway_tracking_webhook",
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
