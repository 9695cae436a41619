"""The ``anymail demo`` command (anymail.cli, anymail._demo)."""

from __future__ import annotations

import io
import json
import re
import socket
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
import requests
from django.utils.module_loading import import_string

from anymail._demo import DemoEsp
from anymail._feature_matrix import esp_backends
from anymail.addresses import EmailAddress
from anymail.backends.base import Capabilities
from anymail.cli import DEMO_PNG, build_demo_message, demo_esps, main
from anymail.exceptions import AnymailDeprecationWarning

from .sandbox.processes import run_cli
from .tiny_esp import TinyJsonBackend, TinyJsonPayload

ROOT = Path(__file__).resolve().parent.parent
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(autouse=True)
def demo_like_settings(settings: Any) -> None:
    # In-process, Django is already configured (by pytest-django): match the demo's sender.
    settings.ANYMAIL = {}
    settings.DEFAULT_FROM_EMAIL = "Example Shop <orders@shop.example.com>"


def split_console_output(out: str) -> tuple[dict[str, Any], str]:
    """The JSON send params and the anymail_status lines the demo printed."""
    assert out.startswith("Anymail send params:\n")
    params_text, status_text = out[len("Anymail send params:\n") :].split("\n" + "-" * 79 + "\n")
    return json.loads(params_text), status_text


def check_demo_output(out: str, tags: list[str]) -> None:
    params, status = split_console_output(out)
    (logo, invoice) = params.pop("attachments")
    cid = logo.pop("content_id")
    assert re.fullmatch(r"\d+\.\d+\.\d+\.img@inline", cid)
    assert logo == {
        "name": "logo.png",
        "content_type": "image/png",
        "size": len(DEMO_PNG),
        "inline": True,
    }
    assert invoice == {
        "name": "invoice.csv",
        "content_type": "text/csv; charset=utf-8",
        "size": 29,
        "inline": False,
        "content_id": None,
    }
    assert params == {
        "from_email": "Example Shop <orders@shop.example.com>",
        "to": ["Ana García <ana@example.com>", '"Smith, Jo" <jo.smith@example.net>'],
        "subject": "Your order {{order_no}} has shipped",
        "reply_to": ["Support <support@shop.example.com>"],
        "extra_headers": {"X-Campaign": "shipping-2026"},
        "text_body": "Hi {{name}}, your order {{order_no}} is on its way.",
        "html_body": f'<p><img alt="Example Shop" src="cid:{cid}"></p>'
        "<p>Hi {{name}}, your order <b>{{order_no}}</b> is on its way.</p>",
        "metadata": {"order_batch": "B-1042"},
        "merge_metadata": {
            "ana@example.com": {"customer_id": "c-17"},
            "jo.smith@example.net": {"customer_id": "c-42"},
        },
        "tags": tags,
        "track_clicks": True,
        "merge_data": {
            "ana@example.com": {"name": "Ana", "order_no": "A-1001"},
            "jo.smith@example.net": {"name": "Jo", "order_no": "A-1002"},
        },
        "merge_global_data": {"shop": "Example Shop"},
    }
    assert re.fullmatch(
        rf"anymail_status:\n"
        rf"  status: \['sent'\]\n"
        rf"  message_id: ({UUID})\n"
        rf"  recipients\['ana@example.com'\]: sent \(\1\)\n"
        rf"  recipients\['jo.smith@example.net'\]: sent \(\1\)\n",
        status,
    ), status


def test_demo_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--offline"]) == 0
    check_demo_output(capsys.readouterr().out, tags=["order-shipped"])


def test_demo_command_configures_django_itself() -> None:
    result = run_cli("demo", "--offline")  # (without DJANGO_SETTINGS_MODULE)
    assert result.returncode == 0, result.stderr
    check_demo_output(result.stdout, tags=["demo", "order-shipped"])


