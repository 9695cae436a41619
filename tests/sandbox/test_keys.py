"""The sandbox signs Postal (RSA), SendGrid (ECDSA) and Amazon SES (SNS: RSA and a
certificate) events with key pairs of its own, and the app verifies them with the public
halves (for SNS, the certificate pinned by AMAZON_SES_SNS_SIGNING_CERTIFICATES): in the
app's process, and with ``anymail sandbox`` in another process (``--keys FILE`` keeps the
pairs across restarts)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.test import override_settings

from anymail import _testing_postal, _testing_sendgrid
from anymail.sandbox import DEFAULT_API_KEY, DEFAULT_WEBHOOK_SECRET, Sandbox, SandboxKeys
from anymail.sandbox.keys import certificate_pem
from anymail.testing import captured_events
from tests.sandbox.messages import order
from tests.sandbox.processes import first_answer, start_cli

KEY_SETTINGS = {
    "postal": "POSTAL_WEBHOOK_KEY",
    "sendgrid": "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY",
}
SNS_SETTINGS = {
    "amazon_ses": "AMAZON_SES_SNS_SIGNING_CERTIFICATES",
    "scaleway": "SCALEWAY_SNS_SIGNING_CERTIFICATES",
}


def send(esp: str, settings: dict[str, object]) -> None:
    with override_settings(EMAIL_BACKEND=f"anymail.backends.{esp}.EmailBackend", ANYMAIL=settings):
        order(body="Your order has shipped.").send()


def test_each_sandbox_has_its_own_key_pairs() -> None:
    first, second = Sandbox(), Sandbox()
    assert first.keys.postal.public_key != second.keys.postal.public_key
    assert first.keys.sendgrid.public_key != second.keys.sendgrid.public_key
    # ...not anymail.testing's process-wide test signers.
    assert first.keys.postal.public_key != _testing_postal.webhook_key()
    assert first.keys.sendgrid.public_key != _testing_sendgrid.verification_key()
    assert first.settings("postal")["POSTAL_WEBHOOK_KEY"] == first.keys.postal.public_key
    assert (
        first.settings("sendgrid")["SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"]
        == first.keys.sendgrid.public_key
    )


@pytest.mark.parametrize("esp", sorted(KEY_SETTINGS))
def test_app_with_another_public_key_refuses_the_event(sandbox: Sandbox, esp: str) -> None:
    other_key = Sandbox().settings(esp)[KEY_SETTINGS[esp]]
    settings = {**sandbox.settings(esp), KEY_SETTINGS[esp]: other_key}
    send(esp, settings)
    with override_settings(ANYMAIL=settings), captured_events() as events:
        record = sandbox.fire(sandbox.messages()[0], "delivered")
    assert events == []
    assert record.status == 400


def test_keys_file_keeps_the_key_pairs(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-keys.json"
    keys = SandboxKeys(path)
    postal, sendgrid = keys.postal.public_key, keys.sendgrid.public_key
    sns_settings = [Sandbox(keys=keys).emulator(esp).webhook_settings() for esp in SNS_SETTINGS]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = SandboxKeys(path)
    assert (again.postal.public_key, again.sendgrid.public_key) == (postal, sendgrid)
    assert [Sandbox(keys=again).emulator(esp).webhook_settings() for esp in SNS_SETTINGS] == (
        sns_settings
    )
    assert SandboxKeys().postal.public_key != postal


def test_sns_certificates_are_pinned_to_the_urls_the_sandbox_signs_with(sandbox: Sandbox) -> None:
    signer = sandbox.keys.sns
    url = signer.cert_url("us-east-1")
    assert sandbox.settings("amazon_ses")["AMAZON_SES_SNS_SIGNING_CERTIFICATES"] == {
        url: signer.cert_pem.decode("ascii")
    }
    assert Sandbox().keys.sns.cert_url("us-east-1") != url
    ca, scaleway = sandbox.keys.scaleway
    settings = sandbox.settings("scaleway")
    assert settings["SCALEWAY_SNS_TRUST_CHAIN"] == certificate_pem(ca)
    [(scaleway_url, pem)] = settings["SCALEWAY_SNS_SIGNING_CERTIFICATES"].items()
    assert scaleway.cert_id in scaleway_url and pem == scaleway.cert_pem.decode("ascii")
    scaleway.certificate.verify_directly_issued_by(ca)


@pytest.fixture
def sandbox_process(app_url: str, unused_port: int, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``anymail sandbox --keys FILE`` in another process, posting to the served test app."""
    keys = tmp_path / "keys.json"
    process = start_cli(
        *("sandbox", "--port", str(unused_port)),
        *("--app-url", f"{app_url}/anymail/", "--keys", str(keys)),
    )
    url = f"http://127.0.0.1:{unused_port}/"
    try:
        first_answer(url)
        yield url, keys
    finally:
        process.terminate()
        process.wait(timeout=10)
    out = process.stdout.read() if process.stdout else ""
    # It printed the public keys the app must be configured with.
    public = SandboxKeys(keys)
    assert f"'POSTAL_WEBHOOK_KEY': '{public.postal.public_key}'" in out
    for esp, name in SNS_SETTINGS.items():
        printed = Sandbox(keys=public).emulator(esp).webhook_settings()[name]
        assert f"{name!r}: {printed!r}," in out


