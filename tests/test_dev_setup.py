"""The development set-up the README describes: test output and the Django 6.1 run."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.utils import ROOT, run_python


def test_skipped_tests_are_counted_not_listed(tmp_path: Path) -> None:
    # The project's own pytest configuration, on a file with a skip and a failure.
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        "def test_skipped():\n    pytest.skip('needs Django 6.1')\n\n"
        "def test_failed():\n    assert False\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = run_python(
        *("-m", "pytest", "-p", "no:cacheprovider"),
        *("-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT)),
        str(tmp_path / "test_sample.py"),
        env=env,
    )
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "SKIPPED" not in out  # no line per skipped test
    assert re.search(r"^FAILED .*test_failed", out, re.MULTILINE)  # failures still listed
    assert re.search(r"1 failed, 1 skipped", out)
