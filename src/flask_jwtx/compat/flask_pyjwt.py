"""Flask_PyJWT 1.0's public API, on flask-jwtx's core.

For apps written for Flask_PyJWT: change ``from flask_pyjwt import ...`` to
``from flask_jwtx.compat.flask_pyjwt import ...`` and nothing else. The same
names, config keys (``JWT_ISSUER``, ``JWT_AUTHTYPE``, ``JWT_SECRET``,
``JWT_AUTHMAXAGE``, ``JWT_REFRESHMAXAGE``, ``JWT_PUBLICKEY``, read from
``app.config`` or the environment), token format (``type`` ``auth`` or
``refresh``, ``iss``, a random ``rid`` in refresh tokens) and status codes
(401 for a missing or invalid token, 403 for missing claims or scope, through
``flask.abort`` as before).

This module is a thin layer: tokens are signed and verified by
``flask_jwtx._core.jose.tokens`` with keys parsed once by ``flask_jwtx._core.jose.keys``, and
claim, route-variable, scope and override checks are
``flask_jwtx._core.web.authorization.Requirements``. What differs from Flask_PyJWT,
and why, is listed in ``docs/flask-pyjwt.md``.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import time
import typing as t
import warnings
from enum import Enum, unique
from http import HTTPStatus

from flask import Flask, abort, current_app, g, has_request_context, request
from werkzeug.local import LocalProxy

from .._core.jose import tokens
from .._core.jose.keys import PreparedKey, hmac_key_too_short, prepare_key
from .._core.web.authorization import Requirements, RouteVar
from ..exceptions import (
    AuthorizationError,
    ConfigurationError,
    DecodeError,
    InvalidKeyError,
    JWTExtendedException,
    MissingRequiredClaimError,
    WeakSecretWarning,
)

__all__ = [
    "JWT",
    "AuthData",
    "AuthManager",
    "AuthType",
    "InvalidConfigError",
    "MissingConfigError",
    "MissingSignerError",
    "TokenType",
    "current_token",
    "require_token",
]

EXTENSION_KEY = "pyjwt_authmanager"  # Flask_PyJWT's own key, kept for code that reads it
_MAX_TOKEN_BYTES = 8192


# --- Exceptions ------------------------------------------------------------------


class MissingSignerError(ConfigurationError):
    """An :class:`AuthManager` was used before ``init_app``."""


class MissingConfigError(ConfigurationError):
    """A required config value is missing."""

    def __init__(self, config_value: str) -> None:
        super().__init__(config_value)
        self.config_value = config_value

    def __str__(self) -> str:
        return f'Missing config value "{self.config_value}"'


class InvalidConfigError(ConfigurationError):
    """A config value has the wrong type or an unacceptable value."""

    def __init__(self, config_value: str, message: str) -> None:
        super().__init__(config_value, message)
        self.config_value = config_value
        self.message = message

    def __str__(self) -> str:
        return f'Invalid config "{self.config_value}": {self.message}'


# --- Types -------------------------------------------------------------------------


class _AuthTypeValue(t.NamedTuple):
    algorithm: str
    secret_type: type[str] | type[bytes]


class AuthType(_AuthTypeValue, Enum):
    """The signing algorithms Flask_PyJWT offers, with the secret type each takes."""

    RS256 = _AuthTypeValue("RS256", bytes)
    RS512 = _AuthTypeValue("RS512", bytes)
    HS256 = _AuthTypeValue("HS256", str)
    HS512 = _AuthTypeValue("HS512", str)


@unique
class TokenType(Enum):
    """``auth`` tokens reach resources; ``refresh`` tokens get new auth tokens."""

    AUTH = "auth"
    REFRESH = "refresh"


Scope = str | int | dict[str, t.Any]


# --- Signing data and tokens ------------------------------------------------------------


class AuthData:
    """What tokens are signed with: algorithm, keys, issuer and lifetimes.

    Keys are parsed here, once, rather than for every token.
    """

    def __init__(
        self,
        auth_type: AuthType,
        secret: bytes | str,
        issuer: str,
        auth_max_age: int,
        refresh_max_age: int,
        public_key: bytes | None = None,
    ) -> None:
        if not isinstance(secret, auth_type.secret_type):
            raise TypeError(f"'secret' parameter must be of type {auth_type.secret_type}")
        self.auth_type = auth_type
        self.secret = secret
        self.issuer = issuer
        self.auth_max_age = auth_max_age
        self.refresh_max_age = refresh_max_age
        self.public_key = public_key

    def algorithm(self) -> str:
        """The JWS algorithm name, as written in the token's header."""
        return self.auth_type.name

    @functools.cached_property
    def signing_key(self) -> PreparedKey:
        return prepare_key(self.algorithm(), self.secret)

    @functools.cached_property
    def verifying_key(self) -> PreparedKey:
        return prepare_key(self.algorithm(), self.public_key or self.secret)

    @functools.cached_property
    def policy(self) -> tokens.VerifyPolicy:
        # Flask_PyJWT documents int subjects, so 'sub' is not forced to a string.
        return tokens.VerifyPolicy(
            algorithms=frozenset({self.algorithm()}),
            issuer=self.issuer,
            verify_sub=False,
            max_bytes=_MAX_TOKEN_BYTES,
            conventions=_require_registered_claims,
        )

    def extend_claims(self, token_type: TokenType, claims: dict[str, t.Any]) -> dict[str, t.Any]:
        """``claims`` plus ``iss``, ``iat``, ``exp`` (and ``rid`` for refresh tokens)."""
        now = int(time.time())
        extended: dict[str, t.Any] = {}
        if token_type is TokenType.REFRESH:
            extended["rid"] = secrets.token_urlsafe(16)
            lifetime = self.refresh_max_age
        else:
            lifetime = self.auth_max_age
        extended.update(iss=self.issuer, iat=now, exp=now + lifetime)
        extended.update(claims)
        return extended


