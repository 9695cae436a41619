"""anymail.urls: every route named as the spec names it, importable without any extra."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve, reverse

from anymail.checks import routed_webhook_views
from anymail.urls import WEBHOOK_ROUTES, LazyWebhookView, WebhookRoute, webhook_urlpatterns

from .test_webhooks_base import SECRET, TinyTrackingWebhookView, auth
from .utils import run_django_script

#: The routes this issue adds (the later issues extend it with their ESPs' routes).
EXPECTED_ROUTES = {
    "amazon_ses_tracking_webhook": (
        "/anymail/amazon_ses/tracking/",
        "anymail.webhooks.amazon_ses.AmazonSESTrackingWebhookView",
    ),
    "amazon_ses_inbound_webhook": (
        "/anymail/amazon_ses/inbound/",
        "anymail.webhooks.amazon_ses.AmazonSESInboundWebhookView",
    ),
    "mailjet_tracking_webhook": (
        "/anymail/mailjet/tracking/",
        "anymail.webhooks.mailjet.MailjetTrackingWebhookView",
    ),
    "mailjet_inbound_webhook": (
        "/anymail/mailjet/inbound/",
        "anymail.webhooks.mailjet.MailjetInboundWebhookView",
    ),
    "postmark_tracking_webhook": (
        "/anymail/postmark/tracking/",
        "anymail.webhooks.postmark.PostmarkTrackingWebhookView",
    ),
    "postmark_inbound_webhook": (
        "/anymail/postmark/inbound/",
        "anymail.webhooks.postmark.PostmarkInboundWebhookView",
    ),
    "mailgun_tracking_webhook": (
        "/anymail/mailgun/tracking/",
        "anymail.webhooks.mailgun.MailgunTrackingWebhookView",
    ),
    "mailgun_inbound_webhook": (
        "/anymail/mailgun/inbound/",
        "anymail.webhooks.mailgun.MailgunInboundWebhookView",
    ),
    "mandrill_webhook": (
        "/anymail/mandrill/",
        "anymail.webhooks.mandrill.MandrillCombinedWebhookView",
    ),
    "mandrill_tracking_webhook": (
        "/anymail/mandrill/tracking/",
        "anymail.webhooks.mandrill.MandrillCombinedWebhookView",
    ),
    "sendgrid_tracking_webhook": (
        "/anymail/sendgrid/tracking/",
        "anymail.webhooks.sendgrid.SendGridTrackingWebhookView",
    ),
    "sendgrid_inbound_webhook": (
        "/anymail/sendgrid/inbound/",
        "anymail.webhooks.sendgrid.SendGridInboundWebhookView",
    ),
    "brevo_tracking_webhook": (
        "/anymail/brevo/tracking/",
        "anymail.webhooks.brevo.BrevoTrackingWebhookView",
    ),
    "brevo_inbound_webhook": (
        "/anymail/brevo/inbound/",
        "anymail.webhooks.brevo.BrevoInboundWebhookView",
    ),
    "sendinblue_tracking_webhook": (
        "/anymail/sendinblue/tracking/",
        "anymail.webhooks.sendinblue.SendinBlueTrackingWebhookView",
    ),
    "sendinblue_inbound_webhook": (
        "/anymail/sendinblue/inbound/",
        "anymail.webhooks.sendinblue.SendinBlueInboundWebhookView",
    ),
    "postal_tracking_webhook": (
        "/anymail/postal/tracking/",
        "anymail.webhooks.postal.PostalTrackingWebhookView",
    ),
    "postal_inbound_webhook": (
        "/anymail/postal/inbound/",
        "anymail.webhooks.postal.PostalInboundWebhookView",
    ),
    "sparkpost_tracking_webhook": (
        "/anymail/sparkpost/tracking/",
        "anymail.webhooks.sparkpost.SparkPostTrackingWebhookView",
    ),
    "sparkpost_inbound_webhook": (
        "/anymail/sparkpost/inbound/",
        "anymail.webhooks.sparkpost.SparkPostInboundWebhookView",
    ),
    "scaleway_tracking_webhook": (
        "/anymail/scaleway/tracking/",
        "anymail.webhooks.scaleway.ScalewayTrackingWebhookView",
    ),
    "resend_tracking_webhook": (
        "/anymail/resend/tracking/",
        "anymail.webhooks.resend.ResendTrackingWebhookView",
    ),
    "resend_inbound_webhook": (
        "/anymail/resend/inbound/",
        "anymail.webhooks.resend.ResendInboundWebhookView",
    ),
}
#: Other URLs of a route (Mailgun's "_mime" suffix only tells Mailgun to post raw MIME).
EXTRA_URLS = {"/anymail/mailgun/inbound_mime/": "mailgun_inbound_webhook"}

tiny_patterns = webhook_urlpatterns(
    [
        WebhookRoute(
            "anymail/tiny/tracking/",
            "tests.test_webhooks_base.TinyTrackingWebhookView",
            "tiny_tracking_webhook",
        ),
        WebhookRoute(
            r"^anymail/tiny/inbound(_mime)?/$",
            "tests.test_webhooks_base.TinyTrackingWebhookView",
            "tiny_inbound_webhook",
            regex=True,
        ),
        WebhookRoute(
            "anymail/missing/tracking/",
            "tests.no_such_module.MissingTrackingWebhookView",
            "missing_tracking_webhook",
        ),
    ]
)

urlpatterns = tiny_patterns
lazy_urls = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def test_routes_are_named_as_the_spec_names_them() -> None:
    assert {route.name: route.view for route in WEBHOOK_ROUTES} == {
        name: view for name, (url, view) in EXPECTED_ROUTES.items()
    }
    for name, (url, view) in EXPECTED_ROUTES.items():
        assert reverse(name) == url
        match = resolve(url)
        assert match.url_name == name
        assert match.func.view_path == view  # type: ignore[attr-defined]
    for url, name in EXTRA_URLS.items():
        assert resolve(url).url_name == name


def test_route_names_are_unique() -> None:
    names = [route.name for route in WEBHOOK_ROUTES]
    assert len(names) == len(set(names))


def test_including_the_urls_needs_no_extra_and_imports_no_esp_module() -> None:
    # A fresh interpreter in which boto3 and cryptography cannot be imported.
    script = textwrap.dedent(
        """
        import importlib.abc, sys

        BLOCKED = ("boto3", "botocore", "cryptography")

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is blocked")
                return None

        sys.meta_path.insert(0, Block())
        import django
        from django.conf import settings
        # (Webhooks of ESPs that sign nothing warn without a secret.)
        settings.ANYMAIL = {"WEBHOOK_SECRET": "checkcheckcheckc:heckcheckcheckch"}
        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        # Routed views of ESPs that only use basic auth warn without a secret.
        settings.ANYMAIL = {"WEBHOOK_SECRET": "urlsurlsurlsurls:urlsurlsurlsurls"}
        from django.urls import resolve, reverse
        call_command("check", fail_level="ERROR")  # no WEBHOOK_SECRET here: warnings
        from anymail.urls import WEBHOOK_ROUTES
        for route in WEBHOOK_ROUTES:
            resolve(reverse(route.name))
        # Django's reverse() and the checks read the views' classes, which imports
        # the ESPs' webhook modules: they must need none of the extras.
        loaded = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
        print("loaded:", loaded)
        """
    )
    stdout = run_django_script(script)
    assert stdout.strip().endswith("loaded: []")


@lazy_urls
def test_a_lazily_routed_view_is_imported_at_its_first_request(received: list[Any]) -> None:
    callback = resolve("/anymail/tiny/tracking/").func
    assert isinstance(callback, LazyWebhookView)
    assert repr(callback) == "LazyWebhookView('tests.test_webhooks_base.TinyTrackingWebhookView')"
    assert callback.view_class is TinyTrackingWebhookView
    # CSRF- and login-exempt like the view itself: the middleware looks at the callback.
    client = Client(enforce_csrf_checks=True)
    body = '[{"type": "delivered", "id": "m1"}]'
    response = client.post(
        "/anymail/tiny/tracking/", body, content_type="application/json", **auth(SECRET)
    )
    assert response.status_code == 200
    assert reverse("tiny_inbound_webhook") == "/anymail/tiny/inbound/"
    assert resolve("/anymail/tiny/inbound_mime/").url_name == "tiny_inbound_webhook"


@lazy_urls
def test_login_required_middleware_leaves_lazy_routes_alone(
    settings: Any, received: list[Any]
) -> None:
    settings.MIDDLEWARE = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    body = '[{"type": "delivered", "id": "m1"}]'
    response = Client().post(
        "/anymail/tiny/tracking/", body, content_type="application/json", **auth(SECRET)
    )
    assert response.status_code == 200


@lazy_urls
def test_an_unimportable_view_fails_at_its_request_not_at_url_loading() -> None:
    assert reverse("missing_tracking_webhook") == "/anymail/missing/tracking/"
    callback = resolve("/anymail/missing/tracking/").func
    assert not hasattr(callback, "view_class")
    with pytest.raises(ImportError):
        Client().post("/anymail/missing/tracking/", b"{}", content_type="application/json")


@lazy_urls
def test_checks_see_lazily_routed_views() -> None:
    assert routed_webhook_views() == [TinyTrackingWebhookView, TinyTrackingWebhookView]


@pytest.fixture
def received() -> Any:
    from anymail.testing import captured_events

    with captured_events() as events:
        yield events
