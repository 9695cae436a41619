"""How old a signed webhook may be: each ESP's window, and the check.

A signature proves who sent a post, not when: without a window, a post captured
once could be replayed for ever. The window must outlast the ESP's retries where
a retry keeps the original signed timestamp, or retried events would be lost.
``<ESP>_WEBHOOK_MAX_AGE`` (seconds, or None to turn the check off) changes it.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

from ..conf import SECONDS, Setting, get_setting, invalid_setting, setting_name
from ..exceptions import AnymailWebhookValidationFailure
from .signing import Clock, utc_now

MINUTE: Final = 60
HOUR: Final = 60 * MINUTE

#: Default window (seconds) per ESP that signs a timestamp (see its fact sheet).
DEFAULT_MAX_AGE: Final[Mapping[str, int]] = MappingProxyType(
    {
        # SNS retries for at most an hour and keeps the signed Timestamp.
        "Amazon SES": 2 * HOUR,
        "Scaleway": 2 * HOUR,
        # Mailgun retries for about 8 hours; nothing says it re-signs.
        "Mailgun": 12 * HOUR,
        # Svix signs every attempt afresh; its own libraries allow 5 minutes.
        "Resend": 5 * MINUTE,
        # SendGrid retries for up to 24 hours; nothing says it re-signs.
        "SendGrid": 25 * HOUR,
    }
)

WEBHOOK_MAX_AGE: Final = Setting(
    "webhook_max_age",
    SECONDS,
    "How old a signed webhook post may be, in seconds (None: no check).",
    default_for=lambda view: DEFAULT_MAX_AGE.get(view.settings_esp_name or view.esp_name),
)

#: How far in the future a signed timestamp may be (clock skew), at most.
MAX_FUTURE_SKEW: Final = 5 * MINUTE


def get_max_age(esp_name: str, kwargs: MutableMapping[str, Any] | None = None) -> float | None:
    """The ESP's window in seconds (``<ESP>_WEBHOOK_MAX_AGE``), or None for no check."""
    value = get_setting(WEBHOOK_MAX_AGE, esp_name, kwargs, default=DEFAULT_MAX_AGE.get(esp_name))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise invalid_setting(
            "webhook_max_age", esp_name, "expected a number of seconds (> 0), or None."
        )
    return float(value)


def check_freshness(
    signed_at: datetime | None,
    max_age: float | None,
    *,
    esp_name: str,
    clock: Clock = utc_now,
) -> None:
    """Refuse a post whose signed time is more than ``max_age`` seconds ago.

    A time up to ``MAX_FUTURE_SKEW`` (or ``max_age`` if smaller) ahead of the
    clock is accepted as clock skew. Nothing is checked when the scheme signs no
    time (``signed_at`` None) or the window is off (``max_age`` None).
    """
    if signed_at is None or max_age is None:
        return
    age = (clock() - signed_at).total_seconds()
    if age > max_age or -age > min(max_age, MAX_FUTURE_SKEW):
        when = "old" if age > 0 else "far in the future"
        raise AnymailWebhookValidationFailure(
            f"{esp_name} webhook: the post was signed at {signed_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"too {when} for the {timedelta(seconds=max_age)} window. Check this "
            f"server's clock, or change ANYMAIL {setting_name('webhook_max_age', esp_name)}.",
            esp_name=esp_name,
        )