def _require_registered_claims(claims: dict[str, t.Any]) -> None:
    for name in ("exp", "iss", "sub", "iat"):
        if name not in claims:
            raise MissingRequiredClaimError(name)


class JWT:
    """A token: its type, claims and, once signed, its encoded form."""

    def __init__(
        self,
        token_type: TokenType,
        sub: str | int,
        scope: Scope | None = None,
        **kwargs: t.Any,
    ) -> None:
        self.token_type = token_type
        self.claims: dict[str, t.Any] = {"sub": sub, "type": token_type.value}
        if scope:
            self.claims["scope"] = scope
        self.claims.update(kwargs)
        self.signed: str | None = None
        self._alg: str | None = None
        self.typ = "JWT"

    @property
    def alg(self) -> str | None:
        return self._alg

    @property
    def header(self) -> dict[str, t.Any]:
        return {"typ": self.typ, "alg": self._alg}

    @property
    def scope(self) -> Scope | None:
        return self.claims.get("scope")

    @property
    def sub(self) -> str | int:
        sub: str | int = self.claims["sub"]
        return sub

    @property
    def iss(self) -> str | None:
        return self.claims.get("iss")

    @property
    def exp(self) -> int | None:
        return self.claims.get("exp")

    @property
    def iat(self) -> int | None:
        return self.claims.get("iat")

    @property
    def max_age(self) -> int | None:
        if not self.iat or not self.exp:
            return None
        return self.exp - self.iat

    def sign(self, auth_data: AuthData) -> str:
        """Stamp ``iss``/``iat``/``exp`` and sign; returns the encoded token."""
        self.claims = auth_data.extend_claims(self.token_type, self.claims)
        if self.token_type is TokenType.REFRESH:
            self.claims.pop("scope", None)
        else:
            self.claims.pop("rid", None)
        self.signed = tokens.encode(dict(self.claims), auth_data.signing_key)
        self._alg = auth_data.algorithm()
        return self.signed

    def is_signed(self) -> bool:
        return self.signed is not None

    @classmethod
    def from_signed_token(cls, signed_token: str) -> JWT:
        """Read an encoded token WITHOUT verifying it (use ``verify_token`` for that).

        Raises :class:`jwt.InvalidTokenError` (our ``DecodeError``) for a token
        that is malformed or lacks ``exp``, ``iss``, ``sub``, ``iat`` or ``type``.
        """
        parsed = tokens.parse(signed_token, _MAX_TOKEN_BYTES)
        alg = parsed.header.get("alg")
        if not isinstance(alg, str) or alg not in AuthType.__members__:
            raise DecodeError("Token was in an invalid format")
        if "typ" not in parsed.header:
            raise DecodeError("Token was in an invalid format")
        claims = parsed.claims()
        for name in ("exp", "iss", "sub", "iat", "type"):
            if name not in claims:
                raise MissingRequiredClaimError(name)
        raw_type = claims["type"]
        if not isinstance(raw_type, str) or raw_type.upper() not in TokenType.__members__:
            raise DecodeError("Token was in an invalid format")
        # Built from the claims as they are, not through ``cls(**claims)``: a
        # foreign token may carry claims named ``self`` or ``token_type``.
        token = cls.__new__(cls)
        token.token_type = TokenType[raw_type.upper()]
        token.claims = {**claims, "type": token.token_type.value}
        token.signed = signed_token
        token._alg = alg  # noqa: SLF001 - our own class, built without __init__ here
        token.typ = "JWT"
        return token


