"""Timestamps in the forms ESPs write them."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def iso_now() -> str:
    """ISO 8601 UTC with milliseconds and ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def epoch() -> int:
    return int(time.time())
