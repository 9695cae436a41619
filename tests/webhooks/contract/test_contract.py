"""The behaviour every Anymail webhook view shares, run against every registered view.

See ``registry.py`` for how an ESP's webhook joins the suite.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client

from anymail.exceptions import AnymailImproperlyConfigured, AnymailInsecureWebhookWarning
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, tracking
from anymail.testing import captured_events, random_webhook_secret

from ..support import assert_refused
from .fuzz import post_hostile, sample
from .registry import CASES, WebhookContractCase

pytestmark = pytest.mark.urls("tests.webhooks.contract.urls")

SECRET = "contractcontract:contractcontract"
OLD_SECRET = "oldoldoldoldoldo:ldoldoldoldoldol"


@pytest.fixture
def case(request: pytest.FixtureRequest, settings: Any) -> Iterator[WebhookContractCase]:
    case: WebhookContractCase = request.param
    settings.ANYMAIL = {**case.settings, "WEBHOOK_SECRET": SECRET}
    with ExitStack() as stack:
        stack.enter_context(case.context())
        yield case


def parametrize_cases(fixture: Any) -> Any:
    return pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES], indirect=True)(
        fixture
    )


@pytest.fixture
def events(case: WebhookContractCase) -> Iterator[list[Any]]:
    with captured_events(case.signal) as received:
        yield received


def post(case: WebhookContractCase, client: Client | None = None, **options: Any) -> Any:
    return case.request(case.payload(), **options).post(client or Client(), case.url_name)


def quiet_client() -> Client:
    """A client that answers 500 like a server would, instead of raising the error."""
    return Client(raise_request_exception=False)


@parametrize_cases
def test_valid_post_dispatches_each_event(case: WebhookContractCase, events: list[Any]) -> None:
    response = post(case)
    assert response.status_code == 200, response.content
    assert len(events) == case.event_count
    expected = AnymailTrackingEvent if case.signal is tracking else AnymailInboundEvent
    assert all(isinstance(event, expected) for event in events)


@parametrize_cases
def test_missing_basic_auth(case: WebhookContractCase, events: list[Any]) -> None:
    response = post(case, basic_auth=None)
    if case.basic_auth_challenge:
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Basic realm="Anymail WEBHOOK_SECRET"'
    else:
        assert response.status_code == 400
    assert events == []


@parametrize_cases
def test_wrong_basic_auth(case: WebhookContractCase, events: list[Any]) -> None:
    for secret in (
        "contractcontract:wrong",
        SECRET + "x",
        "attacker:" + SECRET,
        random_webhook_secret(),
    ):
        response = post(case, basic_auth=secret)
        assert response.status_code == 400
        assert response.content.startswith(b"Missing or invalid basic auth")
    assert events == []


@parametrize_cases
def test_without_webhook_secret(
    case: WebhookContractCase, settings: Any, events: list[Any]
) -> None:
    # A view that checks a signature needs no WEBHOOK_SECRET; the others warn (once per
    # view made) that anyone can post to them.
    settings.ANYMAIL = dict(case.settings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = post(case, basic_auth=None)
    assert response.status_code == 200, response.content
    assert len(events) == case.event_count
    insecure = [str(w.message) for w in caught if w.category is AnymailInsecureWebhookWarning]
    if case.warning_without_secret is None:
        assert insecure == []
    else:
        expected = case.warning_without_secret.format(esp_name=case.esp_name)
        assert len(insecure) == 1 and insecure[0].startswith(expected), insecure


@parametrize_cases
def test_secret_rotation(case: WebhookContractCase, settings: Any, events: list[Any]) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": [OLD_SECRET, SECRET]}
    assert post(case, basic_auth=OLD_SECRET).status_code == 200
    caches["default"].clear()  # else the second post is a duplicate
    assert post(case, basic_auth=SECRET).status_code == 200
    assert len(events) == 2 * case.event_count


@pytest.mark.parametrize("secret", ["", " ", ":", [SECRET, ""]])
@parametrize_cases
def test_empty_secret_is_a_configuration_error(
    case: WebhookContractCase, settings: Any, events: list[Any], secret: Any
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": secret}
    for basic_auth in (None, SECRET, ":"):
        assert post(case, quiet_client(), basic_auth=basic_auth).status_code == 500
    with pytest.raises(AnymailImproperlyConfigured):
        post(case, basic_auth=SECRET)
    assert events == []


# A post the ESP's check must refuse, by the case's builder of it: forged (a wrong key, or a
# body changed after signing: what "forged" means is the ESP's), or signed too long ago.
REFUSED = {
    "bad_signature": ("forge", b"", "does not sign its posts"),
    "stale_post": ("stale", b"window", "signs no timestamp"),
}


@pytest.mark.parametrize(("builder", "says", "unless"), REFUSED.values(), ids=REFUSED.keys())
@parametrize_cases
def test_refused_post(
    case: WebhookContractCase, events: list[Any], builder: str, says: bytes, unless: str
) -> None:
    build = getattr(case, builder)
    if build is None:
        pytest.skip(f"{case.esp_name} {unless}")
    response = build(case.payload()).post(Client(), case.url_name)
    assert_refused(response, events, says)


@parametrize_cases
def test_receiver_error_is_5xx_and_the_retry_dispatches_again(case: WebhookContractCase) -> None:
    calls: list[Any] = []

    def failing(sender: Any, event: Any, **kwargs: Any) -> None:
        calls.append(event)
        raise RuntimeError("database unavailable")

    case.signal.connect(failing, weak=False)
    try:
        response = post(case)
    finally:
        case.signal.disconnect(failing)
    # 5xx so that the ESP retries: Amazon SNS and Postmark drop what got a 4xx.
    assert 500 <= response.status_code < 600
    assert len(calls) == 1  # the rest of the batch waits for the retry
    with captured_events(case.signal) as events:
        assert post(case).status_code == 200
    # Not marked as handled: its receivers failed.
    assert len(events) == case.event_count


@parametrize_cases
def test_retry_after_a_partial_batch_skips_the_events_done(case: WebhookContractCase) -> None:
    if case.event_count < 2:
        pytest.skip(f"the {case.id} payload holds one event")
    calls: list[Any] = []

    def failing_second(sender: Any, event: Any, **kwargs: Any) -> None:
        calls.append(event)
        if len(calls) == 2:
            raise RuntimeError("database unavailable")

    case.signal.connect(failing_second, weak=False)
    try:
        assert post(case).status_code == 500
        assert post(case).status_code == 200
    finally:
        case.signal.disconnect(failing_second)
    # First post: events 1 and 2 (failed). Retry: 2 again, then the rest, not 1.
    assert len(calls) == 2 + case.event_count - 1
    assert calls[2].event_type == calls[1].event_type


@parametrize_cases
def test_duplicate_is_acknowledged_and_not_dispatched(
    case: WebhookContractCase, events: list[Any]
) -> None:
    request = case.request(case.payload())
    assert request.post(Client(), case.url_name).status_code == 200
    assert request.post(Client(), case.url_name).status_code == 200
    assert len(events) == case.event_count


@parametrize_cases
def test_without_dedupe_cache_duplicates_are_dispatched(
    case: WebhookContractCase, settings: Any, events: list[Any]
) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_DEDUPE_CACHE": None}
    request = case.request(case.payload())
    assert request.post(Client(), case.url_name).status_code == 200
    assert request.post(Client(), case.url_name).status_code == 200
    assert len(events) == 2 * case.event_count


@parametrize_cases
def test_dedupe_cache_down_is_503_and_nothing_dispatched(
    case: WebhookContractCase, settings: Any, events: list[Any]
) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "down": {"BACKEND": "tests.webhooks.contract.test_contract.DownCache"},
    }
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_DEDUPE_CACHE": "down"}
    response = post(case)
    assert response.status_code == 503
    assert events == []


@parametrize_cases
def test_body_over_the_size_limit(
    case: WebhookContractCase, settings: Any, events: list[Any]
) -> None:
    request = case.request(case.payload())
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_MAX_BODY_SIZE": len(request.body) - 1}
    response = request.post(Client(), case.url_name)
    assert_refused(response, events, b"WEBHOOK_MAX_BODY_SIZE")


@parametrize_cases
def test_head(case: WebhookContractCase, events: list[Any]) -> None:
    assert case.request(b"").head(Client(), case.url_name).status_code == 200
    unauthenticated = case.request(b"", basic_auth=None).head(Client(), case.url_name)
    assert unauthenticated.status_code == (401 if case.basic_auth_challenge else 400)
    assert events == []


def _fuzz_params() -> list[Any]:
    params = []
    for case in CASES:
        payloads = {"": case.payload(), **(case.fuzz_payloads() if case.fuzz_payloads else {})}
        seen: set[str] = set()
        for name, payload in payloads.items():
            found = case.fuzz(payload)
            if name and case.fuzz_sample is not None:  # (all of payload()'s variants)
                found = sample(found, payload, case.fuzz_sample)
            for mutation in found:
                # Each variant once per case: a body that doesn't depend on the payload
                # (an empty one...) and, with fuzz_each_field_once, each field's.
                raw = isinstance(mutation.payload, bytes | str)
                key = mutation.id if case.fuzz_each_field_once and not raw else None
                body = repr((mutation.payload, mutation.strict)).encode()
                key = key or hashlib.sha256(body).hexdigest()
                if key not in seen:
                    seen.add(key)
                    parts = (case.id, Path(name).stem, mutation.id)
                    params.append(pytest.param(case, mutation, id="-".join(filter(None, parts))))
    return params


@pytest.mark.parametrize(("case", "mutation"), _fuzz_params(), indirect=["case"])
def test_hostile_body_is_refused_or_accepted_never_an_error(
    case: WebhookContractCase, mutation: Any
) -> None:
    dispatched = post_hostile(case.request(mutation.payload), case.url_name, mutation)
    if dispatched is not None and case.fuzz_accepted_events is not None:
        assert dispatched == case.fuzz_accepted_events


class DownCache:
    """A cache backend whose server is unreachable."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        pass

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache server refused the connection")

    set = get

    def close(self, **kwargs: Any) -> None:
        pass
