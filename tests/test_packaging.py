"""The package as published: version, metadata, LICENSE, and what the sdist and wheel hold."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from anymail import __version__

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT: dict[str, Any] = PYPROJECT["project"]

#: The newest release of the public django-anymail line this package replaces.
PUBLIC_RELEASE = Version("15.2")


def test_version_sorts_above_the_public_release() -> None:
    # Else `pip install -U django-anymail` would replace this package with the public one.
    assert Version(__version__) > PUBLIC_RELEASE
    assert str(Version(__version__)) == __version__  # already in canonical PEP 440 form


def test_license_file_matches_the_declared_license() -> None:
    assert PROJECT["license"] == "BSD-3-Clause"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License\n")
    assert re.search(r"^Copyright \(c\) \d{4}, django-anymail contributors$", text, re.M)
    assert "Neither the name of the copyright holder" in text  # the third clause


def test_project_urls() -> None:
    urls = PROJECT["urls"]
    assert set(urls) >= {"Homepage", "Documentation", "Repository", "Issues"}
    assert all(url.startswith("https://") for url in urls.values())
    assert urls["Documentation"] == urls["Repository"] + "/blob/main/docs/index.md"


def _classifiers(prefix: str) -> set[str]:
    return {c[len(prefix) :] for c in PROJECT["classifiers"] if c.startswith(prefix)}


def test_development_status_matches_the_version() -> None:
    (status,) = _classifiers("Development Status :: ")
    if Version(__version__).is_prerelease:
        assert status in {"1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta"}
    else:
        assert status in {"5 - Production/Stable", "6 - Mature"}


def test_python_and_django_classifiers_match_what_is_tested() -> None:
    # The dev group pins the Django line tested on each Python (.ci/run runs both).
    django_lines = [
        Requirement(req).specifier
        for req in PYPROJECT["dependency-groups"]["dev"]
        if isinstance(req, str) and req.startswith("django>")
    ]
    classified = _classifiers("Framework :: Django :: ")
    assert sorted(classified) == ["5.2", "6.1"]
    assert len(django_lines) == len(classified)
    for line in django_lines:
        assert [v for v in classified if line.contains(f"{v}.0")], f"no classifier for {line}"
    pythons = _classifiers("Programming Language :: Python :: 3.")
    assert pythons == {"11", "12", "13"}
    assert SpecifierSet(PROJECT["requires-python"]).contains("3.11")
    assert not SpecifierSet(PROJECT["requires-python"]).contains("3.10")


def _uv() -> list[str]:
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` sets UV
    if uv is None:
        pytest.fail("uv is needed to build the package (pip install uv)")
    return [uv]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(  # noqa: S603 (uv, on our own project)
        [*_uv(), "build", "--sdist", "--wheel", "--quiet", "--out-dir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_wheel_holds_the_package_and_its_type_information(built: dict[str, Path]) -> None:
    wheel = built["wheel"]
    assert wheel.name == f"django_anymail-{__version__}-py3-none-any.whl"
    dist_info = f"django_anymail-{__version__}.dist-info/"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(dist_info + "METADATA").decode("utf-8"))
        entry_points = archive.read(dist_info + "entry_points.txt").decode("utf-8")
    assert not [name for name in names if not name.startswith(("anymail/", dist_info))]
    assert "anymail/py.typed" in names
    assert "anymail/cli.py" in names and "anymail/backends/postmark.py" in names
    assert not [name for name in names if "test" in name.split("/")[0]]  # no tests package
    assert dist_info + "licenses/LICENSE" in names

    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "BSD-3-Clause"
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL"))
    assert urls == PROJECT["urls"]
    assert set(metadata.get_all("Classifier")) == set(PROJECT["classifiers"])
    assert "anymail = anymail.cli:main" in entry_points


def test_sdist_holds_the_source_and_docs_but_no_tests(built: dict[str, Path]) -> None:
    root = f"django_anymail-{__version__}/"
    with tarfile.open(built["sdist"]) as archive:
        names = {name[len(root) :] for name in archive.getnames() if name.startswith(root)}
    assert {"LICENSE", "README.md", "pyproject.toml", "src/anymail/py.typed"} <= names
    assert "docs/index.md" in names
    tops = {name.split("/")[0] for name in names if name}
    assert not tops & {"tests", "benchmarks", ".ci", ".venv", "dist"}, tops
    assert not [name for name in names if "_build" in name or name.endswith(".pyc")]