# --- The manager ----------------------------------------------------------------------------


def _config(app: Flask, key: str) -> t.Any:
    value = app.config.get(key)
    return value if value else os.environ.get(key)


_INT_LABELS = {"JWT_AUTHMAXAGE": "Auth Max Age", "JWT_REFRESHMAXAGE": "Refresh Max Age"}


def _int_config(app: Flask, key: str, default: int) -> int:
    value = app.config.get(key)
    if value is None:
        raw = os.environ.get(key)
        try:
            value = int(raw) if raw is not None else default
        except ValueError:
            raise InvalidConfigError(key, f"{_INT_LABELS[key]} must be an int") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfigError(key, f"{_INT_LABELS[key]} must be an int")
    return value


def _requires_signer(method: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    @functools.wraps(method)
    def wrapper(self: AuthManager, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if self.signer is None:
            raise MissingSignerError("AuthManager is missing the required signer attribute")
        return method(self, *args, **kwargs)

    return wrapper


class AuthManager:
    """Creates and verifies tokens for one app; see the module docstring for config."""

    default_auth_max_age: int = 3600
    default_refresh_max_age: int = 604800

    def __init__(self, app: Flask | None = None, dotenv_path: str | None = None) -> None:
        self.signer: AuthData | None = None
        _load_dotenv(dotenv_path)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read and validate the config; keys are parsed here, so bad ones fail now."""
        for key in ("JWT_ISSUER", "JWT_AUTHTYPE", "JWT_SECRET"):
            if not _config(app, key):
                raise MissingConfigError(key)
        secret_from_env = not app.config.get("JWT_SECRET")
        try:
            auth_type = AuthType[_config(app, "JWT_AUTHTYPE")]
        except KeyError:
            raise InvalidConfigError("JWT_AUTHTYPE", "Invalid auth type") from None
        secret = _config(app, "JWT_SECRET")
        is_rsa = auth_type in (AuthType.RS256, AuthType.RS512)
        if secret_from_env and is_rsa:
            secret = secret.encode("utf-8")
        if not isinstance(secret, auth_type.secret_type):
            raise InvalidConfigError("JWT_SECRET", "Secret is of the wrong type")
        public_key: bytes | None = None
        if is_rsa:
            configured = app.config.get("JWT_PUBLICKEY") or os.environ.get("JWT_PUBLICKEY")
            if not configured:
                raise MissingConfigError("JWT_PUBLICKEY")
            public_key = configured if isinstance(configured, bytes) else configured.encode()
        issuer = _config(app, "JWT_ISSUER")
        if not isinstance(issuer, str):
            raise InvalidConfigError("JWT_ISSUER", "Issuer must be a str")
        signer = AuthData(
            auth_type,
            secret,
            issuer,
            _int_config(app, "JWT_AUTHMAXAGE", self.default_auth_max_age),
            _int_config(app, "JWT_REFRESHMAXAGE", self.default_refresh_max_age),
            public_key,
        )
        # Parse the keys now, so a broken one fails at start-up, not on first use.
        for key_name, attribute in (
            ("JWT_SECRET", "signing_key"),
            ("JWT_PUBLICKEY", "verifying_key"),
        ):
            try:
                getattr(signer, attribute)
            except InvalidKeyError as error:
                message = f"cannot be used with {auth_type.name}: {error}"
                raise InvalidConfigError(key_name, message) from None
        if not is_rsa and hmac_key_too_short(auth_type.name, secret):
            warnings.warn(
                f"JWT_SECRET is shorter than {auth_type.name} needs to resist brute force; "
                "use a longer random secret",
                WeakSecretWarning,
                stacklevel=2,
            )
        self.signer = signer
        app.extensions[EXTENSION_KEY] = self

    @_requires_signer
    def auth_token(self, subject: str | int, scope: Scope | None = None, **kwargs: t.Any) -> JWT:
        """A signed auth token for ``subject`` with ``scope`` and extra claims."""
        token = JWT(TokenType.AUTH, subject, scope, **kwargs)
        assert self.signer is not None  # guaranteed by @_requires_signer
        token.sign(self.signer)
        return token

    @_requires_signer
    def refresh_token(self, subject: str | int) -> JWT:
        """A signed refresh token (with a random ``rid``) for ``subject``."""
        token = JWT(TokenType.REFRESH, subject, None)
        assert self.signer is not None  # guaranteed by @_requires_signer
        token.sign(self.signer)
        return token

    @_requires_signer
    def verify_token(self, token: JWT | str) -> bool:
        """Whether ``token`` was signed by this manager and is valid now."""
        encoded = token.signed if isinstance(token, JWT) else token
        if encoded is None:
            return False
        return self._decode(encoded) is not None

    def _decode(self, encoded: str) -> dict[str, t.Any] | None:
        signer = self.signer
        assert signer is not None  # callers check
        key = signer.verifying_key
        try:
            return tokens.decode(encoded, signer.policy, lambda _a, _h, _t: key)[1]
        except JWTExtendedException:
            return None

    @staticmethod
    def convert_token(signed_token: str) -> JWT:
        """The :class:`JWT` for an encoded token, NOT verified."""
        return JWT.from_signed_token(signed_token)


def _load_dotenv(path: str | None) -> None:
    """Load a .env file as Flask_PyJWT does, when python-dotenv is installed."""
    try:
        from dotenv import load_dotenv
    except ImportError:
        if path is not None:
            raise ImportError(
                "dotenv_path needs python-dotenv: pip install python-dotenv"
            ) from None
        return
    load_dotenv(path)


# --- Requiring tokens ----------------------------------------------------------------------

_AUTH_HEADER = re.compile(r"^Bearer {1}\S*$", re.IGNORECASE)


def _claim_requirements(wanted: dict[str, t.Any], view_args: dict[str, t.Any]) -> dict[str, t.Any]:
    # Flask_PyJWT's rule: a value that names one of the route's variables means
    # that variable. The native API spells this route_var() instead.
    return {
        claim: RouteVar(value) if isinstance(value, str) and value in view_args else value
        for claim, value in wanted.items()
    }


def require_token(
    token_type: t.Literal["auth", "refresh"] = "auth",
    location: t.Literal["header", "cookies"] = "header",
    cookie_name: str | None = None,
    scope: Scope | None = None,
    override: dict[str, t.Any] | None = None,
    **kwargs: t.Any,
) -> t.Callable[[t.Callable[..., t.Any]], t.Callable[..., t.Any]]:
    """Require an ``auth`` (or ``refresh``) token in the header or a cookie.

    ``scope`` must match the token's ``scope`` claim; ``**kwargs`` are required
    claims, where a value naming a route variable means that variable's
    value; ``override`` claims, when present, lift both.
    """
    if token_type not in ("auth", "refresh"):
        raise ValueError("Invalid token type")
    if location not in ("header", "cookies"):
        raise ValueError("Invalid location for auth token")
    if location == "cookies" and not cookie_name:
        raise AttributeError('cookie_name must be set when location is "cookies"')
    expected_type = TokenType[token_type.upper()]

    def decorator(view: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        @functools.wraps(view)
        def wrapper(*args: t.Any, **view_args: t.Any) -> t.Any:
            encoded = _token_from_request(token_type, location, cookie_name)
            manager: AuthManager = current_app.extensions[EXTENSION_KEY]
            if not manager.verify_token(encoded):
                abort(HTTPStatus.UNAUTHORIZED, f"{token_type} token is not valid")
            try:
                token = manager.convert_token(encoded)
            except JWTExtendedException:
                # Validly signed, but not in Flask_PyJWT's format (no or odd 'type').
                abort(HTTPStatus.UNAUTHORIZED, f"{token_type} token is not valid")
            if token.token_type is not expected_type:
                abort(HTTPStatus.UNAUTHORIZED, f"Invalid token type of {token.token_type}")
            requirements = Requirements(
                claims=_claim_requirements(kwargs, view_args) or None,
                scope_object=scope or None,
                override=_claim_requirements(override, view_args) if override else None,
            )
            try:
                requirements.check(token.header, token.claims, view_args)
            except AuthorizationError as error:
                which = "scope(s)" if error.requirement == "scope" else "claim(s)"
                abort(HTTPStatus.FORBIDDEN, f"Missing required {which}")
            # Flask_PyJWT's own name on g, kept for code that reads it there.
            g._flask_pyjwt_jwt_token = token  # noqa: SLF001
            return view(*args, **view_args)

        return wrapper

    return decorator


def _token_from_request(token_type: str, location: str, cookie_name: str | None) -> str:
    if location == "header":
        header = request.headers.get("Authorization")
        if not header or not _AUTH_HEADER.match(header):
            abort(HTTPStatus.UNAUTHORIZED, "Improperly formatted or missing Authorization header")
        return header[7:]
    token = request.cookies.get(cookie_name or "")
    if not token:
        abort(HTTPStatus.UNAUTHORIZED, f"Missing {token_type} cookie")
    return token


def _get_jwt() -> JWT | None:
    if has_request_context():
        token: JWT | None = g.get("_flask_pyjwt_jwt_token", None)
        return token
    return None


current_token: JWT = LocalProxy(_get_jwt)  # type: ignore[assignment]
"""The token ``require_token`` verified for this request."""
