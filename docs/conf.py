"""Sphinx configuration for the gspace documentation.

Build the site (from the repository root)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Everything is offline: MathJax is served from ``_static/mathjax`` (copied from the
``sphinx-mathjax-offline`` package), intersphinx is off, and the theme bundles its own assets.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The repository root first, so the docs always describe the gspace next to them (not an
# installed copy); _ext holds the site's own small Sphinx extension.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

import gspace  # noqa: E402

project = "gspace"
author = "the gspace authors"
copyright = "2026, the gspace authors (MIT licence)"
version = release = gspace.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "gspace_docs",
]

# -- offline MathJax ------------------------------------------------------------------------


def _offline_mathjax_dir() -> Path:
    """The directory that holds ``mathjax/tex-chtml.js`` inside sphinx-mathjax-offline."""
    try:
        files = importlib.metadata.files("sphinx-mathjax-offline") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.name == "tex-chtml.js" and f.parent.name == "mathjax":
            return Path(f.locate()).parent.parent
    raise RuntimeError(
        "the docs serve MathJax from a local copy shipped by the PyPI package "
        "sphinx-mathjax-offline; install the docs extra: pip install '.[docs]'"
    )


# html_static_path copies the *contents* of each directory into _static/, so this puts
# tex-chtml.js at _static/mathjax/tex-chtml.js, with its fonts beside it.
html_static_path = ["_static", str(_offline_mathjax_dir())]
mathjax_path = "mathjax/tex-chtml.js"  # relative to _static: a local file, never a CDN

# -- autodoc / autosummary / numpydoc -------------------------------------------------------

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters section carries the types and shapes
autodoc_default_options = {"member-order": "bysource"}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
nitpicky = True
_STDLIB = "|".join(sorted(n for n in sys.stdlib_module_names if not n.startswith("_")))
nitpick_ignore_regex = [
    # NumPy, SciPy, NetworkX, Matplotlib, the standard library and builtin types have no page
    # here (intersphinx is off: the docs build without internet).
    (r"py:.*", r"(np|numpy|scipy|sp|nx|networkx|matplotlib|plt|sklearn|tqdm)(\..*)?"),
    (r"py:.*", rf"({_STDLIB})(\..*)?"),
    (r"py:class", r"(int|float|bool|str|list|tuple|dict|callable|None|object|ndarray)"),
]

# -- sphinx-gallery: tutorials/ -> auto_tutorials/ ------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "tutorials"),
    "gallery_dirs": "auto_tutorials",
    "filename_pattern": r"tutorial_\d\d_",  # execute every tutorial at build time
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": True,
    "doc_module": ("gspace",),
    "backreferences_dir": "gen_modules/backreferences",
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "show_memory": False,
    "image_scrapers": ("gspace_gallery.matplotlib_scraper",),
    # Larger text on the site and a 2x image of every figure (opened on click): see
    # _ext/gspace_gallery.py and _static/gspace-figures.js.
    "reset_modules": ("gspace_gallery.figure_style",),
    "image_srcset": ["2x"],
    "min_reported_time": 2,
}
# The tests build the site with GSPACE_DOCS_NO_GALLERY=1 to skip running the tutorials
# (they check one page's mathematics; the tutorials have their own tests).
if os.environ.get("GSPACE_DOCS_NO_GALLERY") == "1":
    sphinx_gallery_conf["plot_gallery"] = "False"

# -- HTML -----------------------------------------------------------------------------------

templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated/**/README*", "**.ipynb_checkpoints"]
# ... and, when copying _static, the per-run caches that `gspace experiment --out
# docs/_static/results/NAME` leaves in NAME/runs/ (see the cluster page)
exclude_patterns += ["results/*/runs"]
html_theme = "pydata_sphinx_theme"
html_css_files = ["gspace.css"]
html_js_files = ["gspace-figures.js"]
html_title = f"gspace {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# No left sidebar on single pages; sections with pages of their own (tutorials, API, tests)
# keep the theme's default navigation.
html_sidebars = {
    page: [] for page in ("index", "install", "theory", "notation", "experiments", "teachers")
}
# The tutorials too: their figures need the whole column to stay legible.
html_sidebars["auto_tutorials/tutorial_*"] = []
html_last_updated_fmt = None
pygments_style = "sphinx"
