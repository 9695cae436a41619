"""The Amazon SES backend's settings, declared where boto3 is not needed.

``anymail.backends.amazon_ses`` cannot be imported without boto3, but the system
checks and the settings reference must know its settings in any project: the
backend class declares this tuple, and ``anymail._settings_registry`` reads it
here when the backend can't be imported. The webhooks' boto3 clients use the
same session and client params.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .conf import TEXT, TIMEOUT, Setting, SettingType

ESP_NAME: Final = "Amazon SES"

#: Don't quote the value in the error: client params can hold credentials.
BOTO3_PARAMS: Final = SettingType(
    "dict of boto3 keyword arguments",
    lambda value, setting: (
        None
        if value is None or isinstance(value, Mapping)
        else f"expected a dict of boto3 keyword arguments, got {type(value).__name__}."
    ),
)

SESSION_PARAMS: Final = Setting(
    "session_params",
    BOTO3_PARAMS,
    "Keyword arguments for boto3.session.Session(), such as profile_name or region_name.",
    default=None,
    secret=True,
)
CLIENT_PARAMS: Final = Setting(
    "client_params",
    BOTO3_PARAMS,
    "Keyword arguments for boto3's session.client() (region_name, endpoint_url, "
    "credentials, config as a botocore Config or a dict).",
    default=None,
    secret=True,
)
CONFIGURATION_SET_NAME: Final = Setting(
    "configuration_set_name",
    TEXT,
    "The SES configuration set every message is sent with (it publishes the events).",
    default=None,
)
MESSAGE_TAG_NAME: Final = Setting(
    "message_tag_name",
    TEXT,
    "Also send a message's single tag as the SES message tag of this name.",
    default=None,
)
#: Django's name for a backend's timeout, applied to boto3's client config.
TIMEOUT_OPTION: Final = Setting(
    "timeout",
    TIMEOUT,
    "Connect and read timeouts of the boto3 client, in seconds (they replace the config's).",
    default=None,
    per_esp=False,
    in_settings=False,
)

#: What ``anymail.backends.amazon_ses.EmailBackend`` declares.
BACKEND_SETTINGS: Final = (
    SESSION_PARAMS,
    CLIENT_PARAMS,
    CONFIGURATION_SET_NAME,
    MESSAGE_TAG_NAME,
    TIMEOUT_OPTION,
)