def test_demo_unknown_esp(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--offline", "--esp", "No-Such-ESP"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("anymail demo: unknown ESP 'no_such_esp'; choose one of: ")


def test_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main([])
    assert excinfo.value.code == 2
    assert "required: COMMAND" in capsys.readouterr().err


# --- anymail demo --esp: the captured request ------------------------------------------


class TinyPayload(TinyJsonPayload):
    capabilities = Capabilities(
        merge_metadata=False, merge_data=False, inline_images=False, reply_to=False
    )

    def init_payload(self) -> None:
        super().init_payload()
        self.headers["Authorization"] = f"Bearer {self.backend.api_key}"

    def get_api_endpoint(self) -> str:
        return "send"

    def set_recipients(self, recipient_type: str, emails: list[EmailAddress]) -> None:
        self.data[recipient_type] = [e.addr_spec for e in emails]

    def set_html_body(self, body: str) -> None:
        pass

    def set_extra_headers(self, headers: Any) -> None:
        pass

    def add_attachment(self, attachment: Any) -> None:
        self.data.setdefault("files", []).append(attachment.name)

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        pass

    def set_tags(self, tags: list[str]) -> None:
        self.data["tags"] = tags

    def set_track_clicks(self, track_clicks: bool) -> None:
        pass

    def set_merge_global_data(self, merge_global_data: dict[str, Any]) -> None:
        pass


class TinyBackend(TinyJsonBackend):
    esp_name = "Tiny"
    payload_class = TinyPayload

    def __init__(self, api_key: str, **kwargs: Any) -> None:
        self.api_key = api_key
        super().__init__(api_url="https://api.tiny.example/v1/", **kwargs)


def tiny_answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    assert request.url == "https://api.tiny.example/v1/send"
    return 200, {"Content-Type": "application/json"}, '{"id": "tiny-1"}'


TINY_DEMO = DemoEsp(
    backend=f"{__name__}.TinyBackend",
    options={"api_key": "demo-key"},
    adapted="none.",
    answer=tiny_answer,
)


def test_esp_demo_prints_the_exact_request_and_status(monkeypatch: pytest.MonkeyPatch) -> None:
    from anymail import cli

    monkeypatch.setattr(cli, "demo_esps", lambda: {"tiny": TINY_DEMO})

    def refuse_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the demo must not reach the network")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse_network)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["demo", "--offline", "--esp", "Tiny"]) == 0
    text = out.getvalue()
    head, rest = text.split("\n\n", 1)
    lines = head.split("\n")
    assert lines[0] == "----- Demo changes for Tiny: none."
    assert lines[1] == "===== Tiny API request"
    assert lines[2] == "POST https://api.tiny.example/v1/send"
    assert "Authorization: Bearer demo-key" in lines
    body, footer = rest.split("\n----- Not sent", 1)
    assert json.loads(body) == {
        "from": "Example Shop <orders@shop.example.com>",
        "to": ["ana@example.com", "jo.smith@example.net"],
        "subject": "Your order {{order_no}} has shipped",
        "text": "Hi {{name}}, your order {{order_no}} is on its way.",
        "files": ["logo.png", "invoice.csv"],  # the inline image, sent attached
        "tags": ["order-shipped"],
    }
    assert footer == (
        " (Tiny does not support): merge_metadata; merge_data; reply_to; inline images\n"
        "anymail_status:\n"
        "  status: ['queued']\n"
        "  message_id: tiny-1\n"
        "  recipients['ana@example.com']: queued (tiny-1)\n"
        "  recipients['jo.smith@example.net']: queued (tiny-1)\n"
    )


def test_demo_message_uses_most_features() -> None:
    message = build_demo_message()
    assert message.tags == ["order-shipped"]
    assert set(message.merge_data) == {"ana@example.com", "jo.smith@example.net"}
    assert len(message.attachments) == 2
    assert [mimetype for _, mimetype in message.alternatives] == ["text/html"]


# --- anymail demo --esp, for every ESP -------------------------------------------------

#: Per ESP: the API requests its demo sends, and pieces of the output that show the
#: demo's adjustments for that ESP and the ESP's canned answer took effect.
ESP_DEMOS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "amazon_ses": (
        ["POST https://email.us-east-1.amazonaws.com/v2/email/outbound-bulk-emails"],
        (
            "\n===== Amazon SES API call: send_bulk_email (SES v2 SendBulkEmail)\n",
            '"TemplateName": "OrderShipped"',
            "  status: ['queued']\n",
        ),
    ),
    "brevo": (
        ["POST https://api.brevo.com/v3/smtp/email"],
        (
            "Hi {{ params.name }}",
            '"messageVersions"',
            "{{ params.order_no }}",
            "recipients['ana@example.com']: queued (<202603021405.50123456789.1@",
        ),
    ),
    "sendinblue": (["POST https://api.brevo.com/v3/smtp/email"], ("Hi {{ params.name }}",)),
    "mailgun": (
        ["POST https://api.mailgun.net/v3/mg.shop.example.com/messages"],
        ("Hi %recipient.name%",),
    ),
    "mailjet": (
        ["POST https://api.mailjet.com/v3.1/send"],
        (
            '"TextPart": "Hi [[var:name]], your order [[var:order_no]] is on its way."',
            "recipients['ana@example.com']: sent (576460752303423489)",
            "recipients['jo.smith@example.net']: sent (576460752303423490)",
        ),
    ),
    "mandrill": (
        ["POST https://mandrillapp.com/api/1.0/messages/send.json"],
        ('"merge_language": "handlebars"',),
    ),
    "postal": (
        ["POST https://postal.example.com/api/v1/send/message"],
        ('"plain_body": "Hi, your order is on its way."',),
    ),
    "postmark": (
        ["POST https://api.postmarkapp.com/email/batchWithTemplates"],
        ('"TemplateAlias": "order-shipped"',),
    ),
    "resend": (["POST https://api.resend.com/emails/batch"], ('"template": {',)),
    "scaleway": (
        ["POST https://api.scaleway.com/transactional-email/v1alpha1/regions/fr-par/emails"] * 2,
        ('"text": "Hi Jo, your order A-1002 is on its way."',),
    ),
    "sendgrid": (["POST https://api.sendgrid.com/v3/mail/send"], ('"{{name}}": "Ana"',)),
    "sparkpost": (
        ["POST https://api.sparkpost.com/api/v1/transmissions/"],
        ('"text": "Hi {{name}}, your order {{order_no}} is on its way."',),
    ),
}


