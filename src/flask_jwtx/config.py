"""``config``: Flask-JWT-Extended's read-only view of the ``JWT_*`` settings.

For code written against Flask-JWT-Extended's module layout, e.g.
``from flask_jwt_extended.config import config`` followed by
``config.access_expires`` or ``config.token_location``. Every property the
Flask-JWT-Extended's object has is here, read (inside an app context) from the
settings flask-jwtx validated and resolved, so it reports what flask-jwtx
actually does. The values are those Flask-JWT-Extended returns, with these
normalizations:

* sequences (``token_location``, ``decode_algorithms``, ``csrf_request_methods``,
  audiences) are validated copies: a tuple for ``token_location``, lists for
  the others; changing them changes nothing;
* ``cookie_samesite`` is spelled ``"Lax"``/``"Strict"``/``"None"`` whatever
  the case of the setting; ``cookie_domain``, ``encode_issuer`` and the
  audiences are ``None`` when the setting is an empty string;
* ``leeway`` is a number of seconds, also when the setting is a ``timedelta``;
* ``encode_key``/``decode_key`` are the configured key text. Where the
  Flask-JWT-Extended would raise, flask-jwtx may still have a key: ``decode_key`` is
  then the parsed public half of ``JWT_PRIVATE_KEY``, and ``encode_key`` the
  parsed signing key of a key set (``JWT_KEYS``). ``decode_key`` raises for
  apps that pick the verification key by each token's ``kid`` (key sets,
  JWKS): there is no single one.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import timedelta
from typing import Any, cast

from flask import current_app

from ._core.config.schema import DEFAULTS
from ._core.config.settings import Settings
from ._core.jose.keys import is_symmetric
from ._core.keysources.resolvers import StaticKeys, not_signing
from ._core.web.decorators import EXEMPT_METHODS
from ._core.web.state import get_state
from .exceptions import ConfigurationError
from .internal_utils import get_json_encoder as get_json_encoder
from .typing import ExpiresDelta as ExpiresDelta


def _settings() -> Settings:
    return get_state().settings.get()


def _setting(key: str) -> Any:
    """A raw ``app.config`` value, read after the settings were validated."""
    _settings()
    return current_app.config.get(key)


def _lifetime(resolved: timedelta | None, key: str) -> ExpiresDelta:
    if resolved is None:
        return False
    raw = current_app.config.get(key)
    if isinstance(raw, int) or raw is None:
        return resolved
    # A timedelta, or a dateutil relativedelta kept as given (as Flask-JWT-Extended does).
    return cast(ExpiresDelta, raw)


def _audience(value: str | Sequence[str] | None) -> str | list[str] | None:
    return value if value is None or isinstance(value, str) else list(value)


class _Config:
    """Read-only properties over the current app's resolved ``JWT_*`` settings."""

    # --- Algorithms and keys ---------------------------------------------------

    @property
    def algorithm(self) -> str:
        return _settings().algorithm

    @property
    def decode_algorithms(self) -> list[str]:
        return list(_settings().decode_algorithms)

    @property
    def is_asymmetric(self) -> bool:
        return not is_symmetric(_settings().algorithm)

    def _key(self, setting: str) -> Any:
        value = _setting(setting)
        if not value and setting == "JWT_SECRET_KEY":
            value = current_app.config.get("SECRET_KEY")
        if not value:
            what = "HMAC" if setting == "JWT_SECRET_KEY" else "asymmetric"
            raise ConfigurationError(
                f"{setting} must be set to use the {what} algorithm {self.algorithm!r}"
            )
        return value

    @property
    def _secret_key(self) -> Any:
        return self._key("JWT_SECRET_KEY")

    @property
    def _public_key(self) -> Any:
        return self._key("JWT_PUBLIC_KEY")

    @property
    def _private_key(self) -> Any:
        return self._key("JWT_PRIVATE_KEY")

    @property
    def encode_key(self) -> Any:
        try:
            return self._private_key if self.is_asymmetric else self._secret_key
        except ConfigurationError:
            signing = _settings().resolver.signing()  # raises with the fix if a key is due
            if signing is None:
                raise not_signing() from None
            return signing[0].key  # the parsed signing key of JWT_KEYS or a key set

    @property
    def decode_key(self) -> Any:
        try:
            return self._public_key if self.is_asymmetric else self._secret_key
        except ConfigurationError as missing:
            settings = _settings()
            resolver = settings.resolver
            if not isinstance(resolver, StaticKeys):
                raise ConfigurationError(
                    "This app has no single verification key: it selects one per token by "
                    "'kid' (JWT_KEYS, a key_set_loader, JWT_JWKS_URL or JWT_TRUSTED_ISSUERS). "
                    "Use flask_jwtx.decode_token to verify a token."
                ) from None
            key = resolver.decode_keys.get(settings.algorithm)
            if key is None:
                raise missing from None
            return key.key  # the public half of JWT_PRIVATE_KEY

    @property
    def leeway(self) -> float:
        seconds = _settings().policy.leeway
        return int(seconds) if seconds.is_integer() else seconds

    @property
    def decode_audience(self) -> str | list[str] | None:
        audience = _settings().policy.audience
        if audience is None:
            return None
        if isinstance(current_app.config.get("JWT_DECODE_AUDIENCE"), str):
            return audience[0]
        return list(audience)

    @property
    def encode_audience(self) -> str | list[str] | None:
        return _audience(_settings().encode_audience)

    @property
    def decode_issuer(self) -> str | None:
        return _settings().policy.issuer

    @property
    def encode_issuer(self) -> str | None:
        return _settings().encode_issuer

    @property
    def verify_sub(self) -> bool:
        return _settings().policy.verify_sub

    @property
    def encode_nbf(self) -> bool:
        return _settings().encode_nbf

    @property
    def identity_claim_key(self) -> str:
        return _settings().identity_claim

    @property
    def error_msg_key(self) -> str:
        return _settings().error_msg_key

    @property
    def json_encoder(self) -> type[json.JSONEncoder]:
        return get_json_encoder(current_app)

    # --- Lifetimes ---------------------------------------------------------------

    @property
    def access_expires(self) -> ExpiresDelta:
        return _lifetime(_settings().access_expires, "JWT_ACCESS_TOKEN_EXPIRES")

    @property
    def refresh_expires(self) -> ExpiresDelta:
        return _lifetime(_settings().refresh_expires, "JWT_REFRESH_TOKEN_EXPIRES")

    # --- Where tokens are read -----------------------------------------------------

    @property
    def token_location(self) -> Collection[str]:
        # Validated by the settings; given back in the type it was configured
        # in (a list stays a list), as Flask-JWT-Extended's property did.
        locations = _settings().token_location
        raw = current_app.config.get("JWT_TOKEN_LOCATION")
        return raw if isinstance(raw, list | tuple | set | frozenset) else locations

    @property
    def jwt_in_cookies(self) -> bool:
        return "cookies" in self.token_location

    @property
    def jwt_in_headers(self) -> bool:
        return "headers" in self.token_location

    @property
    def jwt_in_query_string(self) -> bool:
        return "query_string" in self.token_location

    @property
    def jwt_in_json(self) -> bool:
        return "json" in self.token_location

    @property
    def exempt_methods(self) -> set[str]:
        return set(EXEMPT_METHODS)

    @property
    def header_name(self) -> str:
        return _settings().header_name

    @property
    def header_type(self) -> str:
        return _settings().header_type

    @property
    def query_string_name(self) -> str:
        return _settings().query_string_name

    @property
    def query_string_value_prefix(self) -> str:
        return _settings().query_string_value_prefix

    @property
    def json_key(self) -> str:
        return _settings().access.json_key

    @property
    def refresh_json_key(self) -> str:
        return _settings().refresh.json_key

    # --- Cookies -------------------------------------------------------------------

    @property
    def access_cookie_name(self) -> str:
        return _settings().access.name

    @property
    def refresh_cookie_name(self) -> str:
        return _settings().refresh.name

    @property
    def access_cookie_path(self) -> str:
        return _settings().access.path

    @property
    def refresh_cookie_path(self) -> str:
        return _settings().refresh.path

    @property
    def cookie_secure(self) -> bool:
        return _settings().cookie_secure

    @property
    def cookie_domain(self) -> str | None:
        return _settings().cookie_domain

    @property
    def cookie_samesite(self) -> str | None:
        return _settings().cookie_samesite

    @property
    def session_cookie(self) -> bool:
        return _settings().cookie_max_age is None

    @property
    def cookie_max_age(self) -> int | None:
        return _settings().cookie_max_age

    # --- CSRF double submit ------------------------------------------------------------

    @property
    def cookie_csrf_protect(self) -> bool:
        return _settings().csrf_protect

    @property
    def csrf_request_methods(self) -> list[str]:
        _settings()
        key = "JWT_CSRF_METHODS"
        raw: str | Iterable[str] = current_app.config.get(key, DEFAULTS[key])
        names = [raw] if isinstance(raw, str) else list(raw)
        return [name.upper() for name in names]

    @property
    def csrf_in_cookies(self) -> bool:
        return _settings().csrf_in_cookies

    @property
    def csrf_check_form(self) -> bool:
        return _settings().csrf_check_form

    @property
    def access_csrf_cookie_name(self) -> str:
        return _settings().access.csrf_name

    @property
    def refresh_csrf_cookie_name(self) -> str:
        return _settings().refresh.csrf_name

    @property
    def access_csrf_cookie_path(self) -> str:
        return _settings().access.csrf_path

    @property
    def refresh_csrf_cookie_path(self) -> str:
        return _settings().refresh.csrf_path

    @property
    def access_csrf_header_name(self) -> str:
        return _settings().access.csrf_header

    @property
    def refresh_csrf_header_name(self) -> str:
        return _settings().refresh.csrf_header

    @property
    def access_csrf_field_name(self) -> str:
        return _settings().access.csrf_field

    @property
    def refresh_csrf_field_name(self) -> str:
        return _settings().refresh.csrf_field


#: The one instance; read its properties inside an application context.
config = _Config()
