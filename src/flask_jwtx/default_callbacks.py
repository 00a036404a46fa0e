"""The default loader callbacks, under the names ``flask_jwt_extended.default_callbacks`` used.

For code written against Flask-JWT-Extended's module layout, typically a
custom loader that adds logging and then defers to the default response::

    from flask_jwtx.default_callbacks import default_expired_token_callback

    @jwt.expired_token_loader
    def expired(header, claims):
        log.info("expired token for %s", claims["sub"])
        return default_expired_token_callback(header, claims)

The response callbacks take the incumbent's parameter names and call the
defaults a new :class:`~flask_jwtx.JWTManager` uses, so they answer with the
same status codes and ``{JWT_ERROR_MESSAGE_KEY: ...}`` bodies as the incumbent's.
"""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from . import extension
from .config import config as config
from .exceptions import Claims, Header


def default_additional_claims_callback(userdata: Any) -> dict[str, Any]:
    """No claims beyond the standard ones."""
    return {}


def default_jwt_headers_callback(default_headers: Any) -> dict[str, Any]:
    """No header parameters beyond ``alg`` and ``typ`` (and ``kid`` for key pairs)."""
    return {}


def default_user_identity_callback(userdata: Any) -> Any:
    """The identity claim is the object passed as ``identity``, unchanged."""
    return userdata


def default_blocklist_callback(jwt_headers: Header, jwt_data: Claims) -> bool:
    """No token is revoked (a revocation store, if configured, is consulted apart)."""
    return False


def default_token_verification_callback(_jwt_header: Header, _jwt_data: Claims) -> bool:
    """Every valid token passes: no extra claim check."""
    return True


def default_decode_key_callback(jwt_header: Header, jwt_data: Claims) -> Any:
    """The configured verification key (``JWT_SECRET_KEY`` or ``JWT_PUBLIC_KEY``)."""
    return config.decode_key


def default_encode_key_callback(identity: Any) -> Any:
    """The configured signing key (``JWT_SECRET_KEY`` or ``JWT_PRIVATE_KEY``)."""
    return config.encode_key


def default_expired_token_callback(
    _expired_jwt_header: Header, _expired_jwt_data: Claims
) -> ResponseReturnValue:
    """401 ``{"msg": "Token has expired"}``."""
    return extension._default_expired(_expired_jwt_header, _expired_jwt_data)


def default_invalid_token_callback(error_string: str) -> ResponseReturnValue:
    """422 with the reason the token is invalid."""
    return extension._default_invalid(error_string)


def default_unauthorized_callback(error_string: str) -> ResponseReturnValue:
    """401 with the reason no usable token was found."""
    return extension._default_unauthorized(error_string)


def default_needs_fresh_token_callback(
    jwt_header: Header, jwt_data: Claims
) -> ResponseReturnValue:
    """401 ``{"msg": "Fresh token required"}``."""
    return extension._default_needs_fresh(jwt_header, jwt_data)


def default_revoked_token_callback(jwt_header: Header, jwt_data: Claims) -> ResponseReturnValue:
    """401 ``{"msg": "Token has been revoked"}``."""
    return extension._default_revoked(jwt_header, jwt_data)


def default_user_lookup_error_callback(
    _jwt_header: Header, jwt_data: Claims
) -> ResponseReturnValue:
    """401 ``{"msg": "Error loading the user <identity>"}``."""
    return extension._default_user_lookup_error(_jwt_header, jwt_data)


def default_token_verification_failed_callback(
    _jwt_header: Header, _jwt_data: Claims
) -> ResponseReturnValue:
    """400 ``{"msg": "User claims verification failed"}``."""
    return extension._default_verification_failed(_jwt_header, _jwt_data)
