"""Sphinx configuration for the flask-jwtx documentation (MyST markdown, furo).

Built with warnings as errors (``-W``) and nitpicky cross-references by
``bash scripts/docs.sh`` and by ``bash scripts/test.sh``; published as is by
Read the Docs (``.readthedocs.yaml``).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent / "src"))

import flask_jwtx  # noqa: E402 - after the path is set up

project = "flask-jwtx"
author = "flask-jwtx contributors"
copyright = "flask-jwtx contributors"
release = flask_jwtx.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "jwtx_settings",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "README.md"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"flask-jwtx {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "show-inheritance": False}

# Every cross-reference must resolve, except into projects whose inventories
# we do not fetch (the build works offline): the standard library, Flask,
# Werkzeug, PyJWT, cryptography, redis, SQLAlchemy.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(flask|werkzeug|jwt|cryptography|redis|sqlalchemy|blinker|pytest)(\..*)?"),
    (r"py:.*", r"(datetime|collections|typing|types|uuid|threading|ssl|enum)\..*"),
    (r"py:.*", r"(Any|Callable|Mapping|Sequence|Iterable|Iterator|Response|Flask|T|F|R|P)"),
    (r"py:.*", r"(timedelta|datetime|UUID|ResponseReturnValue|Blueprint|KeySet|Key)"),
    (r"py:.*", r"(None|NoneType|Ellipsis|Exception|TypeError|ValueError|RuntimeError)"),
    (r"py:.*", r"(str|int|float|bool|bytes|dict|list|tuple|set|frozenset|object|type)"),
    (r"py:.*", r"(abc\.ABC|os\.PathLike|~?P|VerifiedRequest|Header|Claims)"),
    # Type variables and internal classes in signatures, not part of the reference.
    (r"py:.*", r"flask_jwtx\.[\w.]*\.(F|R|P|T|RouteVar|PreparedKey|_\w+)"),
    (r"py:.*", r"(StoreUnavailableError|flask_jwtx\.authorization)"),
    # Module constants a docstring names; their values are quoted in its text.
    (r"py:data", r"(KEYS_UNAVAILABLE|STORE_UNAVAILABLE|current_token)"),
]
suppress_warnings = ["myst.header"]
