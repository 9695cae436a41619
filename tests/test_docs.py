from pathlib import Path

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
