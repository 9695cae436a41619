"""The shared webhook view (anymail.webhooks.base), through a tiny in-test ESP view.

The behaviour every ESP view shares (auth, signatures, freshness, dedupe, hostile
bodies) is also run per ESP by the contract suite in tests/webhooks/contract/.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from anymail.exceptions import (
    AnymailImproperlyConfigured,
    AnymailInsecureWebhookWarning,
    AnymailWebhookValidationFailure,
)
from anymail.signals import AnymailTrackingEvent, tracking
from anymail.webhooks import base as webhooks_base
from anymail.webhooks._payload import json_objects
from anymail.webhooks.base import AnymailBaseWebhookView

SECRET = "abcdefghijklmnop:qrstuvwxyz012345"
OLD_SECRET = "OLDabcdefghijklm:OLDnopqrstuvwxyz"


class TinyTrackingWebhookView(AnymailBaseWebhookView):
    esp_name = "Tiny"
    signal = tracking

    def validate_request(self, request: HttpRequest) -> None:
        if request.headers.get("X-Tiny-Signature") == "forged":
            raise AnymailWebhookValidationFailure("Tiny webhook signature mismatch")

    def parse_events(self, request: HttpRequest) -> list[Any]:
        return [
            AnymailTrackingEvent(item.text("type"), message_id=item.text("id"), esp_event=item.data)
            for item in json_objects(self.json_body(request))
        ]


def ordinary_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ordinary")


urlpatterns = [
    path("anymail/tiny/tracking/", TinyTrackingWebhookView.as_view()),
    path(
        "anymail/tiny/tracking-custom/",
        TinyTrackingWebhookView.as_view(webhook_secret="customcustomcust:omcustomcustomcu"),
    ),
    path("ordinary/", ordinary_view),
]

pytestmark = pytest.mark.urls(__name__)
URL = "/anymail/tiny/tracking/"
BODY = json.dumps([{"type": "delivered", "id": "m1"}, {"type": "opened", "id": "m1"}])
OTHER_BODY = json.dumps([{"type": "clicked", "id": "m2"}])


def auth(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> Any:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    return settings


@pytest.fixture
def received() -> Iterator[list[tuple[Any, Any, str]]]:
    events: list[tuple[Any, Any, str]] = []

    def receiver(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
        events.append((sender, event, esp_name))

    tracking.connect(receiver, weak=False)
    yield events
    tracking.disconnect(receiver)


def post(client: Client, body: str = BODY, url: str = URL, **extra: Any) -> Any:
    return client.post(url, body, content_type="application/json", **extra)


def test_authorized_post_dispatches_each_event(client: Client, received: list[Any]) -> None:
    response = post(client, **auth(SECRET))
    assert response.status_code == 200
    assert [
        (sender, event.event_type, event.message_id, esp) for sender, event, esp in received
    ] == [
        (TinyTrackingWebhookView, "delivered", "m1", "Tiny"),
        (TinyTrackingWebhookView, "opened", "m1", "Tiny"),
    ]
    assert received[0][1].esp_event == {"type": "delivered", "id": "m1"}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        auth("abcdefghijklmnop:wrong"),
        auth(SECRET + "x"),
        {"HTTP_AUTHORIZATION": "Bearer " + SECRET},
        {"HTTP_AUTHORIZATION": "Basic not-base64!"},
    ],
    ids=["missing", "wrong", "longer", "not-basic", "garbage"],
)
def test_bad_basic_auth_is_400_and_dispatches_nothing(
    client: Client, received: list[Any], extra: dict[str, str]
) -> None:
    response = post(client, **extra)
    assert response.status_code == 400
    assert received == []


def test_validation_failure_message_says_what_to_check(rf: Any) -> None:
    view = TinyTrackingWebhookView()
    with pytest.raises(AnymailWebhookValidationFailure) as excinfo:
        view.validate_basic_auth(rf.post(URL))
    assert str(excinfo.value) == (
        "Missing or invalid basic auth in Anymail Tiny webhook. Check that the credentials "
        "in the webhook URL at your ESP match ANYMAIL WEBHOOK_SECRET (and that your web "
        "server passes the Authorization header)."
    )
    assert SECRET not in str(excinfo.value)


def test_secret_list_allows_rotation(settings: Any, client: Client, received: list[Any]) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": [OLD_SECRET, SECRET]}
    assert post(client, BODY, **auth(OLD_SECRET)).status_code == 200
    assert post(client, OTHER_BODY, **auth(SECRET)).status_code == 200
    assert post(client, **auth("someone:else")).status_code == 400
    assert len(received) == 3


def test_every_secret_is_compared_in_constant_time(
    settings: Any, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET, OLD_SECRET]}
    compared: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def recording_compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(webhooks_base.hmac, "compare_digest", recording_compare_digest)
    assert post(client, **auth(SECRET)).status_code == 200
    # No early exit on the first match: both secrets were compared.
    assert compared == [(SECRET.encode(), SECRET.encode()), (SECRET.encode(), OLD_SECRET.encode())]


def test_as_view_webhook_secret_overrides_the_setting(client: Client, received: list[Any]) -> None:
    url = "/anymail/tiny/tracking-custom/"
    assert post(client, url=url, **auth(SECRET)).status_code == 400
    assert post(client, url=url, **auth("customcustomcust:omcustomcustomcu")).status_code == 200


@pytest.mark.parametrize(
    "secret", ["", "  ", ":", [SECRET, ""], []], ids=["empty", "blank", "colon", "list", "none"]
)
def test_empty_secret_is_a_configuration_error_not_auth_off(
    settings: Any, received: list[Any], secret: Any
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": secret}
    client = Client(raise_request_exception=False)
    for extra in ({}, auth(SECRET), auth(":"), {"HTTP_AUTHORIZATION": "Basic "}):
        assert post(client, **extra).status_code == 500
    assert received == []
    with pytest.raises(AnymailImproperlyConfigured, match="would turn webhook basic auth off"):
        post(Client())


@pytest.mark.parametrize("secret", ["", " ", [""]])
def test_as_view_with_an_empty_secret_fails_when_the_urlconf_loads(secret: Any) -> None:
    with pytest.raises(AnymailImproperlyConfigured) as excinfo:
        TinyTrackingWebhookView.as_view(webhook_secret=secret)
    assert str(excinfo.value).startswith("Invalid webhook_secret argument of as_view(): ")


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"HTTP_AUTHORIZATION": ""},
        {"HTTP_AUTHORIZATION": "Basic"},
        {"HTTP_AUTHORIZATION": "Basic "},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Basic not-base64!"},
        {"HTTP_AUTHORIZATION": "Basic Zü=="},
    ],
    ids=["absent", "empty", "scheme-only", "basic-empty", "not-basic", "garbage", "non-ascii"],
)
def test_absent_other_or_undecodable_auth_matches_no_secret_even_an_empty_one(
    rf: Any, extra: dict[str, str]
) -> None:
    view = TinyTrackingWebhookView()
    # Defence in depth: even if an empty secret got past the settings checks.
    view.basic_auth = [b"", SECRET.encode()]
    with pytest.raises(AnymailWebhookValidationFailure):
        view.validate_basic_auth(rf.post(URL, **extra))


def test_malformed_payload_is_400_with_a_reason(client: Client, received: list[Any]) -> None:
    response = post(client, body="{not json", **auth(SECRET))
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain"
    assert response.content.decode() == (
        "Malformed Tiny webhook payload: body is not valid JSON (line 1, column 2)."
    )
    assert received == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('[{"id": "m1"}]', "body[0].type is missing."),
        ('[{"type": null, "id": "m1"}]', "body[0].type is null."),
        ('[{"type": ["x"], "id": "m1"}]', "body[0].type should be text, not a list."),
        ('{"type": "x"}', "body should be a list, not an object."),
        ("[1]", "body[0] should be an object, not a number."),
        ("null", "body should be a list, not null."),
    ],
)
def test_unexpected_payload_shapes_are_400_not_500(
    client: Client, received: list[Any], body: str, reason: str
) -> None:
    response = post(client, body=body, **auth(SECRET))
    assert response.status_code == 400
    assert response.content.decode() == f"Malformed Tiny webhook payload: {reason}"
    assert received == []


def test_a_bug_in_parsing_is_500_not_400(
    client: Client, received: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 400 would tell the ESP never to retry: our own bugs must not look like bad input.
    def buggy(self: Any, request: HttpRequest) -> list[Any]:
        return [{}["missing"]]

    monkeypatch.setattr(TinyTrackingWebhookView, "parse_events", buggy)
    response = post(Client(raise_request_exception=False), **auth(SECRET))
    assert response.status_code == 500
    with pytest.raises(KeyError):
        post(client, **auth(SECRET))
    assert received == []


def test_failed_signature_check_is_400(client: Client, received: list[Any]) -> None:
    response = post(client, HTTP_X_TINY_SIGNATURE="forged", **auth(SECRET))
    assert response.status_code == 400
    assert received == []


def test_receiver_error_is_500_and_logged(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    def failing(sender: Any, event: Any, **kwargs: Any) -> None:
        calls.append(event.event_type)
        raise RuntimeError("database unavailable")

    tracking.connect(failing, weak=False)
    try:
        with caplog.at_level(logging.ERROR, logger="anymail"):
            response = post(client, **auth(SECRET))
    finally:
        tracking.disconnect(failing)
    # 5xx, not the 6.0 manual's 400: Amazon SNS and Postmark never retry a 4xx.
    assert response.status_code == 500
    assert response.content == b"Error processing Tiny webhook event"
    assert calls == ["delivered"]  # the rest of the batch is not processed
    (record,) = [r for r in caplog.records if r.name == "anymail"]
    assert record.exc_info is not None and str(record.exc_info[1]) == "database unavailable"


def test_csrf_exempt(received: list[Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    assert post(client, **auth(SECRET)).status_code == 200


def test_login_exempt(settings: Any, client: Client, received: list[Any]) -> None:
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    settings.MIDDLEWARE = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
    assert client.get("/ordinary/").status_code == 302  # the middleware is active
    assert post(client, **auth(SECRET)).status_code == 200


def test_head_checks_auth_and_other_methods_are_not_allowed(client: Client) -> None:
    assert client.head(URL, **auth(SECRET)).status_code == 200
    assert client.head(URL).status_code == 400
    for method in (client.get, client.options, client.put, client.delete, client.patch):
        response = method(URL, **auth(SECRET))
        assert response.status_code == 405
        assert response["Allow"] == "POST, HEAD"


def test_no_secret_warns_that_the_webhook_is_insecure(
    settings: Any, client: Client, received: list[Any]
) -> None:
    settings.ANYMAIL = {}
    with pytest.warns(AnymailInsecureWebhookWarning) as record:
        response = post(client)
    assert response.status_code == 200
    assert str(record[0].message) == (
        "Your Anymail Tiny webhook is not secured: set ANYMAIL WEBHOOK_SECRET and add it "
        "to the webhook URL at your ESP."
    )
    assert len(received) == 2


def test_signed_esp_views_can_skip_the_warning(settings: Any, rf: Any) -> None:
    import warnings

    class SignedView(TinyTrackingWebhookView):
        warn_if_no_basic_auth = False

    settings.ANYMAIL = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SignedView()
