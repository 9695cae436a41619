"""``anymail demo`` and ``anymail sandbox`` as users run them: separate processes."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest
import requests

from tests.sandbox.processes import first_answer, run_cli, start_cli


@pytest.mark.parametrize(
    ("args", "esp_name"),
    [
        ((), "Postmark"),
        (("--esp", "Mailgun"), "Mailgun"),
        (("--esp", "scaleway"), "Scaleway"),
        (("--esp", "amazon-ses"), "Amazon SES"),
        (("--esp", "postal"), "Postal"),
        (("--esp", "sendgrid"), "SendGrid"),
    ],
)
def test_e2e_demo(args: tuple[str, ...], esp_name: str) -> None:
    result = run_cli("demo", *args)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(
        r"Sent 'Your order .*' through .* backend over HTTP:\n  ana@example.com: ", out
    )
    got = re.findall(
        r"app's tracking receiver got: (\w+) for ana@example.com \(message_id "
        rf"(\S+), from {esp_name}",
        out,
    )
    assert [event for event, _ in got] == ["delivered", "bounced"]
    sent_id = re.search(r"  ana@example.com: \w+ \((\S+)\)", out)
    assert sent_id is not None and {mid for _, mid in got} == {sent_id[1]}
    assert out.count("app answered 200") == 2
    # It shows how the app verifies the sandbox's posts (signing ESPs: its public key).
    assert "WEBHOOK_SECRET = 'sandbox-webhooks:" in out
    if esp_name in ("Postal", "SendGrid"):
        assert "(public key of the sandbox's own key pair)" in out


def test_open_keeps_the_ui_running() -> None:
    process = start_cli("demo", "--open")
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Open http://"):
                break
        url = re.fullmatch(r"Open (http://127\.0\.0\.1:\d+/) .*\n", lines[-1])
        assert url, "".join(lines)
        # Postmark's batch send: one message per recipient; the events were Ana's.
        listed = requests.get(f"{url[1]}api/messages", timeout=10).json()
        by_to = {next(iter(m["ids"])): m for m in listed}
        assert sorted(by_to) == ["ana@example.com", "jo.smith@example.net"]
        summary = by_to["ana@example.com"]
        assert summary["esp"] == "postmark"
        assert summary["status"] == "bounced"
        assert [(e["event"], e["status"]) for e in summary["events"]] == [
            ("delivered", 200),
            ("bounced", 200),
        ]
        page = requests.get(url[1], timeout=10).text
        assert "Your order {{order_no}} has shipped" in page
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C stops it
        try:
            returncode = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _out, err = process.communicate()
            pytest.fail(f"'anymail demo --open' did not stop on Ctrl-C; its stderr:\n{err}")
    assert returncode == 0


def test_e2e_demo_unknown_esp() -> None:
    result = run_cli("demo", "--esp", "nope")
    assert result.returncode == 2
    assert result.stderr.startswith("anymail demo: The sandbox has no 'nope' emulator")


def test_sandbox_command_serves(unused_port: int) -> None:
    process = start_cli("sandbox", "--port", str(unused_port))
    try:
        url = f"http://127.0.0.1:{unused_port}/"
        page = first_answer(url)
        assert page.status_code == 200
        assert "POSTMARK_API_URL" in page.text
        refused = requests.post(f"{url}postmark/email", json={}, timeout=5)
        assert refused.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
