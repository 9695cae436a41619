"""Amazon SES inbound: a receipt notification with the message inline (SNS action)."""

from anymail._testing_amazon_ses import sns_webhook_request
from anymail.signals import inbound

from ..registry import WebhookContractCase
from .amazon_ses import aws_test_context, forge, inbound_payload, stale

CASE = WebhookContractCase(
    id="amazon_ses_inbound",
    esp_name="Amazon SES",
    url_name="amazon_ses_inbound_webhook",
    signal=inbound,
    payload=inbound_payload,
    event_count=1,
    request=sns_webhook_request,
    forge=forge,
    stale=stale,
    basic_auth_challenge=True,
    context=aws_test_context,
    # Signed by SNS, but any topic may post unless a secret or a topic list says which.
    warning_without_secret="Your Anymail {esp_name} webhook accepts posts from any ",
)