def test_every_esp_has_a_demo() -> None:
    slugs = {backend.__module__.rsplit(".", 1)[1] for backend in esp_backends()}
    assert set(demo_esps()) == set(ESP_DEMOS) == slugs | {"sendinblue"}


@pytest.mark.parametrize("esp", sorted(ESP_DEMOS))
def test_esp_demo(
    esp: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the demo must not reach the network")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse_network)
    monkeypatch.setattr(socket.socket, "connect", refuse_network)
    deprecated = esp == "sendinblue"
    with pytest.warns(AnymailDeprecationWarning) if deprecated else nullcontext():
        assert main(["demo", "--offline", "--esp", esp.upper().replace("_", "-")]) == 0
    out = capsys.readouterr().out

    demo = demo_esps()[esp]
    esp_name = import_string(demo.backend).esp_name
    requests_sent, pieces = ESP_DEMOS[esp]
    # First, what the demo changed for this ESP; "none" only where it changes nothing.
    assert out.startswith(f"----- Demo changes for {esp_name}: {demo.adapted}\n")
    assert demo.adapted.startswith("none") == (not demo.adjusts)
    for piece in pieces:
        assert piece in out
    assert re.findall(r"^(?:GET|POST|PUT|PATCH|DELETE) \S+$", out, re.MULTILINE) == requests_sent
    # Every recipient's status is a success, with an id from the canned ESP answer.
    statuses = re.findall(r"^  recipients\['([^']+)'\]: (\w+) \((.+)\)$", out, re.MULTILINE)
    assert sorted(address for address, _status, _id in statuses) == [
        "ana@example.com",
        "jo.smith@example.net",
    ]
    assert {status for _address, status, _id in statuses} <= {"queued", "sent"}
    assert all(message_id not in ("", "None") for _address, _status, message_id in statuses)
