"""Every ``JWT_*`` setting: its default, its validation, its resolved form.

:func:`resolve` reads ``app.config`` once and returns a frozen
:class:`Settings`; a wrong value fails there, naming the key and the fix. The
request path reads attributes of that object and never ``app.config``.

Users (and especially tests) change ``app.config`` after ``init_app``. To
honour that without re-reading everything per request, :class:`LiveSettings`
keeps a snapshot of the raw values and rebuilds when any of them changed. The
comparison is one tuple equality, mostly identity checks, about a microsecond.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from .exceptions import ConfigurationError, Header, InvalidAlgorithmError, InvalidKeyError
from .keys import (
    MIN_HMAC_KEY_BYTES,
    SUPPORTED_ALGORITHMS,
    PreparedKey,
    hmac_key_too_short,
    is_symmetric,
    prepare_key,
)
from .tokens import VerifyPolicy, extended_conventions

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
}

#: The keys whose change triggers a rebuild (``SECRET_KEY`` is the fallback secret).
WATCHED_KEYS: Final = (*DEFAULTS, "SECRET_KEY")

#: ``max_age`` given to non-session cookies, as the incumbent does: one year.
PERSISTENT_COOKIE_MAX_AGE: Final = 31540000

_SAMESITE: Final = {"lax": "Lax", "strict": "Strict", "none": "None"}


class WeakSecretWarning(UserWarning):
    """The HMAC secret is shorter than its hash, so tokens are easier to forge."""


@dataclass(frozen=True, slots=True)
class CookieSettings:
    """Names and paths of one token kind's cookie and CSRF cookie."""

    name: str
    path: str
    csrf_name: str
    csrf_path: str
    csrf_header: str
    csrf_field: str
    json_key: str


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated form of every ``JWT_*`` key. Built by :func:`resolve`."""

    algorithm: str
    decode_algorithms: tuple[str, ...]
    encode_key: PreparedKey | None
    decode_keys: Mapping[str, PreparedKey]
    access_expires: timedelta | None
    refresh_expires: timedelta | None
    identity_claim: str
    error_msg_key: str
    token_location: tuple[str, ...]
    header_name: str
    header_type: str
    query_string_name: str
    query_string_value_prefix: str
    access: CookieSettings
    refresh: CookieSettings
    cookie_domain: str | None
    cookie_secure: bool
    cookie_samesite: str | None
    cookie_max_age: int | None
    csrf_protect: bool
    csrf_methods: frozenset[str]
    csrf_in_cookies: bool
    csrf_check_form: bool
    encode_audience: str | tuple[str, ...] | None
    encode_issuer: str | None
    encode_nbf: bool
    identity_as_string: bool
    policy: VerifyPolicy = field(repr=False)

    def cookies_for(self, refresh: bool) -> CookieSettings:
        return self.refresh if refresh else self.access

    def configured_key(self, algorithm: str, _header: Header, _token: object) -> PreparedKey:
        """The configured verification key for ``algorithm`` (a ``tokens.KeyLookup``)."""
        key = self.decode_keys.get(algorithm)
        if key is None:  # an allowed algorithm, but no key of its family configured
            raise InvalidAlgorithmError("The specified alg value is not allowed")
        return key


def _fail(key: str, problem: str, fix: str) -> ConfigurationError:
    return ConfigurationError(f"{key} {problem}. {fix}")


def _expires(config: Mapping[str, Any], key: str) -> timedelta | None:
    value = config.get(key, DEFAULTS[key])
    if value is False:
        return None
    if isinstance(value, bool):
        raise _fail(key, "is True", "Use a timedelta, a number of seconds, or False for never.")
    if isinstance(value, int):
        return timedelta(seconds=value)
    if isinstance(value, timedelta):
        return value
    # dateutil's relativedelta and friends: anything that adds to a datetime.
    # Turned into a fixed timedelta now, so every token gets the same lifetime.
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    try:
        return (now + value) - now  # type: ignore[no-any-return]
    except TypeError:
        raise _fail(
            key,
            f"is {value!r}",
            "Use a timedelta, a number of seconds, or False for tokens that never expire.",
        ) from None


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
    if name not in SUPPORTED_ALGORITHMS:
        raise _fail(
            key,
            f"is {name!r}, which is not a supported signing algorithm",
            f"Use one of {', '.join(sorted(SUPPORTED_ALGORITHMS))} ('none' is never allowed).",
        )
    return str(name)


def _audience(config: Mapping[str, Any], key: str) -> str | tuple[str, ...] | None:
    value = config.get(key, DEFAULTS[key])
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return _names(value, key) or None


def _leeway(config: Mapping[str, Any]) -> float:
    key = "JWT_DECODE_LEEWAY"
    value = config.get(key, DEFAULTS[key])
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _fail(key, f"is {value!r}", "Use a number of seconds (>= 0) or a timedelta.")
    return float(value)


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


def _keys(
    config: Mapping[str, Any],
    algorithm: str,
    decode_algorithms: tuple[str, ...],
    *,
    encode_loader: bool,
    decode_loader: bool,
) -> tuple[PreparedKey | None, dict[str, PreparedKey]]:
    secret = config.get("JWT_SECRET_KEY") or config.get("SECRET_KEY") or None
    private = config.get("JWT_PRIVATE_KEY") or None
    public = config.get("JWT_PUBLIC_KEY") or None

    def material(alg: str, for_signing: bool) -> tuple[str, Any]:
        if is_symmetric(alg):
            return "JWT_SECRET_KEY", secret
        return ("JWT_PRIVATE_KEY", private) if for_signing else ("JWT_PUBLIC_KEY", public)

    def prepare(alg: str, for_signing: bool, required: bool) -> PreparedKey | None:
        key_name, raw = material(alg, for_signing)
        if raw is None:
            if not required:
                return None
            if is_symmetric(alg):
                fix = "Set JWT_SECRET_KEY (or Flask's SECRET_KEY) to a random string of "
                fix += f"at least {MIN_HMAC_KEY_BYTES[alg]} bytes"
            else:
                fix = f"Set {key_name} to a PEM-encoded key"
            raise _fail(
                key_name,
                f"must be set to use the {alg} algorithm",
                f"{fix}, or register a key loader before init_app.",
            )
        try:
            return prepare_key(alg, raw)
        except InvalidKeyError as exc:
            raise _fail(key_name, f"cannot be used with {alg} ({exc})", "Check the key.") from None

    encode_key = prepare(algorithm, True, required=not encode_loader)
    decode_keys: dict[str, PreparedKey] = {}
    for alg in decode_algorithms:
        # The signing algorithm must always be verifiable; extra decode
        # algorithms are usable only when a key of their family is configured.
        prepared = prepare(alg, False, required=alg == algorithm and not decode_loader)
        if prepared is not None:
            decode_keys[alg] = prepared
    if is_symmetric(algorithm) and secret is not None and hmac_key_too_short(algorithm, secret):
        warnings.warn(
            f"JWT_SECRET_KEY is shorter than the {MIN_HMAC_KEY_BYTES[algorithm]} bytes "
            f"{algorithm} needs to resist brute force; use a longer random secret "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))').",
            WeakSecretWarning,
            stacklevel=4,
        )
    return encode_key, decode_keys


def resolve(
    config: Mapping[str, Any], *, encode_loader: bool = False, decode_loader: bool = False
) -> Settings:
    """Validate ``config`` and build :class:`Settings`.

    ``encode_loader``/``decode_loader`` say whether the user registered key
    loaders; a missing static key is then not an error.
    """
    algorithm = _algorithm(config.get("JWT_ALGORITHM", DEFAULTS["JWT_ALGORITHM"]), "JWT_ALGORITHM")
    raw_decode = config.get("JWT_DECODE_ALGORITHMS")
    decode_algorithms: tuple[str, ...] = (algorithm,)
    if raw_decode:
        listed = _names(raw_decode, "JWT_DECODE_ALGORITHMS")
        for name in listed:
            _algorithm(name, "JWT_DECODE_ALGORITHMS")
        decode_algorithms = tuple(dict.fromkeys((*listed, algorithm)))
    encode_key, decode_keys = _keys(
        config,
        algorithm,
        decode_algorithms,
        encode_loader=encode_loader,
        decode_loader=decode_loader,
    )
    identity_claim = _str(config, "JWT_IDENTITY_CLAIM", empty_ok=False)
    decode_audience = _audience(config, "JWT_DECODE_AUDIENCE")
    policy = VerifyPolicy(
        algorithms=frozenset(decode_algorithms),
        conventions=functools.partial(extended_conventions, identity_claim=identity_claim),
        leeway=_leeway(config),
        audience=(decode_audience,) if isinstance(decode_audience, str) else decode_audience,
        issuer=_optional_str(config, "JWT_DECODE_ISSUER"),
        verify_sub=_bool(config, "JWT_VERIFY_SUB"),
        max_bytes=_positive_int(config, "JWT_MAX_TOKEN_BYTES"),
    )
    csrf_methods = _names(
        config.get("JWT_CSRF_METHODS", DEFAULTS["JWT_CSRF_METHODS"]), "JWT_CSRF_METHODS"
    )
    return Settings(
        algorithm=algorithm,
        decode_algorithms=decode_algorithms,
        encode_key=encode_key,
        decode_keys=decode_keys,
        access_expires=_expires(config, "JWT_ACCESS_TOKEN_EXPIRES"),
        refresh_expires=_expires(config, "JWT_REFRESH_TOKEN_EXPIRES"),
        identity_claim=identity_claim,
        error_msg_key=_str(config, "JWT_ERROR_MESSAGE_KEY", empty_ok=False),
        token_location=_locations(config),
        header_name=_str(config, "JWT_HEADER_NAME", empty_ok=False),
        header_type=_str(config, "JWT_HEADER_TYPE") or "",
        query_string_name=_str(config, "JWT_QUERY_STRING_NAME", empty_ok=False),
        query_string_value_prefix=_str(config, "JWT_QUERY_STRING_VALUE_PREFIX"),
        access=CookieSettings(
            name=_str(config, "JWT_ACCESS_COOKIE_NAME", empty_ok=False),
            path=_str(config, "JWT_ACCESS_COOKIE_PATH"),
            csrf_name=_str(config, "JWT_ACCESS_CSRF_COOKIE_NAME", empty_ok=False),
            csrf_path=_str(config, "JWT_ACCESS_CSRF_COOKIE_PATH"),
            csrf_header=_str(config, "JWT_ACCESS_CSRF_HEADER_NAME", empty_ok=False),
            csrf_field=_str(config, "JWT_ACCESS_CSRF_FIELD_NAME", empty_ok=False),
            json_key=_str(config, "JWT_JSON_KEY", empty_ok=False),
        ),
        refresh=CookieSettings(
            name=_str(config, "JWT_REFRESH_COOKIE_NAME", empty_ok=False),
            path=_str(config, "JWT_REFRESH_COOKIE_PATH"),
            csrf_name=_str(config, "JWT_REFRESH_CSRF_COOKIE_NAME", empty_ok=False),
            csrf_path=_str(config, "JWT_REFRESH_CSRF_COOKIE_PATH"),
            csrf_header=_str(config, "JWT_REFRESH_CSRF_HEADER_NAME", empty_ok=False),
            csrf_field=_str(config, "JWT_REFRESH_CSRF_FIELD_NAME", empty_ok=False),
            json_key=_str(config, "JWT_REFRESH_JSON_KEY", empty_ok=False),
        ),
        cookie_domain=_optional_str(config, "JWT_COOKIE_DOMAIN"),
        cookie_secure=_bool(config, "JWT_COOKIE_SECURE"),
        cookie_samesite=_samesite(config),
        cookie_max_age=None if _bool(config, "JWT_SESSION_COOKIE") else PERSISTENT_COOKIE_MAX_AGE,
        csrf_protect=_bool(config, "JWT_COOKIE_CSRF_PROTECT"),
        csrf_methods=frozenset(m.upper() for m in csrf_methods),
        csrf_in_cookies=_bool(config, "JWT_CSRF_IN_COOKIES"),
        csrf_check_form=_bool(config, "JWT_CSRF_CHECK_FORM"),
        encode_audience=_audience(config, "JWT_ENCODE_AUDIENCE"),
        encode_issuer=_optional_str(config, "JWT_ENCODE_ISSUER"),
        encode_nbf=_bool(config, "JWT_ENCODE_NBF"),
        identity_as_string=_bool(config, "JWT_IDENTITY_AS_STRING"),
        policy=policy,
    )


def _snapshot(config: Mapping[str, Any]) -> tuple[Any, ...]:
    # Copies of mutable values, so an in-place ``.append`` is seen as a change.
    return tuple(
        copy.copy(v) if isinstance(v, list | dict | set) else v
        for v in map(config.get, WATCHED_KEYS)
    )


class LiveSettings:
    """Settings for one app, rebuilt when its ``JWT_*`` config changes."""

    __slots__ = ("_build", "_config", "_settings", "_snapshot")

    def __init__(self, config: Mapping[str, Any], build: Callable[[], Settings]) -> None:
        self._config = config
        self._build = build
        self._snapshot = _snapshot(config)
        self._settings = build()

    def get(self) -> Settings:
        config_get = self._config.get
        if tuple(map(config_get, WATCHED_KEYS)) != self._snapshot:
            snapshot = _snapshot(self._config)
            self._settings = self._build()
            self._snapshot = snapshot
        return self._settings

    def rebuild(self) -> Settings:
        """Re-resolve now (after a loader was registered, for example)."""
        self._snapshot = _snapshot(self._config)
        self._settings = self._build()
        return self._settings
