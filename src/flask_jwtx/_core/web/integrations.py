"""Make REST frameworks that put their own error handling in front of Flask's answer as Flask does.

Flask-RESTX and Flask-RESTful replace the app's exception handling with a
router that sends every error raised under one of their resources to
``Api.handle_error``. That method turns an exception it does not know into a
500 unless ``PROPAGATE_EXCEPTIONS`` is set, so a missing token answered
``500`` instead of ``401`` (Flask-JWT-Extended's long-standing issue #86). Both
routers fall back to Flask's own handling when ``handle_error`` raises, so
the fix is to let flask-jwtx's errors through: ``handle_error`` re-raises
them, Flask finds the extension's handler, and the response is exactly what
plain Flask gives (status, body, the app's loaders).

An error handler the API itself registers for one of our exception classes
(``@api.errorhandler(NoAuthorizationError)`` in Flask-RESTX) still wins.

:func:`route_rest_framework_errors` runs whenever one of flask-jwtx's errors
is created (:data:`flask_jwtx.exceptions.on_create`), that is before any
framework's router can see it. So the order of imports does not matter: an
app factory that imports its resources (and with them the framework) after
``init_app``, or builds its ``Api`` before or after ``JWTManager``, gets the
same answers. Nothing runs on requests that raise nothing, and the framework
is never imported by us.
"""

from __future__ import annotations

import sys
from typing import Any, Final

import jwt

from ...exceptions import JWTExtendedException, on_create

_SPECIFIC: Final = (JWTExtendedException, jwt.PyJWTError)

#: The frameworks whose ``Api.handle_error`` stands in front of Flask's handlers.
FRAMEWORKS: Final = ("flask_restx", "flask_restful")

_MARK: Final = "__flask_jwtx_routes_errors__"


def route_rest_framework_errors() -> list[str]:
    """Let flask-jwtx's errors through every imported framework's ``Api``.

    Idempotent and cheap (a few look-ups once the frameworks are covered);
    frameworks that are not imported are left alone (and not
    imported). Returns the names of the frameworks that are covered.
    """
    covered = []
    for name in FRAMEWORKS:
        module = sys.modules.get(name)
        api_class = getattr(module, "Api", None)
        if api_class is None:
            continue  # not imported, or still being imported (no Api yet)
        if not getattr(api_class.handle_error, _MARK, False):
            api_class.handle_error = _passing_ours_through(api_class.handle_error)
        covered.append(name)
    return covered


on_create.append(route_rest_framework_errors)


def _passing_ours_through(handle_error: Any) -> Any:
    def wrapper(api: Any, error: BaseException) -> Any:
        if isinstance(error, JWTExtendedException) and not _api_handles(api, error):
            raise error  # the router falls back to Flask, which calls our handler
        return handle_error(api, error)

    wrapper.__doc__ = handle_error.__doc__
    wrapper.__name__ = getattr(handle_error, "__name__", "handle_error")
    setattr(wrapper, _MARK, True)
    return wrapper


def _api_handles(api: Any, error: BaseException) -> bool:
    """Whether the API registered a handler for this very kind of error (Flask-RESTX).

    Only handlers for our classes (or PyJWT's, which ours subclass) count: a
    catch-all ``Exception`` handler is less specific than the extension's, as
    it would be in plain Flask.
    """
    handlers = getattr(api, "_own_and_child_error_handlers", None) or {}
    return any(
        isinstance(kind, type) and issubclass(kind, _SPECIFIC) and isinstance(error, kind)
        for kind in handlers
    )
