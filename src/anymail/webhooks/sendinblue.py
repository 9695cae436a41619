"""Deprecated: SendinBlue is now Brevo. Use ``anymail.webhooks.brevo``.

The ``sendinblue/tracking/`` and ``sendinblue/inbound/`` routes keep working with
these aliases of the Brevo views. They are named "SendinBlue" (the signals'
``esp_name``, and error messages), warn each time a post arrives, and share the
Brevo views' webhook settings and dedupe store (a Brevo event posted to both URLs
is dispatched once). The inbound view reads ``SENDINBLUE_API_KEY`` and
``SENDINBLUE_API_URL``, or the ``BREVO_`` ones when those are not set, so that
renaming the settings first doesn't break it.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..exceptions import AnymailDeprecationWarning
from .brevo import BrevoInboundWebhookView, BrevoTrackingWebhookView

__all__ = ["SendinBlueInboundWebhookView", "SendinBlueTrackingWebhookView"]


def _warn_deprecated(direction: str) -> None:
    warnings.warn(
        f"Anymail's SendinBlue {direction} webhook (/anymail/sendinblue/{direction}/) is "
        "deprecated: SendinBlue is now Brevo. Change the webhook URL at Brevo to Anymail's "
        f"/anymail/brevo/{direction}/ URL (Brevo{direction.title()}WebhookView).",
        AnymailDeprecationWarning,
        stacklevel=3,
    )


class SendinBlueTrackingWebhookView(BrevoTrackingWebhookView):
    """Deprecated alias of :class:`~anymail.webhooks.brevo.BrevoTrackingWebhookView`."""

    esp_name = "SendinBlue"
    settings_esp_name = "Brevo"

    def __init__(self, **kwargs: Any) -> None:
        _warn_deprecated("tracking")
        super().__init__(**kwargs)


class SendinBlueInboundWebhookView(BrevoInboundWebhookView):
    """Deprecated alias of :class:`~anymail.webhooks.brevo.BrevoInboundWebhookView`."""

    esp_name = "SendinBlue"
    settings_esp_name = "Brevo"
    api_settings_esp_names = ("SendinBlue", "Brevo")

    def __init__(self, **kwargs: Any) -> None:
        _warn_deprecated("inbound")
        super().__init__(**kwargs)
