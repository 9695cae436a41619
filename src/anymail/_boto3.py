"""boto3 sessions and clients, made from Anymail's AMAZON_SES_* settings.

The one place they are made: the Amazon SES backend (``sesv2``) and the Amazon
SES webhooks (``sns``, ``s3``) both use ``boto3_params()`` and
``create_boto3_client()`` (importable from ``anymail.backends.amazon_ses``
too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import __version__
from ._amazon_ses_settings import CLIENT_PARAMS, ESP_NAME, SESSION_PARAMS
from .conf import UNSET, Setting, get_setting, invalid_setting
from .exceptions import AnymailImproperlyConfigured, AnymailImproperlyInstalled

try:
    import boto3
    from botocore.client import Config
except ImportError as err:
    raise AnymailImproperlyInstalled(missing_package="boto3", install_extra="amazon-ses") from err


def boto3_params(
    kwargs: dict[str, Any], timeout: Any = UNSET
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(session params, client params) from AMAZON_SES_SESSION_PARAMS and _CLIENT_PARAMS.

    Copies: the settings' own dicts are shared (and hold secrets), never changed.
    The client params' ``config`` is a botocore Config with Anymail's user agent.
    """
    session_params = _params_setting(SESSION_PARAMS, kwargs)
    client_params = _params_setting(CLIENT_PARAMS, kwargs)
    client_params["config"] = _client_config(client_params.get("config"), timeout)
    return session_params, client_params


def create_boto3_client(
    service_name: str, session_params: Mapping[str, Any], client_params: Mapping[str, Any]
) -> Any:
    """A new boto3 client. Raises BotoCoreError (e.g. NoRegionError) as boto3 does."""
    try:
        session = boto3.session.Session(**session_params)
        return session.client(service_name, **client_params)
    except TypeError as err:  # an unknown keyword; the message names it, not its value
        raise AnymailImproperlyConfigured(
            "Invalid Anymail setting AMAZON_SES_SESSION_PARAMS or AMAZON_SES_CLIENT_PARAMS "
            f"(boto3 said: {err})."
        ) from err


def _params_setting(setting: Setting, kwargs: dict[str, Any]) -> dict[str, Any]:
    value = get_setting(setting, ESP_NAME, kwargs)
    return dict(value) if value is not None else {}


def _client_config(config: Any, timeout: Any = UNSET) -> Config:
    """The user's botocore Config (or dict of Config options), plus Anymail's user agent.

    A ``timeout`` option (seconds, a (connect, read) pair, or None for no timeout)
    replaces the config's connect and read timeouts.
    """
    if config is None:
        config = Config()
    elif isinstance(config, Mapping):
        try:
            config = Config(**config)
        except TypeError as err:  # names the unknown option, never a value
            raise invalid_setting(
                "client_params", ESP_NAME, f"its 'config' is invalid: {err}."
            ) from None
    elif not isinstance(config, Config):
        raise invalid_setting(
            "client_params",
            ESP_NAME,
            f"'config' must be a botocore Config or a dict, got {type(config).__name__}.",
        )
    user_agent = f"django-anymail/{__version__}-amazon-ses"
    if config.user_agent_extra:
        user_agent = f"{config.user_agent_extra} {user_agent}"
    config = config.merge(Config(user_agent_extra=user_agent))
    if timeout is not UNSET:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        config = config.merge(Config(connect_timeout=connect, read_timeout=read))
    return config
