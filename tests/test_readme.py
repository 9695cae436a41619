"""The README's quick start runs as written.

Its Python blocks are executed: each settings block is loaded the way Django
loads a settings module (Django 6.1 refuses one that mixes EMAIL_BACKEND and
MAILERS), then applied to this test's settings, and the usage block sends
through Postmark with the HTTP call answered by ``responses``. The one liberty
taken: ``...`` stands for the reader's own apps and URL patterns.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest
import responses
from django.conf import Settings

from .utils import fixture_json, only_request, only_request_json, requires_mailers

README = Path(__file__).resolve().parent.parent / "README.md"
SETTINGS_52 = "# settings.py (Django 5.2)"
SETTINGS_61 = "# settings.py (Django 6.1)"
USAGE = "# urls.py (webhooks)"


def quick_start_blocks() -> dict[str, str]:
    """The quick start's python blocks, by their first line."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    by_title = {block.split("\n", 1)[0]: block for block in blocks}
    assert len(by_title) == len(blocks) == 3
    assert set(by_title) == {SETTINGS_52, SETTINGS_61, USAGE}
    return by_title


def load_settings_block(
    block: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Load the block as Django loads a settings module, then apply it to the test settings."""
    module = types.ModuleType("readme_quick_start_settings")
    exec(compile(block, str(README), "exec"), module.__dict__)  # noqa: S102
    names = {name: value for name, value in vars(module).items() if name.isupper()}
    # (Loading sets the process's time zone from TIME_ZONE: keep the tests' own.)
    module.TIME_ZONE = settings.TIME_ZONE
    monkeypatch.setitem(sys.modules, module.__name__, module)
    Settings(module.__name__)  # Django's own checks of a settings module

    # "..." is the project's own apps; the tests' settings already install Anymail.
    assert names.pop("INSTALLED_APPS") == [..., "anymail"]
    assert "anymail" in settings.INSTALLED_APPS
    for name, value in names.items():
        setattr(settings, name, value)
    return names


def run_usage_block(mocked_responses: responses.RequestsMock) -> dict[str, Any]:
    mocked_responses.add(
        responses.POST,
        "https://api.postmarkapp.com/email",
        json=fixture_json("postmark", "send_success.json"),
    )
    block = quick_start_blocks()[USAGE]
    namespace: dict[str, Any] = {}
    exec(compile(block, str(README), "exec"), namespace)  # noqa: S102

    *_project_urls, webhooks = namespace["urlpatterns"]
    assert str(webhooks.pattern) == "anymail/"
    assert webhooks.urlconf_module.__name__ == "anymail.urls"

    body = only_request_json(mocked_responses)
    assert body == {
        "From": "You <you@example.com>",
        "To": "user@example.com",
        "Subject": "Welcome",
        "TextBody": "Hi!",
        "Tag": "onboarding",
        "Metadata": {"app": "myapp", "user_id": "42"},  # SEND_DEFAULTS merged in
    }
    # The status the README shows in its last line's comment is the one reported.
    documented = re.search(r"^message\.anymail_status\.status\s+# (\{[^}]*\})", block, re.M)
    assert documented is not None
    assert namespace["message"].anymail_status.status == ast.literal_eval(documented[1])
    return namespace


@pytest.mark.parametrize(
    ("block", "absent"),
    [
        # A Django 5.2 project's settings; Django 6.1 still accepts them (deprecated).
        pytest.param(SETTINGS_52, "MAILERS", id="django_52"),
        pytest.param(SETTINGS_61, "EMAIL_BACKEND", id="django_61", marks=requires_mailers),
    ],
)
def test_quick_start_settings(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    mocked_responses: responses.RequestsMock,
    block: str,
    absent: str,
) -> None:
    names = load_settings_block(quick_start_blocks()[block], settings, monkeypatch)
    assert absent not in names
    run_usage_block(mocked_responses)
    request = only_request(mocked_responses)
    assert request.headers["X-Postmark-Server-Token"] == "<your-server-token>"


# --- the rest of the README ---------------------------------------------------------------

ROOT = README.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"]
TABLE_START = "<!-- ESP table: generated, do not edit -->\n"
TABLE_END = "<!-- end of ESP table -->"


def test_esp_table_is_generated_from_the_declarations() -> None:
    from anymail._feature_matrix import render_esp_list

    text = README.read_text(encoding="utf-8")
    table = text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]
    assert table == render_esp_list(f"{REPOSITORY}/blob/main/docs/"), (
        "README.md's ESP table is stale: replace it with the output of "
        "`uv run python -m anymail._feature_matrix --readme`"
    )
    assert "| [Postmark](" in table  # (the split found the table)


def test_table_command_links_to_the_declared_repository() -> None:
    # What `python -m anymail._feature_matrix --readme` uses: the package's metadata.
    from anymail._feature_matrix import repository_url

    assert repository_url() == REPOSITORY


def test_links_are_absolute_and_point_at_files_that_exist() -> None:
    # A package index shows the README away from the repository: relative links break.
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert len(targets) > 20
    prefix = f"{REPOSITORY}/blob/main/"
    outside = [target for target in targets if not target.startswith(prefix)]
    assert not outside, f"README links must start with {prefix}"
    missing = [
        target
        for target in targets
        if not (ROOT / target[len(prefix) :].split("#", 1)[0]).is_file()
    ]
    assert not missing


def test_django_61_command_is_the_one_ci_runs() -> None:
    # Run in an environment of its own, as .ci/run does, so that .venv (Python 3.11,
    # Django 5.2) is not rebuilt for another Python.
    text = README.read_text(encoding="utf-8")
    (command,) = re.findall(r"^UV_PROJECT_ENVIRONMENT=.*$", text, re.MULTILINE)
    match = re.fullmatch(r"UV_PROJECT_ENVIRONMENT=(\S+) uv run --python 3\.1[2-9] pytest", command)
    assert match, command
    readme_env = match[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    (ci_command,) = re.findall(r"^UV_PROJECT_ENVIRONMENT=.*pytest$", ci, re.MULTILINE)
    assert ci_command.startswith(f"UV_PROJECT_ENVIRONMENT={readme_env} ")
    assert readme_env != ".venv"
    assert "--python" in ci_command and ci_command.endswith(" pytest")
    # ...and that environment is not committed.
    assert ".venv*/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert readme_env.startswith(".venv")


def test_first_command_runs_the_end_to_end_demo() -> None:
    # The README's first command is the demo with no arguments: the sandbox round trip
    # (tests/sandbox/test_demo.py runs it and checks its output). CI runs it too.
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"^```sh\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    assert first_block is not None
    first_command = first_block[1].split("\n", 1)[0].split("#", 1)[0].strip()
    assert first_command == "python3 -m pip install uv && python3 -m uv run anymail demo"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\nuv run --locked anymail demo > /dev/null\n" in ci
