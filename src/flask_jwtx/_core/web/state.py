"""What flask-jwtx keeps for one app, and how any module finds it.

``init_app`` stores one :class:`AppState` under ``app.extensions["flask-jwtx"]``
(and the manager itself under ``"flask-jwt-extended"``, where Flask-JWT-Extended
kept it). Every module that needs the current app's settings or callbacks
imports :func:`get_state` from here, so none needs ``extension.py``, which
only the package's public modules import.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from flask import Flask, current_app

from ..config.live import LiveSettings
from ..config.resources import Resources
from ..config.schema import EXTENSION_KEY as EXTENSION_KEY
from .callbacks import Callbacks

#: Where Flask-JWT-Extended kept its manager; apps and their tests read it there.
FJE_EXTENSION_KEY: Final = "flask-jwt-extended"


@dataclass(frozen=True, slots=True)
class AppState:
    """flask-jwtx's state for one app, under ``app.extensions['flask-jwtx']``."""

    #: The loaders of the manager registered on the app (shared, not copied:
    #: a loader registered after ``init_app`` is seen at once).
    callbacks: Callbacks
    settings: LiveSettings
    #: The live objects the app opened (key sources, revocation stores),
    #: shared by settings rebuilds.
    resources: Resources
    #: The :class:`~flask_jwtx.JWTManager` (for code that reaches it from the app).
    manager: Any
    #: A subclass's own ``_encode_jwt_from_config`` / ``_decode_jwt_from_config``
    #: (JWE wrappers, token introspection), which Flask-JWT-Extended routes every
    #: token through; ``None`` when the manager keeps ours (the fast path).
    encode_hook: Any = None
    decode_hook: Any = None
    #: Set once the app's route declarations were checked against its
    #: settings before its first request (``extension``).
    routes_checked: threading.Event = field(default_factory=threading.Event)


def get_state() -> AppState:
    """The current app's flask-jwtx state, or a clear error if it has none."""
    try:
        return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
    except KeyError:
        raise RuntimeError(
            "You must initialize a JWTManager with this flask application before using this method"
        ) from None


def json_default(app: Flask | None = None) -> Callable[[Any], Any]:
    """How ``app`` (the current one by default) writes values JSON has no type for.

    Tokens carry ``UUID``, ``Decimal`` or date claims the way the app's own
    responses carry them, as with Flask-JWT-Extended. Flask 2.2 moved that
    from ``app.json_encoder`` (a ``JSONEncoder`` class) to ``app.json`` (a
    provider); both are read, so Flask 2.0 and 2.1 apps write what they did.
    A provider written from scratch on ``JSONProvider`` (an orjson one, say)
    usually has no ``default``, as its library knows those types itself;
    claims are still encoded with the standard ``json`` module, so Flask's
    ``DefaultJSONProvider.default`` stands in (as with Flask-JWT-Extended):
    without it a UUID identity would raise ``TypeError`` in such an app.
    """
    target: Any = current_app if app is None else app
    provider = getattr(target, "json", None)
    if provider is None:  # pragma: no cover - Flask < 2.2, run by scripts/test-min.sh
        encoder = getattr(target, "json_encoder", None) or json.JSONEncoder
        fallback: Callable[[Any], Any] = encoder().default
        return fallback
    default: Callable[[Any], Any] | None = getattr(provider, "default", None)
    if default is None:
        from flask.json.provider import DefaultJSONProvider  # Flask >= 2.2, as app.json

        return DefaultJSONProvider.default
    return default
