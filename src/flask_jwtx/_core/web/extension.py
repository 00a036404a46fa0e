"""``JWTManager``: registration with an app, loader callbacks, error responses."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from ... import signals
from ...exceptions import (
    Claims,
    ConfigurationError,
    CrossSiteRequestError,
    CSRFError,
    ExpiredSignatureError,
    FreshTokenRequired,
    Header,
    IdentityError,
    InsufficientUserAuthenticationError,
    JWTExtendedException,
    KeySourceUnavailableError,
    LoginRefusedError,
    NoAuthorizationError,
    RevokedTokenError,
    SessionNotFoundError,
    UnsupportedContentTypeError,
    UserClaimsVerificationError,
    UserLookupError,
)
from ..config import schema as _schema
from ..config import settings as _settings
from ..config.live import LiveSettings
from ..config.resources import Resources
from ..config.settings import Settings
from ..oauth.dpop import ProofOfPossessionError
from ..revocation.base import StoreUnavailableError
from .authorization import AuthorizationError
from .callbacks import Callbacks, error_response
from .fje import Loader, subclass_hook
from .integrations import route_rest_framework_errors
from .resource_server import challenge, check_declared_routes
from .resource_server import register as register_metadata
from .state import EXTENSION_KEY, FJE_EXTENSION_KEY, AppState, get_state

F = TypeVar("F", bound=Callable[..., Any])

#: Reasons given to :meth:`JWTManager.service_unavailable_loader` (and the
#: default 503 messages).
KEYS_UNAVAILABLE = "Token keys are unavailable"
STORE_UNAVAILABLE = "Revocation store unavailable"


class JWTManager:
    """Holds the loader callbacks and binds flask-jwtx to one or more apps.

    Like Flask-JWT-Extended's, an instance is not tied to an app: create it at
    module level, decorate loaders on it, and call :meth:`init_app` in a
    factory. Settings are read and validated in ``init_app``.
    """

    # Flask-JWT-Extended's private names, and the ones flask-jwtx used before, for
    # code that reads or replaces a loader directly.
    _additional_claims_callback = Loader("additional_claims")
    _user_claims_callback = Loader("additional_claims")
    _additional_headers_callback = Loader("additional_headers")
    _jwt_additional_header_callback = Loader("additional_headers")
    _authorization_failed_callback = Loader("authorization_failed")
    _decode_key_callback = Loader("decode_key")
    _encode_key_callback = Loader("encode_key")
    _key_set_callback = Loader("key_set")
    _expired_token_callback = Loader("expired_token")
    _invalid_token_callback = Loader("invalid_token")
    _needs_fresh_token_callback = Loader("needs_fresh_token")
    _revoked_token_callback = Loader("revoked_token")
    _token_in_blocklist_callback = Loader("token_in_blocklist")
    _token_verification_callback = Loader("token_verification")
    _token_verification_failed_callback = Loader("token_verification_failed")
    _unauthorized_callback = Loader("unauthorized")
    _user_identity_callback = Loader("user_identity")
    _user_lookup_callback = Loader("user_lookup")
    _user_lookup_error_callback = Loader("user_lookup_error")

    def __init__(self, app: Flask | None = None, add_context_processor: bool = False) -> None:
        self.callbacks = Callbacks()
        if app is not None:
            self.init_app(app, add_context_processor)

    def init_app(self, app: Flask, add_context_processor: bool = False) -> None:
        """Register with ``app``: write defaults, validate every ``JWT_*`` key.

        Reads every key in ``flask_jwtx._core.config.schema.DEFAULTS`` (the
        Flask-JWT-Extended's keys plus flask-jwtx's own) and ``SECRET_KEY`` as the
        fallback secret. A value that is set but wrong raises
        :class:`~flask_jwtx.exceptions.ConfigurationError` here, naming the key
        and the fix; a key that is merely absent is needed only when signing
        or verifying. Calling it again on the same app replaces the previous
        registration.

        Route declarations that cannot work with the settings (see
        ``resource_server.check_declared_routes``) raise ``ConfigurationError``
        here for the routes declared so far, and before the first request is
        served for the others.
        """
        # First what Flask refuses once the app has served a request, so that
        # a refused call changes nothing.
        app.register_error_handler(JWTExtendedException, self._handle_error)
        if _check_routes_once not in app.before_request_funcs.get(None, []):
            app.before_request(_check_routes_once)
        previous = app.extensions.get(EXTENSION_KEY)
        if isinstance(previous, AppState):
            # App factories and test fixtures call init_app again: the last
            # call wins, as with Flask-JWT-Extended. Release what the previous
            # registration opened; routes and handlers are not added twice.
            _close_stores(previous)
        self._set_default_configuration_options(app)

        # Key sources and stores, shared by settings rebuilds; relative SQLite
        # paths point into the instance folder, as with Flask-SQLAlchemy.
        resources = Resources(instance_path=app.instance_path)

        def build() -> Settings:
            return _settings.resolve(
                app.config,
                encode_loader=self.callbacks.custom_encode_key() is not None,
                decode_loader=self.callbacks.custom_decode_key() is not None,
                key_set_loader=self.callbacks.key_set,
                loaders=self.callbacks,
                resources=resources,
            )

        state = AppState(
            self.callbacks,
            LiveSettings(app.config, build),
            resources,
            self,
            encode_hook=subclass_hook(self, JWTManager, "_encode_jwt_from_config"),
            decode_hook=subclass_hook(self, JWTManager, "_decode_jwt_from_config"),
        )
        check_declared_routes(app, state.settings.get())
        app.extensions[EXTENSION_KEY] = state
        # Where Flask-JWT-Extended kept its manager: apps and their tests read it
        # (``app.extensions["flask-jwt-extended"].decode_key_loader(...)``).
        app.extensions[FJE_EXTENSION_KEY] = self
        jwks_path = state.settings.get().jwks_path
        if jwks_path and "flask_jwtx_jwks" not in app.view_functions:
            app.add_url_rule(jwks_path, "flask_jwtx_jwks", _serve_jwks)
        register_metadata(app, state.settings.get().resource)
        if add_context_processor:
            from .context import current_user_context_processor

            processors = app.template_context_processors.setdefault(None, [])
            if current_user_context_processor not in processors:
                app.context_processor(current_user_context_processor)

    def _handle_error(self, error: JWTExtendedException) -> ResponseReturnValue | Response:
        """Turn any flask-jwtx error into the response of its loader callback.

        Each error class names its answer (:data:`_ANSWERS`, most specific
        class first); the first that matches decides.
        """
        if isinstance(error, ConfigurationError | IdentityError):
            # A misconfiguration, or a view passing an unusable identity: a
            # server error (500), never reported to the client as its fault.
            raise error
        if isinstance(error, KeySourceUnavailableError):
            return self.callbacks.service_unavailable(KEYS_UNAVAILABLE)
        if isinstance(error, StoreUnavailableError):
            return self.callbacks.service_unavailable(STORE_UNAVAILABLE)
        if signals.token_rejected.receivers:
            signals.token_rejected.send(
                signals.sender(),
                reason=str(error),
                error=error,
            )
        # RFC 6750 / RFC 9449 challenges next to the loaders' answer (resource_server).
        return challenge(self._answer(error), error)

    def _answer(self, error: JWTExtendedException) -> ResponseReturnValue:
        """The loader callback's response to ``error`` (:data:`_ANSWERS`)."""
        callbacks = self.callbacks
        for kind, answer in _ANSWERS:
            if isinstance(error, kind):
                return answer(callbacks, error)
        return callbacks.invalid_token(str(error))

    # --- Loader decorators (names and arity as in Flask-JWT-Extended) --------------

    def additional_claims_loader(self, callback: F) -> F:
        """Claims to add to every new token.

        Signature: ``callback(identity) -> dict``, called with the object given
        to ``create_*_token`` (before ``user_identity_loader`` maps it).
        """
        self.callbacks.additional_claims = callback
        return callback

    def additional_headers_loader(self, callback: F) -> F:
        """JOSE headers to add to every new token.

        Signature: ``callback(identity) -> dict``, called with the object given
        to ``create_*_token``.
        """
        self.callbacks.additional_headers = callback
        return callback

    def authorization_failed_loader(self, callback: F) -> F:
        """Response when a token misses a route's ``claims``/``scope`` requirement.

        Signature: ``callback(jwt_header, jwt_data, reason) -> response``, with
        the reason naming the requirement that failed; the default is a 403
        with the reason as the message. flask-jwtx only.
        """
        self.callbacks.authorization_failed = callback
        return callback

    def decode_key_loader(self, callback: F) -> F:
        """Key to verify a token with, from its *unverified* header and claims.

        Signature: ``callback(jwt_header, jwt_data) -> key`` (a secret, a PEM
        text or a ``cryptography`` key). The returned key is prepared for the
        token's algorithm (and cached per key text), so it must be a key of
        that algorithm's family.
        """
        self.callbacks.decode_key = callback
        return callback

    def encode_key_loader(self, callback: F) -> F:
        """Key to sign a new token with.

        Signature: ``callback(identity) -> key`` (a secret, a PEM text or a
        ``cryptography`` private key), called with the object given to
        ``create_*_token``.
        """
        self.callbacks.encode_key = callback
        return callback

    def key_set_loader(self, callback: F) -> F:
        """The app's key set, from a callable: rotation without a restart.

        Signature: ``callback() -> KeySet | dict | str``: a
        :class:`~flask_jwtx.KeySet`, or a JWKS as a dict or JSON text.
        It is called again every ``JWT_KEY_SET_REFRESH`` seconds and, at most
        every ``JWT_JWKS_MIN_REFRESH_INTERVAL`` seconds, when a token names an
        unknown ``kid``. Register it before ``init_app``. flask-jwtx only.
        """
        self.callbacks.key_set = callback
        return callback

    # --- Flask-JWT-Extended's private methods that real code calls ------------------

    def _set_error_handler_callbacks(self, app: Any) -> None:
        """What apps call to make Flask-RESTX answer token errors (Flask-JWT-Extended's #86).

        With flask-jwtx that is automatic (``flask_jwtx._core.web.integrations``);
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
        for key, value in _schema.DEFAULTS.items():
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
        from .decoding import decode_with_settings

        settings = get_state().settings.get()
        return decode_with_settings(settings, encoded_token, csrf_value, allow_expired)[1]

    def refresh_keys(self, app: Flask | None = None) -> None:
        """Reload key sets on next use: the key-set loader and remote JWKS caches.

        Call it right after rotating keys (``app`` defaults to the current one).
        flask-jwtx only.
        """
        state = app.extensions[EXTENSION_KEY] if app is not None else get_state()
        for source in state.resources.key_sources():
            source.invalidate()

    def close(self, app: Flask | None = None) -> None:
        """Close the app's revocation store connections (at shutdown, or in tests).

        flask-jwtx only. Closes the stores built from a ``JWT_REVOCATION_STORE``
        URL; a client, engine or store object the app passed in is left open
        (its lifetime is the app's). Safe to call more than once: the next
        request reopens what it needs.
        """
        _close_stores(app.extensions[EXTENSION_KEY] if app is not None else get_state())

    def expired_token_loader(self, callback: F) -> F:
        """Response for an expired token.

        Signature: ``callback(jwt_header, jwt_data) -> response``.
        """
        self.callbacks.expired_token = callback
        return callback

    def invalid_token_loader(self, callback: F) -> F:
        """Response for an invalid token (422 by default).

        Signature: ``callback(reason) -> response``, with the reason as a string.
        """
        self.callbacks.invalid_token = callback
        return callback

    def needs_fresh_token_loader(self, callback: F) -> F:
        """Response for a non-fresh token on a fresh-only route.

        Signature: ``callback(jwt_header, jwt_data) -> response``.
        """
        self.callbacks.needs_fresh_token = callback
        return callback

    def revoked_token_loader(self, callback: F) -> F:
        """Response for a revoked token (blocklist callback or revocation store).

        Signature: ``callback(jwt_header, jwt_data) -> response``.
        """
        self.callbacks.revoked_token = callback
        return callback

    def service_unavailable_loader(self, callback: F) -> F:
        """Response when a dependency of verification is down (default: 503).

        Signature: ``callback(reason) -> response``, with the reason
        :data:`KEYS_UNAVAILABLE` (remote JWKS or key loader failed) or
        :data:`STORE_UNAVAILABLE` (revocation store down, under the
        ``"closed"`` failure policy). The request is refused whatever the
        callback returns: it only shapes the answer, so an API with its own
        error format keeps it. flask-jwtx only.
        """
        self.callbacks.service_unavailable = callback
        return callback

    def token_in_blocklist_loader(self, callback: F) -> F:
        """Whether a verified token is revoked (``True`` refuses it).

        Signature: ``callback(jwt_header, jwt_data) -> bool``.
        """
        self.callbacks.token_in_blocklist = callback
        return callback

    def token_verification_failed_loader(self, callback: F) -> F:
        """Response when the token verification callback returned ``False``.

        Signature: ``callback(jwt_header, jwt_data) -> response``.
        """
        self.callbacks.token_verification_failed = callback
        return callback

    def token_verification_loader(self, callback: F) -> F:
        """Extra check on a valid token; a false value refuses it.

        Signature: ``callback(jwt_header, jwt_data) -> bool``.
        """
        self.callbacks.token_verification = callback
        return callback

    def unauthorized_loader(self, callback: F) -> F:
        """Response when no usable token was found (401 by default).

        Signature: ``callback(reason) -> response``, with the reason as a string.
        """
        self.callbacks.unauthorized = callback
        return callback

    def user_identity_loader(self, callback: F) -> F:
        """Turn the object given to ``create_*_token`` into the identity claim.

        Signature: ``callback(identity) -> str``: what goes into ``sub`` (or
        ``JWT_IDENTITY_CLAIM``). A ``sub`` that is not a string is refused when
        verified, unless ``JWT_IDENTITY_AS_STRING`` or ``JWT_VERIFY_SUB = False``.
        """
        self.callbacks.user_identity = callback
        return callback

    def user_lookup_loader(self, callback: F) -> F:
        """Load the user for a verified token (``current_user``).

        Signature: ``callback(jwt_header, jwt_data) -> user | None``; ``None``
        refuses the request through ``user_lookup_error_loader``.
        """
        self.callbacks.user_lookup = callback
        return callback

    def user_lookup_error_loader(self, callback: F) -> F:
        """Response when the user lookup callback returned ``None``.

        Signature: ``callback(jwt_header, jwt_data) -> response``.
        """
        self.callbacks.user_lookup_error = callback
        return callback


def _check_routes_once() -> None:
    """Before the app's first request: every route is declared by now (Flask allows no more).

    Raises ``ConfigurationError`` for a declaration that cannot work
    (``resource_server.check_declared_routes``), on every request until the
    app is fixed, instead of a 500 on the one route concerned; a check that
    passed is not run again.
    """
    state = get_state()
    if not state.routes_checked.is_set():
        check_declared_routes(current_app, state.settings.get())
        state.routes_checked.set()


def _close_stores(state: AppState) -> None:
    state.resources.close()
    state.settings.invalidate()  # the current settings still hold the closed stores


def _serve_jwks() -> Response:
    """The public keys, for other services to verify our tokens (``JWT_JWKS_PATH``)."""
    state = get_state()
    settings = state.settings.get()
    key_set = settings.resolver.published()
    document = key_set.public_jwks() if key_set is not None else {"keys": []}
    response = jsonify(document)
    response.headers["Cache-Control"] = f"public, max-age={settings.jwks_max_age}"
    return response


def _token_answer(field: str) -> Callable[[Callbacks, Any], ResponseReturnValue]:
    def answer(callbacks: Callbacks, error: Any) -> ResponseReturnValue:
        respond: Callable[[Header, Claims], ResponseReturnValue] = getattr(callbacks, field)
        return respond(error.jwt_header, error.jwt_data)

    return answer


#: Which loader answers which error, most specific class first. Errors not
#: listed are invalid tokens (422 through ``invalid_token_loader``).
_ANSWERS: tuple[tuple[type[Exception], Callable[[Callbacks, Any], ResponseReturnValue]], ...] = (
    (NoAuthorizationError, lambda callbacks, error: callbacks.unauthorized(str(error))),
    (ProofOfPossessionError, lambda callbacks, error: callbacks.unauthorized(str(error))),
    (LoginRefusedError, lambda callbacks, error: callbacks.unauthorized(str(error))),
    (SessionNotFoundError, lambda _, error: error_response(HTTPStatus.NOT_FOUND, str(error))),
    (CrossSiteRequestError, lambda _, error: error_response(HTTPStatus.FORBIDDEN, str(error))),
    (
        UnsupportedContentTypeError,
        lambda _, error: error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, str(error)),
    ),
    (CSRFError, lambda callbacks, error: callbacks.unauthorized(str(error))),
    (ExpiredSignatureError, _token_answer("expired_token")),
    (FreshTokenRequired, _token_answer("needs_fresh_token")),
    (
        InsufficientUserAuthenticationError,
        lambda callbacks, error: callbacks.unauthorized(str(error)),
    ),
    (RevokedTokenError, _token_answer("revoked_token")),
    (UserClaimsVerificationError, _token_answer("token_verification_failed")),
    (UserLookupError, _token_answer("user_lookup_error")),
    (
        AuthorizationError,
        lambda callbacks, error: callbacks.authorization_failed(
            error.jwt_header, error.jwt_data, str(error)
        ),
    ),
)
