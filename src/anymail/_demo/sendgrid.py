"""``anymail demo --esp sendgrid``: the v3 Mail Send request for the demo batch."""

from __future__ import annotations

from typing import Any

import requests

BACKEND = "anymail.backends.sendgrid.EmailBackend"
OPTIONS = {"api_key": "SG.demo-key-not-real"}


ADAPTED = (
    "esp_extra sets merge_field_format, so SendGrid's substitutions fill in the demo's "
    "{{name}} fields."
)


def adapt(message: Any) -> None:
    message.esp_extra = {"merge_field_format": "{{{{{}}}}}"}


def respond(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    # SendGrid accepts with 202 and an empty body; its X-Message-Id is per request.
    return 202, {"X-Message-Id": "0Xf00Aa1Bb2Cc3Dd4Ee5Ff"}, ""
