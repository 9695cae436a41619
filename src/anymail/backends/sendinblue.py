"""Deprecated: SendinBlue is now Brevo. Use ``anymail.backends.brevo.EmailBackend``.

This alias keeps old settings working: it is the Brevo backend, but named
"SendinBlue", so it reads the ``SENDINBLUE_*`` settings (``SENDINBLUE_API_KEY``,
also bare at the settings root, ``SENDINBLUE_API_URL``, ``SENDINBLUE_SEND_DEFAULTS``)
and never the ``BREVO_*`` ones. It warns each time it is instantiated.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from ..exceptions import AnymailDeprecationWarning
from .brevo import BrevoPayload
from .brevo import EmailBackend as BrevoEmailBackend

__all__ = ["EmailBackend", "SendinBluePayload"]

#: The payload is Brevo's; the old name is kept for code that imported it.
SendinBluePayload = BrevoPayload


class EmailBackend(BrevoEmailBackend):
    """Deprecated alias of :class:`anymail.backends.brevo.EmailBackend`."""

    esp_name = "SendinBlue"
    former_esp_name: ClassVar[str | None] = None

    def __init__(self, **kwargs: Any) -> None:
        warnings.warn(
            "anymail.backends.sendinblue.EmailBackend is deprecated: SendinBlue is now "
            "Brevo. Use anymail.backends.brevo.EmailBackend instead (in EMAIL_BACKEND or "
            "MAILERS), and rename your SENDINBLUE_* Anymail settings to BREVO_* "
            "(e.g. SENDINBLUE_API_KEY to BREVO_API_KEY).",
            AnymailDeprecationWarning,
            stacklevel=2,
        )
        super().__init__(**kwargs)
