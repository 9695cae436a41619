"""The deprecated SendinBlue tracking route: Brevo's view under its old name."""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from anymail.exceptions import AnymailDeprecationWarning
from anymail.signals import tracking
from anymail.testing import json_webhook_request

from ..registry import NOT_SECURED, WebhookContractCase
from .brevo import payload


@contextmanager
def deprecation_expected() -> Iterator[None]:
    # (Its warning has its own test, in test_brevo.py.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnymailDeprecationWarning)
        yield


CASE = WebhookContractCase(
    id="sendinblue",
    esp_name="SendinBlue",
    url_name="sendinblue_tracking_webhook",
    signal=tracking,
    payload=payload,
    event_count=2,
    request=json_webhook_request,
    context=deprecation_expected,
    warning_without_secret=NOT_SECURED,
)
