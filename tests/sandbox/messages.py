"""The message the sandbox tests send: from the shop to Ana, changed as each test needs."""

from __future__ import annotations

from typing import Any

from anymail.message import AnymailMessage


def order(**kwargs: Any) -> AnymailMessage:
    """A short order message; ``kwargs`` replace or add :class:`AnymailMessage` arguments."""
    defaults: dict[str, Any] = {
        "subject": "Your order",
        "body": "Hi",
        "from_email": "shop@example.com",
        "to": ["ana@example.com"],
    }
    return AnymailMessage(**{**defaults, **kwargs})
