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
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path

from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailImproperlyConfigured,
    AnymailInsecureWebhookWarning,
    AnymailWebhookTransientError,
    AnymailWebhookValidationFailure,
)
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from anymail.testing import captured_events
from anymail.webhooks import _basic_auth
from anymail.webhooks._body import read_body
from anymail.webhooks._payload import JsonObject, json_objects
from anymail.webhooks.base import AnymailBaseWebhookView, one_line
from anymail.webhooks.dedupe import digest_key, event_key, raw_event_bytes

from .utils import connected

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

    with connected(tracking, receiver):
        yield events


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

    monkeypatch.setattr(_basic_auth.hmac, "compare_digest", recording_compare_digest)
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

    with connected(tracking, failing), caplog.at_level(logging.ERROR, logger="anymail"):
        response = post(client, **auth(SECRET))
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


# --- the pipeline around the ESP's hooks -------------------------------------------------


class ChallengingView(TinyTrackingWebhookView):
    basic_auth_challenge = True
    content_types = ("application/json",)


class SignedTimeView(TinyTrackingWebhookView):
    """Signs a time in a header (the signature itself is the Tiny header check)."""

    esp_name = "Tiny"

    def validate_request(self, request: HttpRequest) -> datetime | None:
        super().validate_request(request)
        return datetime.fromtimestamp(int(request.headers["X-Tiny-Time"]), UTC)

    def now(self) -> datetime:
        return NOW


class LegacyNameView(SignedTimeView):
    esp_name = "OldTiny"
    settings_esp_name = "Tiny"


class FormView(TinyTrackingWebhookView):
    def parse_events(self, request: HttpRequest) -> list[Any]:
        form = JsonObject(request.POST, "form")
        return [AnymailTrackingEvent(form.text("type"), esp_event=request.POST)]


class CombinedView(TinyTrackingWebhookView):
    signal = None

    def parse_events(self, request: HttpRequest) -> list[Any]:
        return [
            AnymailTrackingEvent("delivered", event_id="t1"),
            AnymailInboundEvent(event_id="i1"),
        ]


class FailingView(TinyTrackingWebhookView):
    failure: ClassVar[Exception] = RuntimeError()

    def validate_request(self, request: HttpRequest) -> None:
        raise self.failure


NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

urlpatterns += [
    path("anymail/tiny/challenge/", ChallengingView.as_view()),
    path("anymail/tiny/signed/", SignedTimeView.as_view()),
    path("anymail/tiny/legacy/", LegacyNameView.as_view()),
    path("anymail/tiny/form/", FormView.as_view()),
    path("anymail/tiny/combined/", CombinedView.as_view()),
    path("anymail/tiny/failing/", FailingView.as_view()),
]


def test_challenge_comes_before_any_other_check(client: Client, received: list[Any]) -> None:
    url = "/anymail/tiny/challenge/"
    # No credentials, a forged signature and a body of the wrong type: the challenge wins.
    response = client.post(
        url, "{not json", content_type="text/html", HTTP_X_TINY_SIGNATURE="forged"
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Anymail WEBHOOK_SECRET"'
    assert client.head(url).status_code == 401
    # Credentials sent, but wrong: refused, not challenged again.
    assert post(client, url=url, **auth("wrongwrongwrong1:wrongwrongwrong2")).status_code == 400
    assert post(client, url=url, **auth(SECRET)).status_code == 200
    assert client.head(url, **auth(SECRET)).status_code == 200
    assert len(received) == 2


def test_no_challenge_without_a_secret(settings: Any, client: Client, received: list[Any]) -> None:
    settings.ANYMAIL = {}
    with pytest.warns(AnymailInsecureWebhookWarning):
        assert post(client, url="/anymail/tiny/challenge/").status_code == 200


def test_content_type_gate(client: Client, received: list[Any]) -> None:
    response = client.post(
        "/anymail/tiny/challenge/", BODY, content_type="text/html; charset=utf-8", **auth(SECRET)
    )
    assert response.status_code == 400
    assert response.content == (
        b"Malformed Tiny webhook payload: the body should be application/json, not text/html."
    )
    assert received == []


def test_size_limit_is_checked_before_reading_the_body(
    settings: Any, client: Client, received: list[Any]
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "WEBHOOK_MAX_BODY_SIZE": len(BODY) - 1}
    response = post(client, **auth(SECRET))
    assert response.status_code == 400
    assert response.content == (
        f"Malformed Tiny webhook payload: the body is {len(BODY)} bytes, over the "
        f"{len(BODY) - 1}-byte limit (ANYMAIL WEBHOOK_MAX_BODY_SIZE).".encode()
    )
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "WEBHOOK_MAX_BODY_SIZE": len(BODY)}
    assert post(client, **auth(SECRET)).status_code == 200


