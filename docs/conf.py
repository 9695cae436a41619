"""Sphinx configuration: the docs are Markdown (MyST)."""

project = "Anymail"
author = "django-anymail contributors"
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
html_theme = "alabaster"
html_title = "Anymail"
