"""One declaration per setting: the registry the checks and the settings reference read."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anymail import _settings_registry as registry
from anymail.backends.base_requests import AnymailRequestsBackend
from anymail.checks import check_anymail_settings
from anymail.conf import CREDENTIAL, STRING, Setting

from .utils import without_boto3

SRC = Path(__file__).resolve().parent.parent / "src" / "anymail"
CACHED = (registry.readers, registry.entries)


@pytest.fixture(autouse=True)
def fresh_registry(settings: Any) -> Iterator[None]:
    settings.ANYMAIL = {}
    for function in CACHED:
        function.cache_clear()
    yield
    for function in CACHED:
        function.cache_clear()


def add_reader(monkeypatch: pytest.MonkeyPatch, cls: type, kind: str = "backend") -> None:
    real = registry.readers()
    monkeypatch.setattr(registry, "readers", lambda: (*real, registry._class_reader(cls, kind)))
    registry.entries.cache_clear()


class AcmeBackend(AnymailRequestsBackend):
    esp_name = "Acme"
    declared_settings = (
        Setting("api_token", CREDENTIAL, "an Acme API token", secret=True, bare=True),
        Setting("region", STRING, "The Acme region.", default="eu"),
    )


def test_every_declared_setting_passes_the_check(settings: Any) -> None:
    entries = registry.entries()
    assert len(entries) > 90
    settings.ANYMAIL = {
        entry.name: {} if entry.name.endswith("SEND_DEFAULTS") else "x" for entry in entries
    }
    assert check_anymail_settings() == []


def test_a_declaration_is_all_the_checks_need(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.ANYMAIL = {"ACME_REGION": "us", "ACME_REGOIN": "us", "ACME_KEY": "x"}
    unknown = [warning.msg for warning in check_anymail_settings()]
    assert len(unknown) == 3 and not any("mean 'ACME_" in msg for msg in unknown)
    add_reader(monkeypatch, AcmeBackend)
    assert [warning.msg for warning in check_anymail_settings()] == [
        "Unknown Anymail setting ANYMAIL['ACME_REGOIN']. Did you mean 'ACME_REGION'?",
        # A credential-like name: the ESP's required secret settings.
        "Unknown Anymail setting ANYMAIL['ACME_KEY']. Did you mean 'ACME_API_TOKEN'?",
    ]


def test_what_the_backends_share_is_declared_once_per_esp(monkeypatch: pytest.MonkeyPatch) -> None:
    add_reader(monkeypatch, AcmeBackend)
    names = {entry.name: entry for entry in registry.entries() if entry.prefix == "ACME"}
    # The ESP's own, and the per-ESP settings its base classes declare.
    assert sorted(names) == ["ACME_API_TOKEN", "ACME_API_URL", "ACME_REGION", "ACME_SEND_DEFAULTS"]
    assert names["ACME_API_TOKEN"].required and names["ACME_API_TOKEN"].setting.secret
    assert names["ACME_REGION"].defaults == ["eu"]


def test_per_esp_defaults_come_from_the_reader() -> None:
    entries = {entry.name: entry for entry in registry.entries()}
    assert entries["POSTMARK_API_URL"].defaults == ["https://api.postmarkapp.com/"]
    assert entries["POSTAL_API_URL"].required  # self-hosted: Postal's own declaration
    assert entries["MAILGUN_WEBHOOK_MAX_AGE"].defaults == [12 * 3600]
    assert entries["POSTMARK_WEBHOOK_MAX_AGE"].defaults == [None]
    assert entries["REQUESTS_TIMEOUT"].defaults == [30.0]


def test_two_declarations_of_one_name_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class Postmark2(AnymailRequestsBackend):
        esp_name = "Postmark"
        declared_settings = (Setting("server_token", CREDENTIAL, "another", secret=True),)

    add_reader(monkeypatch, Postmark2)
    with pytest.raises(RuntimeError, match="declares the setting POSTMARK_SERVER_TOKEN twice"):
        registry.entries()


def test_shared_settings_are_one_object_for_every_reader() -> None:
    entries = {entry.name: entry for entry in registry.entries()}
    kinds = {reader.kind for reader in entries["MAILGUN_API_KEY"].readers}
    assert kinds == {"backend", "webhook"}  # the webhooks fall back to the API key
    assert {reader.kind for reader in entries["AMAZON_SES_CLIENT_PARAMS"].readers} == {
        "backend",
        "webhook",
    }


def test_declarations_need_no_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    with_boto3 = {entry.name: entry.setting for entry in registry.entries()}
    without_boto3(monkeypatch, "anymail.backends.amazon_ses")
    registry.readers.cache_clear()
    registry.entries.cache_clear()
    without = {entry.name: entry.setting for entry in registry.entries()}
    assert "anymail.backends.amazon_ses" not in sys.modules
    assert without == with_boto3
    (ses,) = [r for r in registry.readers() if r.kind == "backend" and r.esp_name == "Amazon SES"]
    assert ses.owner is None and ses.path == "anymail.backends.amazon_ses.EmailBackend"
    assert "AMAZON_SES_CONFIGURATION_SET_NAME" in without


def test_backend_declarations_match_the_light_module() -> None:
    from anymail import _amazon_ses_settings
    from anymail.backends.amazon_ses import EmailBackend

    assert EmailBackend.declared_settings is _amazon_ses_settings.BACKEND_SETTINGS
    assert EmailBackend.esp_name == _amazon_ses_settings.ESP_NAME


def test_only_conf_reads_django_settings() -> None:
    # conf.py's docstring says so (the standalone commands configure Django through it).
    pattern = re.compile(r"from django\.conf import settings|django\.conf\.settings")
    readers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    )
    assert readers == ["conf.py"]


def test_settings_are_read_through_their_declarations() -> None:
    # get_anymail_setting() (kept for extenders) takes a bare name: a setting read that
    # way would be missing from the checks and the settings reference.
    callers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "get_anymail_setting(" in path.read_text(encoding="utf-8")
    )
    # SendGrid's backend looks for the v2 USERNAME/PASSWORD only to refuse them.
    assert callers == ["backends/sendgrid.py", "conf.py"]
