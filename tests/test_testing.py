"""anymail.testing: the helpers users (and Anymail's own tests) post webhooks with."""

from __future__ import annotations

import base64
import textwrap
from typing import Any

import pytest
from django.test import Client, RequestFactory

from anymail import testing
from anymail.checks import check_webhook_secrets
from anymail.conf import get_webhook_secrets
from anymail.signals import AnymailTrackingEvent, inbound, tracking
from anymail.testing import (
    WebhookRequest,
    basic_auth_header,
    captured_events,
    json_webhook_request,
    register_webhook_builder,
    webhook_request,
)

from .utils import run_django_script
from .webhooks.contract.dummy_esp import SIGNING_SECRET
from .webhooks.contract.registry import CASES

dummy_payload = next(case for case in CASES if case.id == "dummy").payload

SECRET = "userhalf-16chars:passhalf-16chars"
CONTRACT_URLS = pytest.mark.urls("tests.webhooks.contract.urls")


def decoded(header: dict[str, str]) -> str:
    scheme, _, credentials = header["Authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(credentials).decode()


def test_basic_auth_header(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET, "other:other"]}
    assert decoded(basic_auth_header()) == SECRET  # the first one
    assert decoded(basic_auth_header("u:pé")) == "u:pé"
    assert basic_auth_header(None) == {}
    settings.ANYMAIL = {}
    assert basic_auth_header() == {}


def test_json_webhook_request(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    request = json_webhook_request({"a": [1]}, headers={"X-Esp": "1"})
    assert request == WebhookRequest(
        body=b'{"a": [1]}',
        content_type="application/json",
        headers={"Authorization": basic_auth_header(SECRET)["Authorization"], "X-Esp": "1"},
    )
    raw = json_webhook_request(b"\xff not json", basic_auth=None, content_type="text/plain")
    assert (raw.body, raw.content_type, raw.headers) == (b"\xff not json", "text/plain", {})


def test_with_headers_and_with_body() -> None:
    request = WebhookRequest(b"{}", headers={"Authorization": "Basic x", "X-Sig": "abc"})
    changed = request.with_headers({"x-sig": "forged", "X-New": "1", "authorization": None})
    assert changed.headers == {"x-sig": "forged", "X-New": "1"}
    assert request.headers == {"Authorization": "Basic x", "X-Sig": "abc"}  # unchanged
    assert request.with_body(b"[]") == WebhookRequest(b"[]", headers=request.headers)


@CONTRACT_URLS
def test_post_with_a_client_or_a_request_factory(settings: Any) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "DUMMY_SIGNING_SECRET": SIGNING_SECRET}
    request = webhook_request("dummy", dummy_payload())
    with captured_events() as events:
        response = request.post(Client(), "dummy_tracking_webhook")
    assert response.status_code == 200
    assert [event.event_type for event in events] == ["delivered", "opened"]
    assert request.head(Client(), "/anymail/dummy/tracking/").status_code == 200
    made = request.post(RequestFactory(), "/anymail/dummy/tracking/")
    assert made.path == "/anymail/dummy/tracking/"
    assert made.body == request.body
    assert made.headers["Authorization"] == basic_auth_header(SECRET)["Authorization"]
    assert made.content_type == "application/json"


def test_builder_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(testing, "WEBHOOK_BUILDERS", {})
    with pytest.raises(LookupError) as excinfo:
        webhook_request("acme", {})
    assert str(excinfo.value) == (
        "No Anymail webhook request builder for 'acme' (registered: none). "
        "Use json_webhook_request() for an ESP that only uses basic auth."
    )
    register_webhook_builder("acme", "anymail.testing:json_webhook_request")
    request = webhook_request("acme", {"x": 1}, basic_auth=None)
    assert request == WebhookRequest(b'{"x": 1}')
    # Imported once, then kept.
    assert testing.WEBHOOK_BUILDERS["acme"] is json_webhook_request


def test_captured_events_stops_listening_after_the_block() -> None:
    with captured_events(inbound) as received, captured_events() as tracked:
        tracking.send(sender=None, event=AnymailTrackingEvent("opened"), esp_name="X")
    tracking.send(sender=None, event=AnymailTrackingEvent("clicked"), esp_name="X")
    assert [event.event_type for event in tracked] == ["opened"]
    assert received == []


def test_anymail_webhook_secret_fixture(anymail_webhook_secret: str) -> None:
    assert get_webhook_secrets() == [anymail_webhook_secret]
    assert check_webhook_secrets() == []  # strong enough for Anymail's own check
    assert decoded(basic_auth_header()) == anymail_webhook_secret


@CONTRACT_URLS
def test_fixtures_post_and_capture(
    settings: Any,
    anymail_webhook_secret: str,
    anymail_webhook: Any,
    anymail_tracking_events: list[Any],
    anymail_inbound_events: list[Any],
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "DUMMY_SIGNING_SECRET": SIGNING_SECRET}
    response = anymail_webhook.post("dummy", "dummy_tracking_webhook", dummy_payload())
    assert response.status_code == 200
    assert [event.message_id for event in anymail_tracking_events] == ["m-1", "m-1"]
    assert anymail_inbound_events == []


def test_importable_without_pytest() -> None:
    script = textwrap.dedent(
        """
        import sys

        sys.modules["pytest"] = None  # as if not installed: importing it fails
        import django
        django.setup()
        import anymail.testing as testing
        assert not hasattr(testing, "anymail_webhook")
        print(testing.json_webhook_request({"a": 1}, basic_auth="u:p").headers["Authorization"])
        print(sorted(name for name in sys.modules if "pytest" in name and sys.modules[name]))
        """
    )
    stdout = run_django_script(script)
    assert stdout.split("\n")[:2] == ["Basic dTpw", "[]"]
