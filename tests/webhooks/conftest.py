"""Fixtures of the webhook tests (each module of fixtures says what they do)."""

from .amazon_ses_support import aws, ses_webhook_environment, signer

__all__ = ["aws", "ses_webhook_environment", "signer"]