@pytest.mark.parametrize("esp", sorted(KEY_SETTINGS))
def test_out_of_process_sandbox_events_verify_with_its_public_keys(
    sandbox_process: tuple[str, Path], esp: str
) -> None:
    url, keys_file = sandbox_process
    public_key = getattr(SandboxKeys(keys_file), esp).public_key
    api = {"postal": "POSTAL_API_URL", "sendgrid": "SENDGRID_API_URL"}[esp]
    credential = {"postal": "POSTAL_API_KEY", "sendgrid": "SENDGRID_API_KEY"}[esp]
    settings = {
        credential: DEFAULT_API_KEY,
        api: f"{url}{esp}/" + ("v3/" if esp == "sendgrid" else ""),
        KEY_SETTINGS[esp]: public_key,
        "WEBHOOK_SECRET": DEFAULT_WEBHOOK_SECRET,
    }
    send(esp, settings)
    [message] = requests.get(f"{url}api/messages", timeout=10).json()
    with override_settings(ANYMAIL=settings), captured_events() as events:
        answer = requests.post(
            f"{url}messages/{message['id']}/events",
            data={"event": "bounced", "recipient": "ana@example.com"},
            timeout=30,
        )
    assert answer.status_code == 200  # (after the redirect to the message page)
    [event] = events
    assert (event.event_type, event.recipient) == ("bounced", "ana@example.com")
    [summary] = requests.get(f"{url}api/messages", timeout=10).json()
    assert [(e["event"], e["status"]) for e in summary["events"]] == [("bounced", 200)]


@pytest.mark.parametrize("esp", sorted(SNS_SETTINGS))
def test_out_of_process_sandbox_sns_events_verify_with_the_pinned_certificate(
    sandbox_process: tuple[str, Path], esp: str
) -> None:
    """Nothing is handed over in-process: without the pinned certificate the app would
    fetch its URL from Amazon's or Scaleway's host, which cannot serve it (503)."""
    if esp == "amazon_ses":
        pytest.importorskip("boto3")
    from anymail.webhooks._sns_certs import DEFAULT_CERT_CACHE

    url, keys_file = sandbox_process
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    # What the running sandbox printed: its settings, with the keys from the file.
    settings = Sandbox(port=port, keys=SandboxKeys(keys_file)).settings(esp)
    [cert_url] = settings[SNS_SETTINGS[esp]]
    send(esp, settings)
    [message] = requests.get(f"{url}api/messages", timeout=10).json()
    assert DEFAULT_CERT_CACHE.get(cert_url) is None
    with override_settings(ANYMAIL=settings), captured_events() as events:
        answer = requests.post(
            f"{url}messages/{message['id']}/events",
            data={"event": "bounced", "recipient": "ana@example.com"},
            timeout=30,
        )
    assert answer.status_code == 200
    [event] = events
    assert (event.event_type, event.recipient) == ("bounced", "ana@example.com")
    [summary] = requests.get(f"{url}api/messages", timeout=10).json()
    assert [(e["event"], e["status"]) for e in summary["events"]] == [("bounced", 200)]
