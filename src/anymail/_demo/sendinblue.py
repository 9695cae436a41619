"""``anymail demo --esp sendinblue``: Brevo's demo, through the deprecated SendinBlue alias."""

from __future__ import annotations

from .brevo import ADAPTED as BREVO_ADAPTED
from .brevo import OPTIONS, adapt, respond

__all__ = ["ADAPTED", "BACKEND", "OPTIONS", "adapt", "respond"]

BACKEND = "anymail.backends.sendinblue.EmailBackend"
ADAPTED = (
    "sent through the deprecated sendinblue backend, an alias of brevo (use "
    f"anymail.backends.brevo.EmailBackend instead); {BREVO_ADAPTED}"
)