@pytest.mark.parametrize("limit", [0, -1, "10", True, 1.5])
def test_invalid_size_limit_setting(settings: Any, limit: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "WEBHOOK_MAX_BODY_SIZE": limit}
    with pytest.raises(AnymailImproperlyConfigured, match="WEBHOOK_MAX_BODY_SIZE: expected"):
        post(Client(), **auth(SECRET))


def test_a_body_over_djangos_form_limit_is_read_within_the_views_limit(
    settings: Any, client: Client, received: list[Any]
) -> None:
    # DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) is meant for forms: ESPs post
    # inbound mail bigger than that, and a 400 would lose it. The view's limit applies.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    response = post(client, **auth(SECRET))
    assert response.status_code == 200
    assert len(received) == 2
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_MAX_BODY_SIZE": 10}
    assert post(client, OTHER_BODY, **auth(SECRET)).status_code == 400
    assert len(received) == 2


def test_read_body_past_djangos_form_memory_limit(settings: Any, rf: RequestFactory) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    request = rf.post("/", b"a=" + b"x" * 100, content_type="application/x-www-form-urlencoded")
    assert read_body(request) == b"a=" + b"x" * 100
    assert request.body == b"a=" + b"x" * 100  # still there for the app's receivers
    assert read_body(request) == request.body


def test_djangos_own_body_limits_are_400(
    settings: Any, client: Client, received: list[Any]
) -> None:
    # Multipart bodies are Django's to read: their form fields count toward its limit.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    response = client.post("/anymail/tiny/form/", {"type": "opened" * 5}, **auth(SECRET))
    assert response.status_code == 400
    assert response.content.startswith(b"Malformed Tiny webhook payload: the body is unreadable: ")
    assert received == []


def test_malformed_multipart_is_400(client: Client, received: list[Any]) -> None:
    response = client.post(
        "/anymail/tiny/form/", b"--x\r\n", content_type="multipart/form-data", **auth(SECRET)
    )
    assert response.status_code == 400
    assert response.content.startswith(b"Malformed Tiny webhook payload: the body is unreadable: ")
    assert (
        post(client, body="type=opened", url="/anymail/tiny/form/", **auth(SECRET)).status_code
        == 400
    )
    response = client.post("/anymail/tiny/form/", {"type": "opened"}, **auth(SECRET))
    assert response.status_code == 200
    assert [event.event_type for _, event, _ in received] == ["opened"]


def post_signed(client: Client, signed_at: datetime, url: str = "/anymail/tiny/signed/") -> Any:
    return post(client, url=url, HTTP_X_TINY_TIME=str(int(signed_at.timestamp())), **auth(SECRET))


def test_freshness_window_per_esp_setting(
    settings: Any, client: Client, received: list[Any]
) -> None:
    # "Tiny" has no default window: nothing is checked until the setting gives one.
    assert post_signed(client, NOW - timedelta(days=30)).status_code == 200
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "TINY_WEBHOOK_MAX_AGE": 3600}
    caches["default"].clear()
    response = post_signed(client, NOW - timedelta(seconds=3601))
    assert response.status_code == 400
    assert response.content == (
        b"Tiny webhook: the post was signed at 2026-12-05 10:59:59 UTC, too old for the "
        b"1:00:00 window. Check this server's clock, or change ANYMAIL TINY_WEBHOOK_MAX_AGE."
    )
    assert post_signed(client, NOW + timedelta(minutes=10)).status_code == 400
    assert len(received) == 2
    assert post_signed(client, NOW - timedelta(seconds=3599)).status_code == 200
    assert len(received) == 4


