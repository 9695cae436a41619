"""Signed-timestamp windows (anymail.webhooks.freshness)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from anymail.exceptions import AnymailImproperlyConfigured, AnymailWebhookValidationFailure
from anymail.webhooks.freshness import (
    DEFAULT_MAX_AGE,
    MAX_FUTURE_SKEW,
    check_freshness,
    get_max_age,
)
from anymail.webhooks.signing import SvixVerifier
from tests.utils import FIXTURES_DIR, fixture_json

SIGNED_AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
#: What a post signed at SIGNED_AT is told when Amazon SES's (2 h) window refuses it: it
#: was signed too "old" or too "far in the future".
REFUSED = (
    "Amazon SES webhook: the post was signed at 2026-03-04 05:06:07 UTC, too {too} for the "
    "2:00:00 window. Check this server's clock, or change ANYMAIL AMAZON_SES_WEBHOOK_MAX_AGE."
)


def clock_at(delta: timedelta) -> Any:
    return lambda: SIGNED_AT + delta


@pytest.fixture(autouse=True)
def no_anymail_settings(settings: Any) -> None:
    settings.ANYMAIL = {}


def test_default_windows_from_the_fact_sheets() -> None:
    assert get_max_age("Amazon SES") == 7200  # > SNS's 1 h retry span
    assert get_max_age("Resend") == 300  # Svix's own tolerance
    assert get_max_age("Mailgun") == 12 * 3600  # > ~8 h of retries
    assert get_max_age("SendGrid") == 25 * 3600  # > 24 h of retries
    # No signed timestamp in these schemes: nothing to check.
    assert get_max_age("Postal") is None
    assert get_max_age("Mandrill") is None
    assert set(DEFAULT_MAX_AGE) == {"Amazon SES", "Scaleway", "Mailgun", "Resend", "SendGrid"}


def test_window_settings(settings: Any) -> None:
    settings.ANYMAIL = {"AMAZON_SES_WEBHOOK_MAX_AGE": 600, "RESEND_WEBHOOK_MAX_AGE": None}
    settings.ANYMAIL_SENDGRID_WEBHOOK_MAX_AGE = 90.5
    assert get_max_age("Amazon SES") == 600
    assert get_max_age("Resend") is None  # turned off
    assert get_max_age("SendGrid") == 90.5
    # A view keyword (as_view(webhook_max_age=...)) wins, and is consumed.
    kwargs: dict[str, Any] = {"webhook_max_age": 30}
    assert get_max_age("Amazon SES", kwargs) == 30
    assert kwargs == {}


@pytest.mark.parametrize("value", [0, -5, "600", True, [600]])
def test_invalid_window_setting(settings: Any, value: Any) -> None:
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_MAX_AGE": value}
    with pytest.raises(AnymailImproperlyConfigured, match="MAILGUN_WEBHOOK_MAX_AGE"):
        get_max_age("Mailgun")


@pytest.mark.parametrize(
    "delta, too",
    [
        (timedelta(0), None),
        (timedelta(seconds=7200), None),
        (timedelta(seconds=7201), "old"),
        (timedelta(days=30), "old"),
        (-timedelta(seconds=MAX_FUTURE_SKEW), None),  # sender's clock a little ahead
        (-timedelta(seconds=MAX_FUTURE_SKEW + 1), "far in the future"),
        (-timedelta(days=1), "far in the future"),
    ],
)
def test_check_freshness(delta: timedelta, too: str | None) -> None:
    """A post signed within the window passes; any other is refused as ``too`` old or
    far in the future (None: fresh)."""
    check = lambda: check_freshness(  # noqa: E731
        SIGNED_AT, 7200, esp_name="Amazon SES", clock=clock_at(delta)
    )
    if too is None:
        check()
    else:
        with pytest.raises(AnymailWebhookValidationFailure) as info:
            check()
        assert str(info.value) == REFUSED.format(too=too)


def test_future_tolerance_never_exceeds_a_short_window() -> None:
    check_freshness(SIGNED_AT, 60, esp_name="X", clock=clock_at(-timedelta(seconds=60)))
    with pytest.raises(AnymailWebhookValidationFailure, match="future"):
        check_freshness(SIGNED_AT, 60, esp_name="X", clock=clock_at(-timedelta(seconds=61)))


def test_nothing_to_check() -> None:
    far_future = clock_at(timedelta(days=3650))
    check_freshness(None, 60, esp_name="Postal", clock=far_future)
    check_freshness(SIGNED_AT, None, esp_name="Resend", clock=far_future)


def test_verified_svix_timestamp_goes_through_the_resend_window() -> None:
    data = fixture_json("resend", "signatures.json")
    vector = data["vectors"][0]
    body = (FIXTURES_DIR / "resend" / vector["file"]).read_bytes()
    signed_at = SvixVerifier(data["signing_secret"]).verify(
        body, {name: vector[name] for name in ("svix-id", "svix-timestamp", "svix-signature")}
    )
    window = get_max_age("Resend")
    check_freshness(
        signed_at, window, esp_name="Resend", clock=lambda: signed_at + timedelta(minutes=4)
    )
    # Six minutes later, the same genuine post is a replay.
    with pytest.raises(AnymailWebhookValidationFailure, match="too old"):
        check_freshness(
            signed_at, window, esp_name="Resend", clock=lambda: signed_at + timedelta(minutes=6)
        )
