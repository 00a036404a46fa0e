"""The helpers of ``flask_jwt_extended.internal_utils``, over flask-jwtx.

For code written against Flask-JWT-Extended's module layout: custom
decorators and integrations import these to run one step of the request
checks themselves. Each helper runs the same step flask-jwtx's own
``verify_jwt_in_request`` runs, with the same errors and messages.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import flask.json
from flask import Flask, current_app

from ._core.web.pipeline import check_not_revoked, check_token_type
from ._core.web.state import get_state, json_default
from .exceptions import Claims, Header
from .exceptions import RevokedTokenError as RevokedTokenError
from .exceptions import UserClaimsVerificationError as UserClaimsVerificationError
from .exceptions import WrongTokenError as WrongTokenError

if TYPE_CHECKING:
    from ._core.web.extension import JWTManager

#: Whether Flask has JSON providers (``app.json``, Flask 2.2 and later).
HAS_JSON_PROVIDER: Final = hasattr(flask.json, "provider")


def get_jwt_manager() -> JWTManager:
    """The :class:`~flask_jwtx.JWTManager` registered on the current app."""
    manager: JWTManager = get_state().manager
    return manager


def has_user_lookup() -> bool:
    """Whether a ``user_lookup_loader`` callback is registered."""
    return get_state().callbacks.user_lookup is not None


def user_lookup(*args: Any, **kwargs: Any) -> Any:
    """Call the ``user_lookup_loader`` callback; ``None`` when there is none."""
    callback = get_state().callbacks.user_lookup
    return None if callback is None else callback(*args, **kwargs)


def verify_token_type(decoded_token: Claims, refresh: bool) -> None:
    """Refuse a token of the wrong kind, as protected routes do.

    ``refresh=True`` accepts only refresh tokens; ``refresh=False`` only
    access tokens. Unlike Flask-JWT-Extended, a token of any other ``type`` (an
    application's own kind) is not taken for an access token.
    """
    check_token_type(decoded_token, refresh)


def verify_token_not_blocklisted(jwt_header: Header, jwt_data: Claims) -> None:
    """Raise :class:`RevokedTokenError` for a revoked token.

    Consults the ``token_in_blocklist_loader`` callback and, when one is
    configured, the revocation store (``JWT_REVOCATION_STORE``).
    """
    state = get_state()
    check_not_revoked(state.callbacks, state.settings.get(), jwt_header, jwt_data)


def custom_verification_for_token(jwt_header: Header, jwt_data: Claims) -> None:
    """Raise when the ``token_verification_loader`` callback returns a false value."""
    if not get_state().callbacks.token_verification(jwt_header, jwt_data):
        raise UserClaimsVerificationError("User claims verification failed", jwt_header, jwt_data)


class JSONEncoder(json.JSONEncoder):
    """A ``json.JSONEncoder`` that falls back on the current app's JSON provider.

    Values ``json`` cannot write natively (``UUID``, ``Decimal``, dates...)
    are handed to ``app.json.default`` (Flask's ``DefaultJSONProvider.default``
    when the provider has none), which is how flask-jwtx writes the claims of
    the tokens it creates.
    """

    def default(self, o: Any) -> Any:
        return json_default(current_app)(o)


def get_json_encoder(app: Flask) -> type[json.JSONEncoder]:
    """The encoder class for ``app``'s token claims (the same for every app)."""
    return JSONEncoder
