"""The default loader callbacks, under the names ``flask_jwt_extended.default_callbacks`` used.

For code written against Flask-JWT-Extended's module layout, typically a
custom loader that adds logging and then defers to the default response::

    from flask_jwtx.default_callbacks import default_expired_token_callback

    @jwt.expired_token_loader
    def expired(header, claims):
        log.info("expired token for %s", claims["sub"])
        return default_expired_token_callback(header, claims)

The response callbacks take Flask-JWT-Extended's parameter names and call the
defaults a new :class:`~flask_jwtx.JWTManager` uses, so they answer with the
same status codes and ``{JWT_ERROR_MESSAGE_KEY: ...}`` bodies as Flask-JWT-Extended's.
"""

from __future__ import annotations

from ._core.web import callbacks
from .config import config as config

# The very functions a new JWTManager holds (with Flask-JWT-Extended's parameter
# names), so ``manager._expired_token_callback is default_expired_token_callback``
# tells, as it did with Flask-JWT-Extended, whether the app replaced a default.
default_additional_claims_callback = callbacks.default_additional_claims
default_jwt_headers_callback = callbacks.default_additional_headers
default_user_identity_callback = callbacks.default_user_identity
default_blocklist_callback = callbacks.default_token_in_blocklist
default_token_verification_callback = callbacks.default_token_verification
default_expired_token_callback = callbacks.default_expired_token
default_invalid_token_callback = callbacks.default_invalid_token
default_unauthorized_callback = callbacks.default_unauthorized
default_needs_fresh_token_callback = callbacks.default_needs_fresh_token
default_revoked_token_callback = callbacks.default_revoked_token
default_user_lookup_error_callback = callbacks.default_user_lookup_error
default_token_verification_failed_callback = callbacks.default_token_verification_failed
default_decode_key_callback = callbacks.default_decode_key
default_encode_key_callback = callbacks.default_encode_key
