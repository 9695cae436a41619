"""Anymail's test backend in the contract suite: it records instead of sending."""

from typing import Any

from django.core import mail

from ..registry import ContractCase


def sent_text() -> str:
    """What the test backend would have sent: its recorded send params."""
    return "\n".join(repr(message.anymail_send_params) for message in mail.outbox)


def sent_tags(request: Any) -> list[str]:
    return list(mail.outbox[-1].anymail_send_params["tags"])


CASE = ContractCase(
    id="test",
    backend="anymail.backends.test.EmailBackend",
    esp_name="Test",
    uses_requests=False,
    sent_text=sent_text,
    sent_tags=sent_tags,
)
