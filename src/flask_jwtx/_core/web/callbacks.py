"""The loader callbacks an app registers, typed, with Flask-JWT-Extended's defaults.

One :class:`Callbacks` object per :class:`~flask_jwtx.JWTManager` holds every
loader. The request path reads it through the app's state
(``get_state().callbacks``), so no module reaches into the manager's private
attributes; the manager keeps Flask-JWT-Extended's private names
(``_expired_token_callback``...) as views onto this object, for the code that
uses them.

Each loader signature is a :class:`~typing.Protocol` with positional-only
parameters, like Flask's typed callback aliases: a user's function checks
against it whatever it names its parameters.

The defaults answer with Flask-JWT-Extended's status codes and
``{JWT_ERROR_MESSAGE_KEY: message}`` bodies, and keep its parameter names:
they are also :mod:`flask_jwtx.default_callbacks`' functions, so
``manager._expired_token_callback is default_expired_token_callback`` tells,
as it did, whether an app replaced a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from ...exceptions import Claims, Header
from ..config.schema import EXTENSION_KEY
from ..config.settings import Settings
from ..jose.keys import is_symmetric


class IdentityCallback(Protocol):
    """Called with the identity given to ``create_*_token``."""

    def __call__(self, identity: Any, /) -> Any: ...


class TokenCallback(Protocol):
    """Called with a token's header and claims."""

    def __call__(self, jwt_header: Header, jwt_data: Claims, /) -> Any: ...


class TokenResponse(Protocol):
    """Builds the response for a token that was refused, from its header and claims."""

    def __call__(self, jwt_header: Header, jwt_data: Claims, /) -> ResponseReturnValue: ...


class ReasonResponse(Protocol):
    """Builds the response for a request refused for ``reason``."""

    def __call__(self, reason: str, /) -> ResponseReturnValue: ...


class AuthorizationResponse(Protocol):
    """Builds the response for a token that misses a route's requirements."""

    def __call__(
        self, jwt_header: Header, jwt_data: Claims, reason: str, /
    ) -> ResponseReturnValue: ...


class KeySetCallback(Protocol):
    """Returns the app's current key set (a KeySet, a JWKS dict or JSON)."""

    def __call__(self) -> Any: ...


def _settings() -> Settings:
    """The current app's settings, read where ``init_app`` keeps the app's state.

    Not through :mod:`.state`, which names :class:`Callbacks` in its types:
    the two would import each other.
    """
    settings: Settings = current_app.extensions[EXTENSION_KEY].settings.get()
    return settings


def error_response(status: HTTPStatus, message: str) -> ResponseReturnValue:
    """``{JWT_ERROR_MESSAGE_KEY: message}`` with ``status``.

    A message may quote a token's (signed, but foreign) values; a lone
    surrogate in one would make the JSON provider raise with ``ensure_ascii``
    off. What UTF-8 cannot carry is escaped rather than answered with a 500.
    """
    key = _settings().error_msg_key
    safe = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return jsonify({key: safe}), status


# --- The defaults (Flask-JWT-Extended's answers and parameter names) ---------------------


def default_additional_claims(userdata: Any) -> dict[str, Any]:
    """No claims beyond the standard ones."""
    return {}


def default_additional_headers(default_headers: Any) -> dict[str, Any]:
    """No header parameters beyond ``alg``, ``typ`` (and ``kid`` for key pairs)."""
    return {}


def default_user_identity(userdata: Any) -> Any:
    """The identity claim is the object passed as ``identity``, unchanged."""
    return userdata


def default_token_in_blocklist(jwt_headers: Header, jwt_data: Claims) -> bool:
    """No token is in a blocklist (a revocation store, if configured, is asked apart)."""
    return False


def default_token_verification(_jwt_header: Header, _jwt_data: Claims) -> bool:
    """Every valid token passes: no extra check."""
    return True


def default_decode_key(jwt_header: Header, jwt_data: Claims) -> Any:
    """The configured verification key, as Flask-JWT-Extended's default loader returned it.

    flask-jwtx verifies with keys it parsed once; this is for code that calls
    the loader itself.
    """
    config = current_app.config
    if is_symmetric(config.get("JWT_ALGORITHM", "HS256")):
        return config.get("JWT_SECRET_KEY") or config.get("SECRET_KEY")
    return config.get("JWT_PUBLIC_KEY")


