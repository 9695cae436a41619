"""The size limit of a webhook body, and reading a body past Django's form limit.

Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB by default) is meant for forms;
ESPs post inbound mail far bigger, and a 400 would lose it (the ESP drops what
got a 4xx). So a webhook body is bounded by ``WEBHOOK_MAX_BODY_SIZE`` instead,
which the view checks against Content-Length before anything is read, and is
read with :func:`read_body`, the one reader that goes past Django's form limit.
"""

from __future__ import annotations

import io
from typing import Final

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from ..conf import Setting, SettingType

#: Default body size limits (bytes): tracking posts, and posts that carry received mail
#: (room for an INBOUND_MAX_SIZE message of 50 MB, base64-encoded in JSON).
DEFAULT_MAX_BODY_SIZE: Final = 10 * 1024 * 1024
DEFAULT_INBOUND_MAX_BODY_SIZE: Final = 100 * 1024 * 1024
WEBHOOK_MAX_BODY_SIZE: Final = Setting(
    "webhook_max_body_size",
    SettingType("bytes"),
    "Largest webhook post accepted, in bytes.",
    default=None,
    default_doc=f"{DEFAULT_MAX_BODY_SIZE} (tracking), {DEFAULT_INBOUND_MAX_BODY_SIZE} (inbound)",
    per_esp=False,
    option=False,
)
MULTIPART: Final = "multipart/form-data"


def read_body(request: HttpRequest) -> bytes:
    """The request's raw body, however large Django's DATA_UPLOAD_MAX_MEMORY_SIZE allows.

    The view's body gate has already refused a Content-Length over its own limit, and
    Django's stream never reads past Content-Length.
    """
    try:
        return request.body
    except RequestDataTooBig:
        # Django checks the size before it reads anything, so the stream is intact.
        # What HttpRequest.body does, without its size check: the body stays where
        # Django keeps it, so request.body and request.POST work for the receivers.
        request._body = request.read()
        request._stream = io.BytesIO(request._body)
        return request._body
