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


# The very functions a new JWTManager holds (with the incumbent's parameter
# names), so ``manager._expired_token_callback is default_expired_token_callback``
# tells, as it did with the incumbent, whether the app replaced a default.
default_expired_token_callback = extension._default_expired
default_invalid_token_callback = extension._default_invalid
default_unauthorized_callback = extension._default_unauthorized
default_needs_fresh_token_callback = extension._default_needs_fresh
default_revoked_token_callback = extension._default_revoked
default_user_lookup_error_callback = extension._default_user_lookup_error
default_token_verification_failed_callback = extension._default_verification_failed
default_decode_key_callback = extension._default_decode_key
default_encode_key_callback = extension._default_encode_key