def default_encode_key(identity: Any) -> Any:
    """The configured signing key, as Flask-JWT-Extended's default loader returned it."""
    config = current_app.config
    if is_symmetric(config.get("JWT_ALGORITHM", "HS256")):
        return config.get("JWT_SECRET_KEY") or config.get("SECRET_KEY")
    return config.get("JWT_PRIVATE_KEY")


def default_expired_token(
    _expired_jwt_header: Header, _expired_jwt_data: Claims
) -> ResponseReturnValue:
    """401 ``{"msg": "Token has expired"}``."""
    return error_response(HTTPStatus.UNAUTHORIZED, "Token has expired")


def default_invalid_token(error_string: str) -> ResponseReturnValue:
    """422 with the reason the token is invalid."""
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, error_string)


def default_unauthorized(error_string: str) -> ResponseReturnValue:
    """401 with the reason no usable token was found."""
    return error_response(HTTPStatus.UNAUTHORIZED, error_string)


def default_needs_fresh_token(jwt_header: Header, jwt_data: Claims) -> ResponseReturnValue:
    """401 ``{"msg": "Fresh token required"}``."""
    return error_response(HTTPStatus.UNAUTHORIZED, "Fresh token required")


def default_revoked_token(jwt_header: Header, jwt_data: Claims) -> ResponseReturnValue:
    """401 ``{"msg": "Token has been revoked"}``."""
    return error_response(HTTPStatus.UNAUTHORIZED, "Token has been revoked")


def default_user_lookup_error(_jwt_header: Header, jwt_data: Claims) -> ResponseReturnValue:
    """401 ``{"msg": "Error loading the user <identity>"}``."""
    identity = jwt_data[_settings().identity_claim]
    return error_response(HTTPStatus.UNAUTHORIZED, f"Error loading the user {identity}")


def default_token_verification_failed(
    _jwt_header: Header, _jwt_data: Claims
) -> ResponseReturnValue:
    """400 ``{"msg": "User claims verification failed"}``."""
    return error_response(HTTPStatus.BAD_REQUEST, "User claims verification failed")


def default_authorization_failed(
    jwt_header: Header, jwt_data: Claims, reason: str
) -> ResponseReturnValue:
    """403 naming the requirement the token missed (never the token's values)."""
    return error_response(HTTPStatus.FORBIDDEN, reason)


def default_service_unavailable(reason: str) -> ResponseReturnValue:
    """503 saying which dependency failed: the token keys or the revocation store."""
    return error_response(HTTPStatus.SERVICE_UNAVAILABLE, reason)


@dataclass(slots=True)
class Callbacks:
    """Every loader of one manager; the fields are replaced by its decorators."""

    additional_claims: IdentityCallback = default_additional_claims
    additional_headers: IdentityCallback = default_additional_headers
    user_identity: IdentityCallback = default_user_identity
    decode_key: TokenCallback = default_decode_key
    encode_key: IdentityCallback = default_encode_key
    key_set: KeySetCallback | None = None
    token_in_blocklist: TokenCallback = default_token_in_blocklist
    token_verification: TokenCallback = default_token_verification
    user_lookup: TokenCallback | None = None
    expired_token: TokenResponse = default_expired_token
    invalid_token: ReasonResponse = default_invalid_token
    unauthorized: ReasonResponse = default_unauthorized
    needs_fresh_token: TokenResponse = default_needs_fresh_token
    revoked_token: TokenResponse = default_revoked_token
    user_lookup_error: TokenResponse = default_user_lookup_error
    token_verification_failed: TokenResponse = default_token_verification_failed
    authorization_failed: AuthorizationResponse = default_authorization_failed
    service_unavailable: ReasonResponse = default_service_unavailable

    def custom_decode_key(self) -> TokenCallback | None:
        """The registered ``decode_key_loader``, or ``None`` for the configured keys."""
        return None if self.decode_key is default_decode_key else self.decode_key

    def custom_encode_key(self) -> IdentityCallback | None:
        """The registered ``encode_key_loader``, or ``None`` for the configured keys."""
        return None if self.encode_key is default_encode_key else self.encode_key
