"""Everything that exists only to behave like Flask-JWT-Extended, in one module.

flask-jwtx's own design has none of this; code written for Flask-JWT-Extended
relies on all of it:

* :func:`install_as_flask_jwt_extended`: ``import flask_jwt_extended`` served
  by flask-jwtx, for packages you cannot edit (Flask-AppBuilder, Superset);
* the ``g._jwt_extended_*`` attributes (:data:`G_CLAIMS`...) a verified
  request is recorded in, which fixtures and custom decorators read and write;
* :class:`Loader`: the manager's private callback attributes
  (``jwt._expired_token_callback``...), as views onto the typed callbacks;
* :func:`subclass_hook`: a ``JWTManager`` subclass's own
  ``_encode_jwt_from_config``/``_decode_jwt_from_config`` (JWE wrappers,
  introspection), through which every token is then minted or decoded;
* :func:`watch_patches`/:func:`patched_verifier`: ``mock.patch`` on
  ``view_decorators.verify_jwt_in_request`` or ``_decode_jwt_from_request``
  replaces verification, as test suites expect.

The request path reaches these through names imported from here, never
through ``sys.modules``. ``view_decorators`` registers itself for patch
watching when it is imported: until then nothing can have patched it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any, Final

# -- Request state on g -------------------------------------------------------------

#: Where Flask-JWT-Extended keeps a verified request on ``flask.g``. Apps and their
#: tests read and *write* these (fixtures that fake a verified request, custom
#: decorators, code that sets the user after an optional check), so they are
#: the source of truth the getters read; ``g.flask_jwtx_request`` only adds
#: what Flask-JWT-Extended never kept (the encoded token).
G_CLAIMS: Final = "_jwt_extended_jwt"
G_HEADER: Final = "_jwt_extended_jwt_header"
G_USER: Final = "_jwt_extended_jwt_user"
G_LOCATION: Final = "_jwt_extended_jwt_location"


# -- The manager's private attributes -------------------------------------------------


class Loader:
    """One of Flask-JWT-Extended's private callback attributes, kept in ``callbacks``.

    Code written for Flask-JWT-Extended reads ``jwt._expired_token_callback``
    or assigns it; flask-jwtx keeps the loaders in one typed ``Callbacks``
    object, and these names stay views onto it.
    """

    def __init__(self, field: str) -> None:
        self.field = field

    def __get__(self, manager: Any, owner: type | None = None) -> Any:
        if manager is None:
            return self
        return getattr(manager.callbacks, self.field)

    def __set__(self, manager: Any, callback: Any) -> None:
        setattr(manager.callbacks, self.field, callback)


def subclass_hook(manager: Any, base: type, name: str) -> Any:
    """``manager``'s ``name`` method if its class overrides ``base``'s, else ``None``.

    Checked once, at ``init_app``: the normal path pays nothing for it.
    """
    overridden = getattr(type(manager), name) is not getattr(base, name)
    return getattr(manager, name) if overridden else None


# -- Patched verifiers ------------------------------------------------------------------

#: The module with Flask-JWT-Extended's layout whose functions test suites patch
#: (``mock.patch("flask_jwt_extended.view_decorators.verify_jwt_in_request")``),
#: and the original verifier it exports, once it registered (:func:`watch_patches`).
_watched: tuple[ModuleType, Callable[..., Any]] | None = None


def watch_patches(module: ModuleType, original: Callable[..., Any]) -> None:
    """Let ``jwt_required`` notice patches of ``module``'s verifier functions."""
    global _watched
    _watched = (module, original)


def patched_verifier() -> Callable[..., Any] | None:
    """What a test patched into ``view_decorators``, if anything; else ``None``.

    Flask-JWT-Extended's ``jwt_required`` looks up ``verify_jwt_in_request``
    (and it ``_decode_jwt_from_request``) in that module at each request, so
    ``mock.patch`` on either bypasses or fakes verification; suites rely on
    it. Ours binds its checks when the route is declared; this is the one
    per-request look that keeps those patches working (two identity checks).
    """
    watched = _watched
    if watched is None:
        return None
    module, original = watched
    verify: Callable[..., Any] = module.verify_jwt_in_request
    if verify is not original:
        return verify
    if getattr(module, "_decode_jwt_from_request") is not module.DECODE_FROM_REQUEST:  # noqa: B009
        faked: Callable[..., Any] = module.verify_with_patched_decode
        return faked
    return None


# -- install_as_flask_jwt_extended -----------------------------------------------------
# ``install_as_flask_jwt_extended()``: serve ``import flask_jwt_extended`` from flask-jwtx.
#
# Packages you cannot edit (Flask-AppBuilder, Apache Superset, plugins) import
# ``flask_jwt_extended`` themselves. Call this once, before anything imports
# them, and those imports resolve to flask-jwtx, as PyMySQL's
# ``install_as_MySQLdb()`` does for ``MySQLdb``::
#
#     import flask_jwtx
#
#     flask_jwtx.install_as_flask_jwt_extended()
#
#     from flask_appbuilder import AppBuilder  # now runs on flask-jwtx
#
# The Flask-JWT-Extended distribution may stay installed (pip installs it as
# those packages' dependency); it is simply never imported.

FJE_PACKAGE: Final = "flask_jwt_extended"

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
    modules = {FJE_PACKAGE: importlib.import_module(_PACKAGE)}
    for name in SUBMODULES:
        modules[f"{FJE_PACKAGE}.{name}"] = importlib.import_module(f"{_PACKAGE}.{name}")
    return modules


def _is_flask_jwt_extended_name(name: str) -> bool:
    return name == FJE_PACKAGE or name.startswith(f"{FJE_PACKAGE}.")


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
        if _is_flask_jwt_extended_name(name)
        and module is not None
        and module is not ours.get(name)
    )
    if foreign and sys.modules.get(FJE_PACKAGE) is not ours[FJE_PACKAGE]:
        where = getattr(sys.modules.get(foreign[0]), "__file__", None) or "an unknown location"
        raise RuntimeError(
            f"flask_jwtx.install_as_flask_jwt_extended(): the real {FJE_PACKAGE} was already "
            f"imported ({foreign[0]} from {where}), so modules may already hold its objects. "
            "Call install_as_flask_jwt_extended() before anything imports Flask-JWT-Extended "
            "or a package that uses it (Flask-AppBuilder, Superset...): at the very top of "
            "your entry point (wsgi.py, the app factory's module, superset_config.py)."
        )
    sys.modules.update(ours)
