"""Sphinx configuration of the dalserver manual (docs/*.md, MyST Markdown).

The build reads nothing from the network and the pages load nothing from another host: no
intersphinx, no remote images, the theme's assets copied into the output. tests/test_docs.py
builds it with -W, so a warning (a broken link, a missing page) fails the suite.
"""

from __future__ import annotations

project = "dalserver"
author = "the dalserver developers"
copyright = "the dalserver developers, BSD 3-Clause"

extensions = ["myst_parser", "sphinxarg.ext"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Headings get anchors (#which-archive-a-command-works-on) down to level 3, so pages link to
# each other's sections in Markdown that also reads right on GitHub.
myst_heading_anchors = 3
# MathJax would come from a CDN: the manual has no formulae, and `$DALSERVER_HOME` is no maths.
myst_enable_extensions: list[str] = []
suppress_warnings: list[str] = []

html_theme = "pydata_sphinx_theme"
html_title = "dalserver manual"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False
html_static_path: list[str] = []
