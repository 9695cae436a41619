from django.core import mail

from ..registry import ContractCase


def sent_text() -> str:
    """What the test backend would have sent: its recorded send params."""
    return "\n".join(repr(message.anymail_send_params) for message in mail.outbox)


CASE = ContractCase(
    id="test",
    backend="anymail.backends.test.EmailBackend",
    esp_name="Test",
    uses_requests=False,
    sent_text=sent_text,
)
