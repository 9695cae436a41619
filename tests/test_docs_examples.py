"""The guide's examples run as written (see tests/doc_examples.py), and the
reference pages cover everything the code defines."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from anymail import exceptions, signals
from anymail.message import ANYMAIL_MESSAGE_ATTRIBUTES

from .doc_examples import DOCS, PageRunner, base_settings, code_blocks, emulated_esps, logo_file

ROOT = DOCS.parent

#: The guide pages whose examples run. Every python block on them runs.
GUIDE_PAGES = (
    "installation.md",
    "quickstart.md",
    "sending.md",
    "status-and-errors.md",
    "signals.md",
    "receiving.md",
    "testing.md",
    "troubleshooting.md",
)


@pytest.fixture
def esps() -> Iterator[responses.RequestsMock]:
    with emulated_esps() as mock:
        yield mock


@pytest.fixture
def restored_signals() -> Iterator[None]:
    """Receivers a page connects are disconnected afterwards."""
    saved = {signal: list(signal.receivers) for signal in _anymail_signals()}
    yield
    for signal, receivers in saved.items():
        with signal.lock:
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()


def _anymail_signals() -> list[Any]:
    return [signals.pre_send, signals.post_send, signals.tracking, signals.inbound]


@pytest.mark.django_db
@pytest.mark.parametrize("page", GUIDE_PAGES)
def test_guide_examples_run(
    page: str,
    request: pytest.FixtureRequest,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    esps: responses.RequestsMock,
    restored_signals: None,
) -> None:
    for name, value in base_settings().items():
        setattr(settings, name, value)
    logo_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert code_blocks(page), f"docs/{page} has no examples to run"
    PageRunner(page, request, settings, monkeypatch).run()


BROKEN_EXAMPLES = {
    "doctest": """
```pycon
>>> from anymail.message import AnymailMessage
>>> AnymailMessage(subject="Hi", body="...", to=["ana@example.com"]).send()
0
```
""",
    "test case": """
```python
from django.test import SimpleTestCase

class Broken(SimpleTestCase):
    def test_it(self):
        self.assertEqual(1, 2)
```
""",
    "test function": """
```python
def test_it(settings):
    assert settings.DEFAULT_FROM_EMAIL == "nobody@example.com"
```
""",
    "unreachable host": """
```python
import requests
requests.get("https://example.com/")
```
""",
}


@pytest.mark.parametrize("example", sorted(BROKEN_EXAMPLES))
def test_a_broken_example_fails_the_page(
    example: str,
    request: pytest.FixtureRequest,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    esps: responses.RequestsMock,
) -> None:
    for name, value in base_settings().items():
        setattr(settings, name, value)
    (tmp_path / "page.md").write_text(f"# A page\n{BROKEN_EXAMPLES[example]}", encoding="utf-8")
    runner = PageRunner("page.md", request, settings, monkeypatch, docs=tmp_path)
    with pytest.raises((AssertionError, requests.ConnectionError)):
        runner.run()


# --- the reference parts of the guide cover what the code defines ---------------------


def headings(page: str) -> set[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}


def test_sending_has_a_section_for_every_message_attribute() -> None:
    titles = headings("sending.md")
    covered = {name for title in titles for name in re.split(r"\W+", title)}
    missing = [name for name in ANYMAIL_MESSAGE_ATTRIBUTES if name not in covered]
    assert not missing, f"docs/sending.md has no section for {missing}"


def test_status_and_errors_covers_every_exception_and_warning() -> None:
    text = (DOCS / "status-and-errors.md").read_text(encoding="utf-8")
    defined = [
        name
        for name, value in vars(exceptions).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == exceptions.__name__
        and not name.startswith("_")
    ]
    assert "AnymailRecipientsRefused" in defined
    missing = [
        name for name in defined if f"### {name}\n" not in text and f"**{name}:**" not in text
    ]
    assert not missing, f"docs/status-and-errors.md does not describe {missing}"


def test_troubleshooting_lists_every_system_check() -> None:
    source = (ROOT / "src" / "anymail" / "checks.py").read_text(encoding="utf-8")
    in_code = set(re.findall(r"anymail\.[EW]\d{3}", source))
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `(anymail\.[EW]\d{3})` \|", text, re.MULTILINE))
    assert len(in_code) >= 13
    assert table == in_code


def test_installation_lists_every_extra_with_what_it_installs() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"]["optional-dependencies"]
    text = (DOCS / "installation.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| \[[^]]+\]\(esps/(\w+)\.md\) \| `anymail\.backends\.(\w+)\.EmailBackend` "
        r"\| `([\w-]+)` \| (.+) \|$",
        text,
        re.MULTILINE,
    )
    from anymail._feature_matrix import esp_backends

    slugs = [backend.__module__.rsplit(".", 1)[1] for backend in esp_backends()]
    assert [page for page, *_ in rows] == [module for _, module, *_ in rows] == slugs
    for _page, _module, extra, installs in rows:
        packages = {re.split(r"[<>=;\[ ]", requirement)[0] for requirement in extras[extra]}
        shown = set(re.findall(r"`([\w-]+)`", installs))
        assert shown == packages, f"installation.md: extra {extra} installs {packages}"
        assert (installs == "nothing more") == (not packages)
    # The rest: the alias's extra and the queued backend's (named in the text), and "all".
    listed = {extra for *_, extra, _ in rows}
    assert set(extras) - listed == {"sendinblue", "queued", "all"}
    assert "(extra `sendinblue`)" in text
    queued = {re.split(r"[<>=;\[ ]", requirement)[0] for requirement in extras["queued"]}
    assert "its extra `queued`" in text and all(f"`{name}`" in text for name in queued)
