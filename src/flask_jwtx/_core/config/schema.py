"""The ``JWT_*`` keys: their defaults, and the readers that validate one value each.

Every key flask-jwtx reads is in :data:`DEFAULTS` (the configuration reference
is generated from it, with what each reader refuses); a reader turns one raw
value into its resolved form or raises a :class:`ConfigurationError` naming the
key and the fix.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ...exceptions import ConfigurationError
from ..jose.keys import (
    ASYMMETRIC_ALGORITHMS,
    CRYPTO_INSTALL,
    HAS_CRYPTOGRAPHY,
    SUPPORTED_ALGORITHMS,
)
from ..oauth.resource_policy import (
    RESOURCE_DEFAULTS,
)

logger = logging.getLogger("flask_jwtx")


#: Where ``init_app`` keeps an app's flask-jwtx state, in ``app.extensions``.
EXTENSION_KEY: Final = "flask-jwtx"


LOCATIONS: Final = ("headers", "cookies", "query_string", "json")


#: The defaults, identical to Flask-JWT-Extended 4.x, plus flask-jwtx's own keys
#: (marked). ``init_app`` writes them into ``app.config`` with ``setdefault``.
DEFAULTS: Final[Mapping[str, Any]] = {
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
    "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=30),
    "JWT_ALGORITHM": "HS256",
    "JWT_DECODE_ALGORITHMS": None,
    "JWT_SECRET_KEY": None,
    "JWT_PRIVATE_KEY": None,
    "JWT_PUBLIC_KEY": None,
    "JWT_DECODE_AUDIENCE": None,
    "JWT_ENCODE_AUDIENCE": None,
    "JWT_DECODE_ISSUER": None,
    "JWT_ENCODE_ISSUER": None,
    "JWT_DECODE_LEEWAY": 0,
    "JWT_ENCODE_NBF": True,
    "JWT_VERIFY_SUB": True,
    "JWT_IDENTITY_CLAIM": "sub",
    "JWT_ERROR_MESSAGE_KEY": "msg",
    "JWT_TOKEN_LOCATION": ("headers",),
    "JWT_HEADER_NAME": "Authorization",
    "JWT_HEADER_TYPE": "Bearer",
    "JWT_QUERY_STRING_NAME": "jwt",
    "JWT_QUERY_STRING_VALUE_PREFIX": "",
    "JWT_JSON_KEY": "access_token",
    "JWT_REFRESH_JSON_KEY": "refresh_token",
    "JWT_ACCESS_COOKIE_NAME": "access_token_cookie",
    "JWT_REFRESH_COOKIE_NAME": "refresh_token_cookie",
    "JWT_ACCESS_COOKIE_PATH": "/",
    "JWT_REFRESH_COOKIE_PATH": "/",
    "JWT_COOKIE_DOMAIN": None,
    "JWT_COOKIE_SECURE": False,
    "JWT_COOKIE_SAMESITE": None,
    "JWT_SESSION_COOKIE": True,
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_CSRF_METHODS": ["POST", "PUT", "PATCH", "DELETE"],
    "JWT_CSRF_IN_COOKIES": True,
    "JWT_CSRF_CHECK_FORM": False,
    "JWT_ACCESS_CSRF_COOKIE_NAME": "csrf_access_token",
    "JWT_REFRESH_CSRF_COOKIE_NAME": "csrf_refresh_token",
    "JWT_ACCESS_CSRF_COOKIE_PATH": "/",
    "JWT_REFRESH_CSRF_COOKIE_PATH": "/",
    "JWT_ACCESS_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_REFRESH_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_ACCESS_CSRF_FIELD_NAME": "csrf_token",
    "JWT_REFRESH_CSRF_FIELD_NAME": "csrf_token",
    # flask-jwtx only:
    "JWT_MAX_TOKEN_BYTES": 8192,
    "JWT_IDENTITY_AS_STRING": False,
    "JWT_KEYS": None,
    "JWT_SIGNING_KID": None,
    "JWT_KEY_SET_REFRESH": 60,
    "JWT_JWKS_PATH": None,
    "JWT_JWKS_MAX_AGE": 300,
    "JWT_JWKS_URL": None,
    "JWT_JWKS_CACHE_TTL": 300,
    "JWT_JWKS_MIN_REFRESH_INTERVAL": 30,
    "JWT_JWKS_TIMEOUT": 5,
    "JWT_JWKS_MAX_BYTES": 262144,
    "JWT_JWKS_MAX_STALE": 86400,
    "JWT_TRUSTED_ISSUERS": None,
    "JWT_REVOCATION_STORE": None,
    "JWT_REVOCATION_TABLE": "jwtx_revocations",
    "JWT_REVOCATION_FAILURE_POLICY": "closed",
    "JWT_REFRESH_TOKEN_ROTATION": False,
    "JWT_REFRESH_REUSE_GRACE": 10,
    "JWT_SESSION_LIMIT": 100,
    "JWT_SESSION_METADATA": False,
    "JWT_REVOCATION_REPLICA": False,
    "JWT_REVOCATION_REPLICA_MAX_STALENESS": 1.0,
    # An OAuth 2.0 protected resource: DPoP, challenges, metadata (resource_policy).
    **RESOURCE_DEFAULTS,
}


#: The keys whose change triggers a rebuild (``SECRET_KEY`` is the fallback secret).
WATCHED_KEYS: Final = (*DEFAULTS, "SECRET_KEY")


#: ``max_age`` given to non-session cookies, as Flask-JWT-Extended does: one year.
PERSISTENT_COOKIE_MAX_AGE: Final = 31540000


_SAMESITE: Final = {"lax": "Lax", "strict": "Strict", "none": "None"}


def _fail(key: str, problem: str, fix: str) -> ConfigurationError:
    return ConfigurationError(f"{key} {problem}. {fix}")


def _expires(config: Mapping[str, Any], key: str) -> timedelta | None:
    value = config.get(key, DEFAULTS[key])
    if value is False:
        return None
    if isinstance(value, bool):
        raise _fail(key, "is True", "Use a timedelta, a number of seconds, or False for never.")
    try:
        span = timedelta(seconds=value) if isinstance(value, int) else lifetime_from(value, key)
    except TypeError:
        raise _fail(
            key,
            f"is {value!r}",
            "Use a timedelta, a number of seconds, or False for tokens that never expire.",
        ) from None
    return never_if_zero(span, key)


def never_if_zero(span: timedelta, name: str) -> timedelta | None:
    """A zero lifetime means "never expires", as Flask-JWT-Extended reads it (``if delta:``).

    Apps rely on it (LinOTP documents ``JWT_ACCESS_TOKEN_EXPIRES = 0`` as
    "indefinitely"), so it is honoured, and the explicit spelling is logged once.
    """
    if span:
        return span
    if name not in _ZERO_WARNED:
        _ZERO_WARNED.add(name)
        logger.warning(
            "%s is zero: its tokens never expire (as with Flask-JWT-Extended). Say False to "
            "mean that explicitly, or give a positive lifetime.",
            name,
        )
    return None


#: Settings and arguments already warned about for a zero lifetime (once per process).
_ZERO_WARNED: Final[set[str]] = set()


def lifetime_from(value: Any, name: str) -> timedelta:
    """A ``timedelta``, or anything that adds to a datetime, as a ``timedelta``.

    dateutil's ``relativedelta`` (which Flask-JWT-Extended documents) is turned
    into the fixed span it means from now, so ``relativedelta(months=1)``
    counts the days of this month.
    """
    if isinstance(value, timedelta):
        return value
    now = datetime.now(UTC)
    try:
        span = (now + value) - now
    except TypeError:
        raise TypeError(
            f"{name} must be a timedelta or a dateutil relativedelta, not {value!r}"
        ) from None
    if not isinstance(span, timedelta):
        raise TypeError(f"{name} must be a timedelta or a dateutil relativedelta, not {value!r}")
    return span


def _str(config: Mapping[str, Any], key: str, *, empty_ok: bool = True) -> str:
    value = config.get(key, DEFAULTS[key])
    if not isinstance(value, str) or (not empty_ok and not value):
        raise _fail(key, f"is {value!r}", "It must be a non-empty string.")
    return value


def _optional_str(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key, DEFAULTS[key])
    if value is None or isinstance(value, str):
        return value or None
    raise _fail(key, f"is {value!r}", "It must be a string or None.")


def _bool(config: Mapping[str, Any], key: str) -> bool:
    return bool(config.get(key, DEFAULTS[key]))


def _names(value: Any, key: str, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, Mapping):
        raise _fail(key, f"is {value!r}", "It must be a string or a list of strings.")
    names = tuple(items)
    if not all(isinstance(n, str) for n in names):
        raise _fail(key, f"is {value!r}", "It must be a string or a list of strings.")
    if allowed is not None:
        allowed = tuple(allowed)
        for name in names:
            if name not in allowed:
                raise _fail(
                    key,
                    f"contains {name!r}",
                    f"Allowed values: {', '.join(allowed)}.",
                )
    return names


def _locations(config: Mapping[str, Any]) -> tuple[str, ...]:
    key = "JWT_TOKEN_LOCATION"
    names = _names(config.get(key, DEFAULTS[key]), key, LOCATIONS)
    if not names:
        raise _fail(key, "is empty", f"List at least one of {', '.join(LOCATIONS)}.")
    return names


def _algorithm(name: Any, key: str) -> str:
    if isinstance(name, str) and name in ASYMMETRIC_ALGORITHMS and not HAS_CRYPTOGRAPHY:
        raise _no_cryptography(key, f"is {name!r}, a key-pair algorithm")
    if not isinstance(name, str) or name not in SUPPORTED_ALGORITHMS:
        raise _fail(
            key,
            f"is {name!r}, which is not a supported signing algorithm",
            f"Use one of {', '.join(sorted(SUPPORTED_ALGORITHMS))} ('none' is never allowed).",
        )
    return str(name)


def _no_cryptography(key: str, what: str) -> ConfigurationError:
    """The error for a setting that needs ``cryptography`` in an installation without it.

    It is an optional dependency, as with Flask-JWT-Extended: an app that
    signs with a shared secret never needs it, so it is not installed with
    flask-jwtx. A setting that does need it fails at ``init_app``, saying so.
    """
    return _fail(
        key,
        f"{what}, which needs the cryptography package, and it is not installed",
        f"Install it with: {CRYPTO_INSTALL} (HMAC algorithms such as HS256 work without it).",
    )


def _audience(config: Mapping[str, Any], key: str) -> str | tuple[str, ...] | None:
    value = config.get(key, DEFAULTS[key])
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return _names(value, key) or None


def _samesite(config: Mapping[str, Any]) -> str | None:
    key = "JWT_COOKIE_SAMESITE"
    value = config.get(key, DEFAULTS[key])
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in _SAMESITE:
        return _SAMESITE[value.lower()]
    raise _fail(key, f"is {value!r}", "Use 'Lax', 'Strict', 'None' or None.")


def _positive_int(config: Mapping[str, Any], key: str) -> int:
    value = config.get(key, DEFAULTS[key])
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(key, f"is {value!r}", "It must be a positive integer.")
    return value


def _choice(config: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = config.get(key, DEFAULTS[key])
    if value not in allowed:
        raise _fail(key, f"is {value!r}", f"Use one of {', '.join(map(repr, allowed))}.")
    return str(value)


def _non_negative(config: Mapping[str, Any], key: str) -> float:
    value = config.get(key, DEFAULTS[key])
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _fail(key, f"is {value!r}", "Use a number of seconds (>= 0) or a timedelta.")
    return float(value)


def _non_negative_int(config: Mapping[str, Any], key: str) -> int:
    value = config.get(key, DEFAULTS[key])
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(key, f"is {value!r}", "It must be a whole number of seconds (>= 0).")
    return value


def _jwks_path(config: Mapping[str, Any]) -> str | None:
    value = config.get("JWT_JWKS_PATH")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith("/"):
        raise _fail(
            "JWT_JWKS_PATH", f"is {value!r}", "Use a URL path such as '/.well-known/jwks.json'."
        )
    return value


def _number(config: Mapping[str, Any], key: str) -> float:
    value = config.get(key, DEFAULTS[key])
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _fail(key, f"is {value!r}", "It must be a positive number of seconds.")
    return float(value)
