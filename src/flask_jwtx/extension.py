"""``JWTManager``: registration with an app, loader callbacks, error responses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from . import settings as _settings
from . import signals
from .authorization import AuthorizationError
from .exceptions import (
    Claims,
    ConfigurationError,
    CSRFError,
    ExpiredSignatureError,
    FreshTokenRequired,
    Header,
    IdentityError,
    JWTExtendedException,
    KeySourceUnavailableError,
    NoAuthorizationError,
    RevokedTokenError,
    UserClaimsVerificationError,
    UserLookupError,
)
from .integrations import route_rest_framework_errors
from .revocation.base import RevocationStore, StoreUnavailableError
from .settings import LiveSettings, Settings

EXTENSION_KEY = "flask-jwtx"
INCUMBENT_EXTENSION_KEY = "flask-jwt-extended"

F = TypeVar("F", bound=Callable[..., Any])


def _error(status: HTTPStatus, message: str) -> ResponseReturnValue:
    key = get_state().settings.get().error_msg_key
    # A message may quote a token's (signed, but foreign) values; a lone
    # surrogate in one would make the JSON provider raise with ensure_ascii
    # off. Escape what UTF-8 cannot carry rather than answer 500.
    safe = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return jsonify({key: safe}), status


# --- Default callbacks: the incumbent's status codes and bodies ---------------


def _default_expired(
    _expired_jwt_header: Header, _expired_jwt_data: Claims
) -> ResponseReturnValue:
    """401 ``{"msg": "Token has expired"}``."""
    return _error(HTTPStatus.UNAUTHORIZED, "Token has expired")


def _default_invalid(error_string: str) -> ResponseReturnValue:
    """422 with the reason the token is invalid."""
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, error_string)


def _default_unauthorized(error_string: str) -> ResponseReturnValue:
    """401 with the reason no usable token was found."""
    return _error(HTTPStatus.UNAUTHORIZED, error_string)


def _default_needs_fresh(jwt_header: Header, jwt_data: Claims) -> ResponseReturnValue:
    """401 ``{"msg": "Fresh token required"}``."""
    return _error(HTTPStatus.UNAUTHORIZED, "Fresh token required")


def _default_revoked(jwt_header: Header, jwt_data: Claims) -> ResponseReturnValue:
    """401 ``{"msg": "Token has been revoked"}``."""
    return _error(HTTPStatus.UNAUTHORIZED, "Token has been revoked")


def _default_user_lookup_error(_jwt_header: Header, jwt_data: Claims) -> ResponseReturnValue:
    """401 ``{"msg": "Error loading the user <identity>"}``."""
    identity = jwt_data[get_state().settings.get().identity_claim]
    return _error(HTTPStatus.UNAUTHORIZED, f"Error loading the user {identity}")


def _default_verification_failed(_jwt_header: Header, _jwt_data: Claims) -> ResponseReturnValue:
    """400 ``{"msg": "User claims verification failed"}``."""
    return _error(HTTPStatus.BAD_REQUEST, "User claims verification failed")


def _default_decode_key(jwt_header: Header, jwt_data: Claims) -> Any:
    """The configured verification key, as the incumbent's default loader returned it."""
    from .config import config

    return config.decode_key


def _default_encode_key(identity: Any) -> Any:
    """The configured signing key, as the incumbent's default loader returned it."""
    from .config import config

    return config.encode_key


def _default_authorization_failed(
    _header: Header, _claims: Claims, reason: str
) -> ResponseReturnValue:
    return _error(HTTPStatus.FORBIDDEN, reason)


