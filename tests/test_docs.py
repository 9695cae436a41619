from pathlib import Path
from typing import Any

from anymail._feature_matrix import render

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_feature_matrix_is_generated_from_capabilities() -> None:
    committed = (DOCS / "esps" / "feature-matrix.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/esps/feature-matrix.md is stale: regenerate it with "
        "`uv run python -m anymail._feature_matrix > docs/esps/feature-matrix.md`"
    )


def test_every_esp_backend_has_a_docs_page() -> None:
    from anymail._feature_matrix import esp_backends

    for backend in esp_backends():
        slug = backend.__module__.rsplit(".", 1)[1]
        assert (DOCS / "esps" / f"{slug}.md").exists(), f"missing docs/esps/{slug}.md"


def test_feature_matrix_webhook_rows_come_from_the_routed_views(monkeypatch: Any) -> None:
    from anymail import _feature_matrix
    from anymail.signals import tracking
    from anymail.urls import WebhookRoute
    from anymail.webhooks.base import AnymailBaseWebhookView

    def view(esp_name: str, **attributes: Any) -> type[AnymailBaseWebhookView]:
        """A stand-in for the ESP's view: the shared base with these class attributes."""
        return type(
            f"{esp_name}View", (AnymailBaseWebhookView,), {"esp_name": esp_name, **attributes}
        )

    views = {
        "p": view("Postmark", signal=tracking),
        "m": view("Mailgun", signal=tracking, signature_scheme="HMAC-SHA256"),
        "d": view("Mandrill", signature_scheme="HMAC-SHA1"),  # one view for both signals
    }
    monkeypatch.setattr(
        _feature_matrix,
        "WEBHOOK_ROUTES",
        [WebhookRoute(f"{key}/", f"views.{key}", f"{key}_webhook") for key in views],
    )
    monkeypatch.setattr(_feature_matrix, "import_string", lambda path: views[path[-1]])
    rows = {
        line.split(" | ")[0].strip("| "): line.strip("| ").split(" | ")[1:]
        for line in render().splitlines()
        if line.startswith("| ")
    }
    header = rows["Feature"]

    def row(label: str) -> dict[str, str]:
        return dict(zip(header, rows[label], strict=True))

    assert {
        esp: row("tracking webhook")[esp] for esp in ("Mailgun", "Mandrill", "Postmark", "Postal")
    } == {"Mailgun": "Yes", "Mandrill": "Yes", "Postmark": "Yes", "Postal": "No"}
    assert {esp: row("inbound webhook")[esp] for esp in ("Mailgun", "Mandrill", "Postmark")} == {
        "Mailgun": "No",
        "Mandrill": "Yes",
        "Postmark": "No",
    }
    assert {
        esp: row("signature check")[esp] for esp in ("Mailgun", "Mandrill", "Postmark", "Postal")
    } == {
        "Mailgun": "HMAC-SHA256",
        "Mandrill": "HMAC-SHA1",
        "Postmark": "Basic auth only",
        "Postal": "—",
    }
    # The freshness window is the ESP's default (anymail.webhooks.freshness).
    assert {esp: row("signed-time window")[esp] for esp in ("Mailgun", "Mandrill", "Postal")} == {
        "Mailgun": "12 h",
        "Mandrill": "—",
        "Postal": "—",
    }


def test_feature_matrix_shows_what_a_template_id_changes() -> None:
    from anymail._feature_matrix import esp_cell
    from anymail.backends.base import BasePayload, Capabilities

    class Payload(BasePayload):
        capabilities = Capabilities(merge_data=False, send_at="Domain only")
        template_capabilities = capabilities.replace(
            merge_data=True, attachments=False, send_at=False
        )

    assert esp_cell(Payload, "merge_data") == "With template_id"
    assert esp_cell(Payload, "attachments") == "Not with template_id"
    assert esp_cell(Payload, "send_at") == "Domain only; not with template_id"
    assert esp_cell(Payload, "tags") == "Yes"


def test_settings_reference_is_generated_from_declarations() -> None:
    from anymail._settings_reference import render as render_settings

    committed = (DOCS / "settings.md").read_text(encoding="utf-8")
    assert committed == render_settings(), (
        "docs/settings.md is stale: regenerate it with "
        "`uv run python -m anymail._settings_reference > docs/settings.md`"
    )


def test_settings_reference_rows() -> None:
    from anymail._settings_reference import render as render_settings

    rows = {
        line.split(" | ")[0].strip("| `"): line.strip("| ").split(" | ")[1:]
        for line in render_settings().splitlines()
        if line.startswith("| `")
    }
    # Type, default, keyword, bare, secret, read by, description.
    assert rows["REQUESTS_TIMEOUT"][:6] == [
        "seconds, a (connect, read) pair, or None",
        "`30.0` (30 s)",
        "`requests_timeout`",
        "",
        "",
        "backend, inbound webhook",
    ]
    assert rows["POSTMARK_SERVER_TOKEN"][:5] == [
        "string",
        "required",
        "`server_token`",
        "yes",
        "yes",
    ]
    assert rows["SCALEWAY_PROJECT_ID"][2:5] == ["`project_id`", "", ""]  # never bare
    assert rows["MANDRILL_WEBHOOK_KEY"][2:6] == [
        "`as_view(webhook_key=...)`",
        "yes",
        "yes",
        "webhooks",
    ]
    assert rows["AMAZON_SES_WEBHOOK_MAX_AGE"][1] == "`7200` (2 h)"
    assert rows["fail_silently"][0] == "all"  # options only: a table of their own


def test_settings_reference_is_in_the_docs_index() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert "(settings.md)" in index
    assert "\nsettings\n" in index  # the toctree
