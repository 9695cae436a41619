"""Sphinx configuration: the docs are Markdown (MyST)."""

from pathlib import Path

project = "Anymail"
author = "django-anymail contributors"
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
html_theme = "alabaster"
html_title = "Anymail"

# The guide links to the settings reference, docs/settings.md, which is
# generated from the code's settings declaration. A tree without that page
# must still build with -W: only then are missing link targets tolerated.
if not (Path(__file__).parent / "settings.md").exists():
    suppress_warnings = ["myst.xref_missing"]