def test_legacy_views_read_the_current_esps_settings(
    settings: Any, client: Client, received: list[Any]
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "TINY_WEBHOOK_MAX_AGE": 60}
    response = post_signed(client, NOW - timedelta(seconds=61), url="/anymail/tiny/legacy/")
    assert response.status_code == 400
    assert b"ANYMAIL TINY_WEBHOOK_MAX_AGE" in response.content
    assert post_signed(client, NOW, url="/anymail/tiny/legacy/").status_code == 200
    assert {esp for _, _, esp in received} == {"OldTiny"}


def test_transient_failure_is_503_and_logged(
    client: Client, received: list[Any], caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    monkeypatch.setattr(
        FailingView,
        "failure",
        AnymailWebhookTransientError("Could not fetch the signing certificate (timed out)."),
    )
    with caplog.at_level(logging.ERROR, logger="anymail"):
        response = post(client, url="/anymail/tiny/failing/", **auth(SECRET))
    assert response.status_code == 503
    assert response.content == b"Could not fetch the signing certificate (timed out)."
    assert [r.getMessage() for r in caplog.records if r.name == "anymail"] == [
        "Anymail Tiny webhook could not be handled (503): Could not fetch the signing "
        "certificate (timed out)."
    ]
    assert received == []


def test_configuration_errors_and_bugs_are_not_caught(
    monkeypatch: Any, received: list[Any]
) -> None:
    # Misrouted posts, for instance: 500 and logged by Django, so that the ESP retries
    # while the configuration is fixed (a 400 would make Amazon SNS drop the post).
    monkeypatch.setattr(
        FailingView, "failure", AnymailConfigurationError("Inbound post at the tracking URL.")
    )
    with pytest.raises(AnymailConfigurationError):
        post(Client(), url="/anymail/tiny/failing/", **auth(SECRET))
    response = post(
        Client(raise_request_exception=False), url="/anymail/tiny/failing/", **auth(SECRET)
    )
    assert response.status_code == 500
    assert received == []


def test_combined_view_sends_each_event_on_its_signal(client: Client) -> None:
    with captured_events(tracking) as tracked, captured_events(inbound) as received_mail:
        assert post(client, url="/anymail/tiny/combined/", **auth(SECRET)).status_code == 200
    assert [event.event_id for event in tracked] == ["t1"]
    assert [event.event_id for event in received_mail] == ["i1"]


def test_refusals_are_logged_in_one_bounded_line(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps([{"type": "x" * 100_000, "id": "m1"}])
    with caplog.at_level(logging.WARNING, logger="anymail"):
        response = post(client, body=body, **auth(SECRET))
    assert response.status_code == 400
    (record,) = [r for r in caplog.records if r.name == "anymail"]
    assert record.getMessage() == (
        "Anymail Tiny webhook refused a request (400): Malformed Tiny webhook payload: "
        "body[0].type is longer than 65536 characters."
    )


def test_one_line() -> None:
    assert one_line("first\nsecond") == "first"
    assert one_line("tab\there\x1b[31m") == "tab?here?[31m"
    assert one_line("x" * 400) == "x" * 299 + "…"
    assert one_line("  padded  ") == "padded"


# --- dedupe keys -------------------------------------------------------------------------


def test_dedupe_key_is_the_event_id_or_a_digest_of_the_raw_event(rf: Any) -> None:
    view = TinyTrackingWebhookView()
    with_id = AnymailTrackingEvent("delivered", event_id="e1", esp_event={"a": 1})
    assert view.dedupe_key(with_id) == event_key("Tiny", "e1")
    # Key order does not matter: a retry of the event is the same event.
    assert view.dedupe_key(AnymailTrackingEvent("x", esp_event={"a": 1, "b": [1, 2]})) == (
        view.dedupe_key(AnymailTrackingEvent("x", esp_event={"b": [1, 2], "a": 1}))
    )
    assert view.dedupe_key(AnymailTrackingEvent("x", esp_event={"a": 1})) == digest_key(
        "Tiny", b'{"a":1}'
    )
    assert view.dedupe_key(AnymailTrackingEvent("x", esp_event={"a": 2})) != (
        view.dedupe_key(AnymailTrackingEvent("x", esp_event={"a": 1}))
    )
    request = rf.post(URL, b"raw body", content_type="text/plain")
    assert view.dedupe_key(AnymailTrackingEvent("x", esp_event=request)) == digest_key(
        "Tiny", b"raw body"
    )
    form = rf.post(URL, {"b": ["2", "1"], "a": "x"}).POST
    assert view.dedupe_key(AnymailTrackingEvent("x", esp_event=form)) == digest_key(
        "Tiny", b'{"a":["x"],"b":["2","1"]}'
    )
    # Nothing stable to go by: never deduplicated.
    assert view.dedupe_key(AnymailTrackingEvent("x", esp_event=object())) is None
    assert view.dedupe_key(AnymailTrackingEvent("x")) is None
    assert raw_event_bytes({"a": object()}) is None


def test_event_ids_dedupe_across_posts(client: Client, received: list[Any]) -> None:
    class IdView(TinyTrackingWebhookView):
        def parse_events(self, request: HttpRequest) -> list[Any]:
            return [
                AnymailTrackingEvent(item.text("type"), event_id=item.text("id"))
                for item in json_objects(self.json_body(request))
            ]

    factory_client = RequestFactory()
    view = IdView.as_view()
    first = view(factory_client.post(URL, BODY, content_type="application/json", **auth(SECRET)))
    # Other bytes, same event ids ("m1" twice in BODY: the second one is a duplicate).
    second = view(
        factory_client.post(
            URL,
            json.dumps([{"id": "m1", "type": "bounced"}]),
            content_type="application/json",
            **auth(SECRET),
        )
    )
    assert (first.status_code, second.status_code) == (200, 200)
    assert [event.event_type for _, event, _ in received] == ["delivered"]


# --- inbound -----------------------------------------------------------------------------


class TinyInboundWebhookView(AnymailBaseWebhookView):
    esp_name = "Tiny"
    signal = inbound

    def parse_events(self, request: HttpRequest) -> list[Any]:
        message = AnymailInboundMessage.parse_raw_mime_bytes(request.body)
        return [AnymailInboundEvent(message=message, esp_event=request)]


RAW_MESSAGE = (
    b"From: Sender <from@example.com>\r\nTo: to@example.com\r\nSubject: Hi\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nAgain\r\n--b--\r\n"
)

urlpatterns += [path("anymail/tiny/inbound/", TinyInboundWebhookView.as_view())]


def test_inbound_over_the_limits_is_400(settings: Any, client: Client) -> None:
    url = "/anymail/tiny/inbound/"
    with captured_events(inbound) as received_mail:
        response = client.post(url, RAW_MESSAGE, content_type="message/rfc822", **auth(SECRET))
        assert response.status_code == 200
        settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "INBOUND_MAX_PARTS": 2}
        caches["default"].clear()
        response = client.post(url, RAW_MESSAGE, content_type="message/rfc822", **auth(SECRET))
    assert response.status_code == 400
    assert b"INBOUND_MAX_PARTS" in response.content
    assert [event.message.subject for event in received_mail] == ["Hi"]


def test_inbound_views_take_bigger_bodies_by_default(rf: Any) -> None:
    assert TinyInboundWebhookView().body_size_limit == 100 * 1024 * 1024
    assert TinyTrackingWebhookView().body_size_limit == 10 * 1024 * 1024
