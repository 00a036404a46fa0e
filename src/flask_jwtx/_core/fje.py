"""``install_as_flask_jwt_extended()``: serve ``import flask_jwt_extended`` from flask-jwtx.

Packages you cannot edit (Flask-AppBuilder, Apache Superset, plugins) import
``flask_jwt_extended`` themselves. Call this once, before anything imports
them, and those imports resolve to flask-jwtx, as PyMySQL's
``install_as_MySQLdb()`` does for ``MySQLdb``::

    import flask_jwtx

    flask_jwtx.install_as_flask_jwt_extended()

    from flask_appbuilder import AppBuilder  # now runs on flask-jwtx

The Flask-JWT-Extended distribution may stay installed (pip installs it as
those packages' dependency); it is simply never imported.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Final

INCUMBENT: Final = "flask_jwt_extended"

#: Flask-JWT-Extended's submodules; each is served by the flask-jwtx module of the same name.
SUBMODULES: Final = (
    "config",
    "default_callbacks",
    "exceptions",
    "internal_utils",
    "jwt_manager",
    "tokens",
    "typing",
    "utils",
    "view_decorators",
)

_PACKAGE: Final = "flask_jwtx"


def _ours() -> dict[str, ModuleType]:
    modules = {INCUMBENT: importlib.import_module(_PACKAGE)}
    for name in SUBMODULES:
        modules[f"{INCUMBENT}.{name}"] = importlib.import_module(f"{_PACKAGE}.{name}")
    return modules


def _is_incumbent_name(name: str) -> bool:
    return name == INCUMBENT or name.startswith(f"{INCUMBENT}.")


def install_as_flask_jwt_extended() -> None:
    """Register flask-jwtx in ``sys.modules`` as ``flask_jwt_extended`` and its submodules.

    Afterwards ``import flask_jwt_extended`` gives the ``flask_jwtx`` package,
    and ``flask_jwt_extended.utils``, ``.view_decorators``, ``.jwt_manager``,
    ``.config``, ``.default_callbacks``, ``.internal_utils``, ``.exceptions``,
    ``.tokens`` and ``.typing`` the flask-jwtx modules of the same names.

    Calling it again is harmless. It raises :class:`RuntimeError` if the real
    Flask-JWT-Extended was imported first: modules that imported it already
    hold its objects, and mixing the two libraries in one process would fail
    in confusing ways. Call it earlier, before importing any package that
    uses Flask-JWT-Extended.
    """
    ours = _ours()
    foreign = sorted(
        name
        for name, module in list(sys.modules.items())
        if _is_incumbent_name(name) and module is not None and module is not ours.get(name)
    )
    if foreign and sys.modules.get(INCUMBENT) is not ours[INCUMBENT]:
        where = getattr(sys.modules.get(foreign[0]), "__file__", None) or "an unknown location"
        raise RuntimeError(
            f"flask_jwtx.install_as_flask_jwt_extended(): the real {INCUMBENT} was already "
            f"imported ({foreign[0]} from {where}), so modules may already hold its objects. "
            "Call install_as_flask_jwt_extended() before anything imports Flask-JWT-Extended "
            "or a package that uses it (Flask-AppBuilder, Superset...): at the very top of "
            "your entry point (wsgi.py, the app factory's module, superset_config.py)."
        )
    sys.modules.update(ours)