class JWTManager:
    """Holds the loader callbacks and binds flask-jwtx to one or more apps.

    Like the incumbent's, an instance is not tied to an app: create it at
    module level, decorate loaders on it, and call :meth:`init_app` in a
    factory. Settings are read and validated in ``init_app``.
    """

    def __init__(self, app: Flask | None = None, add_context_processor: bool = False) -> None:
        self._additional_claims_callback: Callable[[Any], dict[str, Any]] = lambda _: {}
        self._authorization_failed_callback: Callable[
            [Header, Claims, str], ResponseReturnValue
        ] = _default_authorization_failed
        self._additional_headers_callback: Callable[[Any], dict[str, Any]] = lambda _: {}
        # The incumbent's defaults (the configured key), so code that calls
        # ``manager._decode_key_callback(...)`` works; flask-jwtx itself uses
        # its parsed keys unless a loader replaced these.
        self._decode_key_callback: Callable[[Header, Claims], Any] = _default_decode_key
        self._encode_key_callback: Callable[[Any], Any] = _default_encode_key
        self._key_set_callback: Callable[[], Any] | None = None
        self._expired_token_callback: Callable[[Header, Claims], ResponseReturnValue] = (
            _default_expired
        )
        self._invalid_token_callback: Callable[[str], ResponseReturnValue] = _default_invalid
        self._needs_fresh_token_callback: Callable[[Header, Claims], ResponseReturnValue] = (
            _default_needs_fresh
        )
        self._revoked_token_callback: Callable[[Header, Claims], ResponseReturnValue] = (
            _default_revoked
        )
        self._token_in_blocklist_callback: Callable[[Header, Claims], bool] | None = None
        self._token_verification_callback: Callable[[Header, Claims], bool] | None = None
        self._token_verification_failed_callback: Callable[
            [Header, Claims], ResponseReturnValue
        ] = _default_verification_failed
        self._unauthorized_callback: Callable[[str], ResponseReturnValue] = _default_unauthorized
        self._user_identity_callback: Callable[[Any], Any] = lambda identity: identity
        self._user_lookup_callback: Callable[[Header, Claims], Any] | None = None
        self._user_lookup_error_callback: Callable[[Header, Claims], ResponseReturnValue] = (
            _default_user_lookup_error
        )
        if app is not None:
            self.init_app(app, add_context_processor)

    def init_app(self, app: Flask, add_context_processor: bool = False) -> None:
        """Register with ``app``: write defaults, validate every ``JWT_*`` key.

        Reads every key in :data:`flask_jwtx.settings.DEFAULTS` (the
        incumbent's keys plus ``JWT_MAX_TOKEN_BYTES`` and
        ``JWT_IDENTITY_AS_STRING``) and ``SECRET_KEY`` as the fallback secret.
        A bad value raises :class:`~flask_jwtx.exceptions.ConfigurationError`
        here, naming the key and the fix. Key loaders must be registered
        before this call if no static key is configured.
        """
        previous = app.extensions.get(EXTENSION_KEY)
        if isinstance(previous, _AppState):
            # App factories and test fixtures call init_app again: the last
            # call wins, as with the incumbent. Release what the previous
            # registration opened; routes and handlers are not added twice.
            _close_stores(previous)
        self._set_default_configuration_options(app)

        sources: dict[Any, Any] = {}  # cached key sets, kept across settings rebuilds

        def build() -> Settings:
            return _settings.resolve(
                app.config,
                encode_loader=self.custom_encode_key() is not None,
                decode_loader=self.custom_decode_key() is not None,
                key_set_loader=self._key_set_callback,
                sources=sources,
            )

        state = _AppState(self, LiveSettings(app.config, build), sources)
        app.extensions[EXTENSION_KEY] = state
        # Where the incumbent kept its manager: apps and their tests read it
        # (``app.extensions["flask-jwt-extended"].decode_key_loader(...)``).
        app.extensions[INCUMBENT_EXTENSION_KEY] = self
        app.register_error_handler(JWTExtendedException, self._handle_error)
        route_rest_framework_errors()  # Flask-RESTX / Flask-RESTful: see integrations
        jwks_path = state.settings.get().jwks_path
        if jwks_path and "flask_jwtx_jwks" not in app.view_functions:
            app.add_url_rule(jwks_path, "flask_jwtx_jwks", _serve_jwks)
        if add_context_processor:
            from .context import current_user_context_processor

            processors = app.template_context_processors.setdefault(None, [])
            if current_user_context_processor not in processors:
                app.context_processor(current_user_context_processor)

    def _handle_error(self, error: JWTExtendedException) -> ResponseReturnValue | Response:
        """Turn any flask-jwtx error into the response of its loader callback."""
        if isinstance(error, ConfigurationError | IdentityError):
            # A misconfiguration, or a view passing an unusable identity: a
            # server error (500), never reported to the client as its fault.
            raise error
        if isinstance(error, KeySourceUnavailableError):
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, "Token keys are unavailable")
        if isinstance(error, StoreUnavailableError):
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, "Revocation store unavailable")
        if signals.token_rejected.receivers:
            signals.token_rejected.send(
                current_app._get_current_object(),  # type: ignore[attr-defined]
                reason=str(error),
                error=error,
            )
        if isinstance(error, NoAuthorizationError | CSRFError):
            return self._unauthorized_callback(str(error))
        if isinstance(error, ExpiredSignatureError):
            return self._expired_token_callback(error.jwt_header, error.jwt_data)
        if isinstance(error, FreshTokenRequired):
            return self._needs_fresh_token_callback(error.jwt_header, error.jwt_data)
        if isinstance(error, RevokedTokenError):
            return self._revoked_token_callback(error.jwt_header, error.jwt_data)
        if isinstance(error, UserClaimsVerificationError):
            return self._token_verification_failed_callback(error.jwt_header, error.jwt_data)
        if isinstance(error, UserLookupError):
            return self._user_lookup_error_callback(error.jwt_header, error.jwt_data)
        if isinstance(error, AuthorizationError):
            return self._authorization_failed_callback(
                error.jwt_header, error.jwt_data, str(error)
            )
        return self._invalid_token_callback(str(error))

    # --- Loader decorators (names and arity as in the incumbent) --------------

    def additional_claims_loader(self, callback: F) -> F:
        """Claims to add to every new token; called with the identity."""
        self._additional_claims_callback = callback
        return callback

    def additional_headers_loader(self, callback: F) -> F:
        """JOSE headers to add to every new token; called with the identity."""
        self._additional_headers_callback = callback
        return callback

    def authorization_failed_loader(self, callback: F) -> F:
        """Response when a token misses a route's ``claims``/``scope`` requirement.

        Called with header, claims and the reason (which requirement failed);
        the default is a 403 with the reason as the message. flask-jwtx only.
        """
        self._authorization_failed_callback = callback
        return callback

    def decode_key_loader(self, callback: F) -> F:
        """Key to verify a token with, from its *unverified* header and claims.

        The returned key is prepared for the token's algorithm (and cached per
        key text), so it must be a key of that algorithm's family.
        """
        self._decode_key_callback = callback
        return callback

    def encode_key_loader(self, callback: F) -> F:
        """Key to sign a new token with; called with the identity."""
        self._encode_key_callback = callback
        return callback

    def key_set_loader(self, callback: F) -> F:
        """The app's key set, from a callable: rotation without a restart.

        The callable returns a :class:`~flask_jwtx.keyset.KeySet` (or a JWKS
        dict/JSON). It is called again every ``JWT_KEY_SET_REFRESH`` seconds
        and, at most every ``JWT_JWKS_MIN_REFRESH_INTERVAL`` seconds, when a
        token names an unknown ``kid``. Register it before ``init_app``.
        flask-jwtx only.
        """
        self._key_set_callback = callback
        return callback

    def custom_decode_key(self) -> Callable[[Header, Claims], Any] | None:
        """The registered ``decode_key_loader``, or ``None`` for the configured keys."""
        callback = self._decode_key_callback
        return None if callback is _default_decode_key else callback

    def custom_encode_key(self) -> Callable[[Any], Any] | None:
        """The registered ``encode_key_loader``, or ``None`` for the configured keys."""
        callback = self._encode_key_callback
        return None if callback is _default_encode_key else callback

    # --- The incumbent's private methods that real code calls ------------------

    def _set_error_handler_callbacks(self, app: Any) -> None:
        """What apps call to make Flask-RESTX answer token errors (the incumbent's #86).

        With flask-jwtx that is automatic (:mod:`flask_jwtx.integrations`);
        this keeps such calls working: it registers the error handler on a
        Flask app (or blueprint) and routes REST frameworks' errors to Flask.
        An ``Api`` object passed here needs nothing more.
        """
        if isinstance(app, Flask):
            app.register_error_handler(JWTExtendedException, self._handle_error)
        route_rest_framework_errors()

    @staticmethod
    def _set_default_configuration_options(app: Flask) -> None:
        """Write every ``JWT_*`` default into ``app.config`` (``setdefault``)."""
        for key, value in _settings.DEFAULTS.items():
            app.config.setdefault(key, list(value) if isinstance(value, list) else value)

    def _encode_jwt_from_config(
        self,
        identity: Any,
        token_type: str,
        claims: dict[str, Any] | None = None,
        fresh: Any = False,
        expires_delta: Any = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """A signed token of ``token_type`` ("access" or "refresh") with the app's settings."""
        from .creation import create_token

        return create_token(token_type, identity, fresh, expires_delta, claims, headers)

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        """The verified claims of ``encoded_token`` (what ``decode_token`` returns)."""
        from .decoding import decode_token

        return decode_token(encoded_token, csrf_value, allow_expired)

    def refresh_keys(self, app: Flask | None = None) -> None:
        """Reload key sets on next use: the key-set loader and remote JWKS caches.

        Call it right after rotating keys (``app`` defaults to the current one).
        flask-jwtx only.
        """
        state = app.extensions[EXTENSION_KEY] if app is not None else get_state()
        for source in state.sources.values():
            source.invalidate()

    def close(self, app: Flask | None = None) -> None:
        """Close the app's revocation store connections (at shutdown, or in tests).

        flask-jwtx only. Safe to call more than once; a store is reopened on
        the next settings rebuild.
        """
        _close_stores(app.extensions[EXTENSION_KEY] if app is not None else get_state())

    def expired_token_loader(self, callback: F) -> F:
        """Response for an expired token; called with header and claims."""
        self._expired_token_callback = callback
        return callback

    def invalid_token_loader(self, callback: F) -> F:
        """Response for an invalid token; called with the reason."""
        self._invalid_token_callback = callback
        return callback

    def needs_fresh_token_loader(self, callback: F) -> F:
        """Response for a non-fresh token on a fresh-only route."""
        self._needs_fresh_token_callback = callback
        return callback

    def revoked_token_loader(self, callback: F) -> F:
        """Response for a token the blocklist callback reported revoked."""
        self._revoked_token_callback = callback
        return callback

    def token_in_blocklist_loader(self, callback: F) -> F:
        """Return ``True`` for a revoked token; called with header and claims."""
        self._token_in_blocklist_callback = callback
        return callback

    def token_verification_failed_loader(self, callback: F) -> F:
        """Response when the token verification callback returned ``False``."""
        self._token_verification_failed_callback = callback
        return callback

    def token_verification_loader(self, callback: F) -> F:
        """Extra check on a valid token; return ``False`` to refuse it."""
        self._token_verification_callback = callback
        return callback

    def unauthorized_loader(self, callback: F) -> F:
        """Response when no token was found; called with the reason."""
        self._unauthorized_callback = callback
        return callback

    def user_identity_loader(self, callback: F) -> F:
        """Turn the object given to ``create_*_token`` into the identity claim."""
        self._user_identity_callback = callback
        return callback

    def user_lookup_loader(self, callback: F) -> F:
        """Load the user for a verified token; return ``None`` if there is none."""
        self._user_lookup_callback = callback
        return callback

    def user_lookup_error_loader(self, callback: F) -> F:
        """Response when the user lookup callback returned ``None``."""
        self._user_lookup_error_callback = callback
        return callback


def _close_stores(state: _AppState) -> None:
    for key, source in list(state.sources.items()):
        if isinstance(source, RevocationStore):
            source.close()
            del state.sources[key]


def _serve_jwks() -> Response:
    """The public keys, for other services to verify our tokens (``JWT_JWKS_PATH``)."""
    state = get_state()
    settings = state.settings.get()
    key_set = settings.resolver.published()
    document = key_set.public_jwks() if key_set is not None else {"keys": []}
    response = jsonify(document)
    response.headers["Cache-Control"] = f"public, max-age={settings.jwks_max_age}"
    return response


@dataclass(frozen=True, slots=True)
class _AppState:
    """What flask-jwtx keeps per app, under ``app.extensions['flask-jwtx']``."""

    manager: JWTManager
    settings: LiveSettings
    #: Cached key sets (remote JWKS, key-set loader), kept across settings rebuilds.
    sources: dict[Any, Any]


def get_state() -> _AppState:
    """The current app's flask-jwtx state, or a clear error if it has none."""
    try:
        return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
    except KeyError:
        raise RuntimeError(
            "You must initialize a JWTManager with this flask application before using this method"
        ) from None
