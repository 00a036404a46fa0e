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
import dataclasses
import functools
import logging
import math
import operator
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from .claims import VerifyPolicy, extended_conventions
from .exceptions import PYJWT_CHECKS_SUB, ConfigurationError, InvalidKeyError
from .exceptions import WeakSecretWarning as WeakSecretWarning
from .introspection import Introspector, introspection_spec
from .jwks import CachedKeySource
from .keys import (
    ASYMMETRIC_ALGORITHMS,
    CRYPTO_INSTALL,
    HAS_CRYPTOGRAPHY,
    MIN_HMAC_KEY_BYTES,
    SUPPORTED_ALGORITHMS,
    PreparedKey,
    describe_key,
    hmac_key_too_short,
    is_private_key,
    is_symmetric,
    key_family,
    prepare_key,
)
from .keyset import Key, KeySet, coerce_key_set, public_jwk, thumbprint
from .resolvers import (
    NO_LOADERS,
    SIGNING,
    AppKeys,
    KeyLoaders,
    KeyResolver,
    KeySetKeys,
    RemoteKeys,
    StaticKeys,
    TrustedIssuer,
    TrustedIssuers,
)
from .resource_policy import (
    RESOURCE_DEFAULTS,
    ResourcePolicy,
    issuer_profile,
    resolve_resource_policy,
    resource_identifier,
)
from .resources import DiscoverySpec, LoaderKeysSpec, RemoteKeysSpec, Resources
from .revocation.base import RevocationStore

logger = logging.getLogger("flask_jwtx")

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

#: ``max_age`` given to non-session cookies, as the incumbent does: one year.
PERSISTENT_COOKIE_MAX_AGE: Final = 31540000

_SAMESITE: Final = {"lax": "Lax", "strict": "Strict", "none": "None"}


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
    #: The keys from the configuration alone (static, key set, remote...).
    resolver: KeyResolver
    #: What creating and verifying ask: the app's key loaders, else ``resolver``.
    keys: AppKeys
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
    revocation_store: RevocationStore | None
    #: "closed": an unreachable store refuses requests (503); "open": lets them through.
    failure_policy: str
    rotation: bool
    reuse_grace: float
    #: Where the app publishes its public keys (``None``: not published).
    jwks_path: str | None
    #: ``Cache-Control: max-age`` of the published key set, in seconds.
    jwks_max_age: int
    policy: VerifyPolicy = field(repr=False)
    #: Most live sessions per identity (``JWT_SESSION_LIMIT``); the oldest end first.
    session_limit: int = 100
    #: Whether sessions record the client's user agent and IP (``JWT_SESSION_METADATA``).
    session_metadata: bool = False
    #: The resource-server settings (``JWT_RESOURCE``, ``JWT_DPOP*``, ``JWT_WWW_AUTHENTICATE``).
    resource: ResourcePolicy = field(default_factory=ResourcePolicy)
    #: Opaque tokens are introspected (``JWT_INTROSPECTION``); ``None``: not configured.
    introspector: Introspector | None = None

    def cookies_for(self, refresh: bool) -> CookieSettings:
        return self.refresh if refresh else self.access


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
    """A zero lifetime means "never expires", as the incumbent reads it (``if expires_delta:``).

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

    dateutil's ``relativedelta`` (which the incumbent documents) is turned
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


def _keys(
    config: Mapping[str, Any],
    algorithm: str,
    decode_algorithms: tuple[str, ...],
    *,
    need_signing: bool,
    need_verifying: bool,
) -> StaticKeys:
    """``JWT_SECRET_KEY`` / ``JWT_PRIVATE_KEY`` / ``JWT_PUBLIC_KEY``, parsed once.

    Flask's ``SECRET_KEY`` stands in for ``JWT_SECRET_KEY`` only when the
    app's own ``JWT_ALGORITHM`` is HMAC, as with the incumbent. In an
    asymmetric app that also lists an HMAC algorithm in
    ``JWT_DECODE_ALGORITHMS``, the session secret never becomes a
    verification key: anyone who learned it (it signs every session cookie)
    could otherwise mint tokens. Only an explicit ``JWT_SECRET_KEY`` serves.
    """
    secret = config.get("JWT_SECRET_KEY") or None
    if secret is None and is_symmetric(algorithm):
        secret = config.get("SECRET_KEY") or None
    public = config.get("JWT_PUBLIC_KEY") or None
    material = _Material(secret, config.get("JWT_PRIVATE_KEY") or None, public)
    # A key that is merely absent is not an error yet: apps create the
    # extension before their config is complete (filled later, from the
    # environment, per test), and a verify-only service has no private key.
    # What needs the key raises this message then; a key that IS set but
    # unusable fails here, at start-up.
    missing: dict[str, str] = {}

    def prepare(alg: str, for_signing: bool, required: bool) -> PreparedKey | None:
        return material.prepare(alg, for_signing, missing if required else None)

    encode_key = prepare(algorithm, True, required=need_signing)
    decode_keys: dict[str, PreparedKey] = {}
    for alg in decode_algorithms:
        # The signing algorithm must always be verifiable; extra decode
        # algorithms are usable only when a key of their family is configured.
        own = alg == algorithm
        if own and public is None and encode_key is not None and not is_symmetric(alg):
            # Only the private key is set: its public half verifies our tokens.
            decode_keys[alg] = PreparedKey(alg, encode_key.impl, encode_key.key.public_key())
            continue
        prepared = prepare(alg, False, required=own and need_verifying)
        if prepared is not None:
            decode_keys[alg] = prepared
    if missing:
        logger.warning("No key is set yet for %s: %s", algorithm, _not_set_yet(algorithm, missing))
    if is_symmetric(algorithm) and secret is not None:
        _warn_if_short(algorithm, secret)
    published = _published(algorithm, encode_key, decode_keys.get(algorithm))
    encode_kid = published.signing_kid if published is not None else None
    return StaticKeys(encode_key, encode_kid, decode_keys, published, missing)


class _Material(NamedTuple):
    """The configured key texts: which one serves an algorithm, parsed on demand."""

    secret: Any
    private: Any
    public: Any

    def prepare(
        self, alg: str, for_signing: bool, missing: dict[str, str] | None
    ) -> PreparedKey | None:
        """The key for ``alg``; when absent, ``None`` (noted in ``missing`` if given)."""
        if is_symmetric(alg):
            key_name, raw = "JWT_SECRET_KEY", self.secret
        elif for_signing:
            key_name, raw = "JWT_PRIVATE_KEY", self.private
        else:
            key_name, raw = "JWT_PUBLIC_KEY", self.public
        if raw is None:
            if missing is not None:
                missing[SIGNING if for_signing else alg] = _missing_key(key_name, alg, for_signing)
            return None
        try:
            prepared = prepare_key(alg, raw)
        except InvalidKeyError as exc:
            if is_symmetric(alg):
                raise _fail(
                    key_name, f"cannot be used with {alg} ({exc})", "Check the key."
                ) from None
            raise _wrong_key(key_name, alg, raw, for_signing) from None
        if not is_symmetric(alg) and is_private_key(prepared.key) != for_signing:
            # A public key cannot sign (and has no public half to derive);
            # a private one where only the public half belongs would verify,
            # but hands the signing key to every service that only verifies.
            raise _wrong_key(key_name, alg, raw, for_signing)
        return prepared


def _wrong_key(key_name: str, alg: str, raw: Any, for_signing: bool) -> ConfigurationError:
    """A set asymmetric key that does not fit: say what it holds and what ``alg`` needs."""
    role = "private" if for_signing else "public"
    problem = (
        f"cannot be used with {alg}: it holds {describe_key(raw)}, and {alg} "
        f"{'signs' if for_signing else 'verifies'} with {key_family(alg)} {role} key"
    )
    if not for_signing and describe_key(raw).endswith("private key"):
        fix = (
            f"Set {key_name} to its public half only (openssl pkey -pubout): a service "
            "that verifies should not hold the signing key."
        )
    else:
        fix = (
            f"Set {key_name} to the PEM text of {key_family(alg)} {role} key "
            f"(-----BEGIN {role.upper()} KEY-----...), or JWT_ALGORITHM to the key's algorithm."
        )
    return _fail(key_name, problem, fix)


def _warn_if_short(algorithm: str, secret: Any) -> None:
    if hmac_key_too_short(algorithm, secret):
        length = len(secret.encode() if isinstance(secret, str) else secret)
        minimum = MIN_HMAC_KEY_BYTES[algorithm]
        # Opens with PyJWT's wording, so the filters apps already have for the
        # incumbent's warning (``ignore:The HMAC key is``) match this one too.
        warnings.warn(
            f"The HMAC key is {length} bytes long, which is below the minimum recommended "
            f"length of {minimum} bytes for SHA{algorithm[2:]}. JWT_SECRET_KEY is too short "
            f"for {algorithm} to resist brute force; use a longer random secret "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))').",
            WeakSecretWarning,
            stacklevel=5,
        )


#: The ways to provide keys other than the ``JWT_*_KEY`` settings, ending every fix.
_OTHER_WAYS: Final = "or use JWT_KEYS, or register a key loader before init_app."


def _missing_key(key_name: str, algorithm: str, for_signing: bool) -> str:
    """What to tell the developer when a key that is not set is needed."""
    if is_symmetric(algorithm):
        fix = "Set JWT_SECRET_KEY (or Flask's SECRET_KEY) to a random string of "
        fix += f"at least {MIN_HMAC_KEY_BYTES[algorithm]} bytes"
    else:
        fix = f"Set {key_name} to a PEM-encoded key"
    return (
        f"{key_name} must be set to {'sign' if for_signing else 'verify'} tokens "
        f"with the {algorithm} algorithm. {fix}, {_OTHER_WAYS}"
    )


def _not_set_yet(algorithm: str, missing: Mapping[str, str]) -> str:
    """The start-up line for keys not set yet (after its opening): what waits, the fix once.

    ``missing`` holds the error each use will raise (signing, verifying);
    joined, they would give the same advice twice, so this line says it once.
    """
    signing, verifying = SIGNING in missing, algorithm in missing
    uses = " or ".join(
        use for use, absent in (("created", signing), ("verified", verifying)) if absent
    )
    if is_symmetric(algorithm):
        fix = "Set JWT_SECRET_KEY (or Flask's SECRET_KEY) to a random string of "
        fix += f"at least {MIN_HMAC_KEY_BYTES[algorithm]} bytes"
    elif signing and verifying:
        fix = "Set JWT_PRIVATE_KEY to a PEM-encoded key (it verifies too; a service that only "
        fix += "verifies sets JWT_PUBLIC_KEY)"
    else:
        fix = f"Set {'JWT_PRIVATE_KEY' if signing else 'JWT_PUBLIC_KEY'} to a PEM-encoded key"
    return (
        f"tokens cannot be {uses} until one is, and the first attempt raises "
        f"ConfigurationError. {fix}, {_OTHER_WAYS}"
    )


def _published(
    algorithm: str, signing: PreparedKey | None, verifying: PreparedKey | None
) -> KeySet | None:
    """The key set an asymmetric app publishes at JWT_JWKS_PATH.

    Its key gets its RFC 7638 thumbprint as ``kid``; an HMAC app publishes
    nothing (a secret is never published).
    """
    if is_symmetric(algorithm):
        return None
    if signing is not None:
        verifying = verifying or PreparedKey(algorithm, signing.impl, signing.key.public_key())
        jwk = public_jwk(algorithm, verifying.key)
        return KeySet(
            [Key(thumbprint(jwk), algorithm, verifying, signing, {**jwk, "alg": algorithm})]
        )
    if verifying is not None:
        jwk = public_jwk(algorithm, verifying.key)
        return KeySet([Key(thumbprint(jwk), algorithm, verifying, None, jwk)])
    return None


def _revocation_store(config: Mapping[str, Any], resources: Resources) -> RevocationStore | None:
    value = config.get("JWT_REVOCATION_STORE")
    replica = _replica_staleness(config)
    if value is None:
        if replica is not None:
            raise _fail(
                "JWT_REVOCATION_REPLICA",
                "is on, but there is no store to replicate",
                "Set JWT_REVOCATION_STORE (redis://..., postgresql+psycopg://..., sqlite:///...).",
            )
        return None
    if replica is not None and value == "memory://":
        raise _fail(
            "JWT_REVOCATION_REPLICA",
            "is on, but memory:// is already in this process (and in no other)",
            "Turn the replica off, or use a shared store (redis://..., postgresql+psycopg://...).",
        )
    table = _str(config, "JWT_REVOCATION_TABLE", empty_ok=False)
    if replica is not None:
        return resources.store(value, table, replica)
    return resources.store(value, table)


def _replica_staleness(config: Mapping[str, Any]) -> float | None:
    """``JWT_REVOCATION_REPLICA_MAX_STALENESS`` if the replica is on, else ``None``."""
    key = "JWT_REVOCATION_REPLICA_MAX_STALENESS"
    value = config.get(key, DEFAULTS[key])
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise _fail(key, f"is {value!r}", "Use a positive number of seconds or a timedelta.")
    return float(value) if _bool(config, "JWT_REVOCATION_REPLICA") else None


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


def _remote_source(
    config: Mapping[str, Any], url: Any, algorithms: frozenset[str], resources: Resources
) -> CachedKeySource:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise _fail("JWT_JWKS_URL", f"is {url!r}", "Use an http(s) URL of a JWKS document.")
    ttl = _number(config, "JWT_JWKS_CACHE_TTL")
    interval = _number(config, "JWT_JWKS_MIN_REFRESH_INTERVAL")
    timeout = _number(config, "JWT_JWKS_TIMEOUT")
    max_bytes = _positive_int(config, "JWT_JWKS_MAX_BYTES")
    # A JWK without 'alg' is bound to the one algorithm allowed, if there is one.
    bind = next(iter(algorithms)) if len(algorithms) == 1 else None
    raw_stale = config.get("JWT_JWKS_MAX_STALE", DEFAULTS["JWT_JWKS_MAX_STALE"])
    max_stale = None if raw_stale is None else _number(config, "JWT_JWKS_MAX_STALE")
    spec = RemoteKeysSpec(url, ttl, interval, timeout, max_bytes, bind, max_stale)
    try:
        return resources.remote_keys(spec)
    except ValueError as exc:  # no host, a port out of range...
        raise _fail("JWT_JWKS_URL", f"is {url!r} ({exc})", "Check the URL.") from None


@dataclass(frozen=True, slots=True)
class _KeySetLoader:
    """The app's ``key_set_loader``, as a key source's ``load`` (equal for the same loader).

    A set that cannot be used is reported like an unreachable source: the
    cached set keeps serving (logged), and with none cached the request is
    a 503. A rotation script that writes a broken set must not turn every
    request into a 500.
    """

    loader: Callable[[], Any]

    def __call__(self) -> KeySet:
        try:
            return coerce_key_set(self.loader(), "key_set_loader")
        except ConfigurationError as exc:
            raise InvalidKeyError(str(exc)) from None


def _remote_algorithms(key: str, names: Iterable[str]) -> frozenset[str]:
    asymmetric = frozenset(n for n in names if not is_symmetric(n))
    if not asymmetric:
        raise _fail(
            key,
            "allows only HMAC algorithms, which a JWKS cannot verify",
            "Set JWT_DECODE_ALGORITHMS (or the issuer's 'algorithms') to e.g. ['RS256'].",
        )
    return asymmetric


def _trusted_issuers(
    config: Mapping[str, Any], entries: Any, resources: Resources
) -> dict[str, TrustedIssuer]:
    key = "JWT_TRUSTED_ISSUERS"
    if not isinstance(entries, list | tuple) or not entries:
        raise _fail(key, f"is {entries!r}", "Use a list of issuer URLs or of dicts with 'issuer'.")
    resource = resource_identifier(config)
    issuers: dict[str, TrustedIssuer] = {}
    for item in entries:
        # An issuer URL alone: its keys are found through its metadata (discovery).
        entry = {"issuer": item} if isinstance(item, str) else item
        if not isinstance(entry, Mapping) or "issuer" not in entry:
            raise _fail(
                key,
                f"has the entry {item!r}",
                "Each is an issuer URL, or a dict with 'issuer' (and 'jwks_url', else the "
                "issuer's metadata names it).",
            )
        name = entry["issuer"]
        if not isinstance(name, str) or not name or name in issuers:
            raise _fail(key, f"names the issuer {name!r} twice or badly", "Use unique strings.")
        algorithms = _remote_algorithms(key, _names(entry.get("algorithms", ["RS256"]), key))
        for algorithm in algorithms:
            _algorithm(algorithm, key)
        token_types, required = issuer_profile(entry, name, resource)
        issuers[name] = TrustedIssuer(
            issuer=name,
            keys=_remote_source(config, entry["jwks_url"], algorithms, resources)
            if "jwks_url" in entry
            else _discovered_source(config, name, algorithms, resources),
            audience=_issuer_audience(config, entry, name, resource),
            algorithms=algorithms,
            token_types=token_types,
            required_claims=required,
        )
    return issuers


def _discovered_source(
    config: Mapping[str, Any], issuer: str, algorithms: frozenset[str], resources: Resources
) -> CachedKeySource:
    """The key source of an issuer named by URL alone (:mod:`.discovery`), cached like a JWKS."""
    raw_stale = config.get("JWT_JWKS_MAX_STALE", DEFAULTS["JWT_JWKS_MAX_STALE"])
    spec = DiscoverySpec(
        issuer,
        ttl=_number(config, "JWT_JWKS_CACHE_TTL"),
        min_refresh_interval=_number(config, "JWT_JWKS_MIN_REFRESH_INTERVAL"),
        timeout=_number(config, "JWT_JWKS_TIMEOUT"),
        max_bytes=_positive_int(config, "JWT_JWKS_MAX_BYTES"),
        algorithm=next(iter(algorithms)) if len(algorithms) == 1 else None,
        max_stale=None if raw_stale is None else _number(config, "JWT_JWKS_MAX_STALE"),
    )
    try:
        return resources.discovered_keys(spec)
    except ValueError as exc:
        raise _fail(
            "JWT_TRUSTED_ISSUERS", f"names {issuer!r} ({exc})", "Use the issuer's https URL."
        ) from None


def _issuer_audience(
    config: Mapping[str, Any], entry: Mapping[str, Any], name: str, resource: str | None = None
) -> tuple[str, ...] | None:
    """The audiences a trusted issuer's tokens must name: its own, else ``JWT_RESOURCE``
    (RFC 9068 section 4: the resource server's identifier), else JWT_DECODE_AUDIENCE.

    Services that share an identity provider receive tokens from the same
    issuer; without an audience check each would accept the tokens minted for
    the others. So an issuer without any audience is refused at start-up,
    unless its entry says ``"verify_audience": False`` in so many words (for
    an issuer that mints tokens for this service alone).
    """
    key = "JWT_TRUSTED_ISSUERS"
    own = entry.get("audience")
    if own is not None and own != "":
        names = _names(own, key)
        if not names or not all(names):
            raise _fail(key, f"gives {name!r} the audience {own!r}", "Use non-empty strings.")
        return names
    if resource is not None:
        return (resource,)
    inherited = _audience(config, "JWT_DECODE_AUDIENCE")
    if inherited is not None:
        return (inherited,) if isinstance(inherited, str) else inherited
    if entry.get("verify_audience", True) is False:
        return None
    raise _fail(
        key,
        f"trusts {name!r} without an audience, so tokens it minted for other services "
        "would be accepted here",
        "Set JWT_DECODE_AUDIENCE (every issuer inherits it) or the entry's 'audience'; "
        "only for an issuer that serves this service alone, set 'verify_audience': False.",
    )


def _resolver(
    config: Mapping[str, Any],
    algorithm: str,
    decode_algorithms: tuple[str, ...],
    *,
    encode_loader: bool,
    decode_loader: bool,
    key_set_loader: Callable[[], Any] | None,
    resources: Resources,
) -> tuple[KeyResolver, frozenset[str]]:
    """The key resolver for this configuration, and the algorithms tokens may use."""
    explicit = config.get("JWT_DECODE_ALGORITHMS")
    remote_url = config.get("JWT_JWKS_URL")
    trusted = config.get("JWT_TRUSTED_ISSUERS")
    verifies_remotely = bool(remote_url) or trusted is not None
    if not HAS_CRYPTOGRAPHY:
        # A JWKS holds public keys: verifying with them takes cryptography.
        if trusted is not None:
            raise _no_cryptography("JWT_TRUSTED_ISSUERS", "is set (issuers' keys are key pairs)")
        if remote_url:
            raise _no_cryptography("JWT_JWKS_URL", "is set (a JWKS publishes key pairs)")

    local: KeyResolver
    allowed = frozenset(decode_algorithms)
    if key_set_loader is not None:
        source = resources.loader_keys(
            LoaderKeysSpec(
                _KeySetLoader(key_set_loader),
                ttl=_number(config, "JWT_KEY_SET_REFRESH"),
                min_refresh_interval=_number(config, "JWT_JWKS_MIN_REFRESH_INTERVAL"),
            )
        )
        local = KeySetKeys(source)
        allowed = frozenset(decode_algorithms) if explicit else SUPPORTED_ALGORITHMS
    elif config.get("JWT_KEYS") is not None:
        key_set = coerce_key_set(config["JWT_KEYS"])
        signing_kid = config.get("JWT_SIGNING_KID")
        if signing_kid is not None:
            if not isinstance(signing_kid, str):
                raise _fail("JWT_SIGNING_KID", f"is {signing_kid!r}", "Use the kid string.")
            try:
                key_set = KeySet(list(key_set), signing_kid)
            except InvalidKeyError as exc:
                raise _fail(
                    "JWT_SIGNING_KID", f"is {signing_kid!r}: {exc}", "Name a private key."
                ) from None
        local = KeySetKeys(key_set)
        allowed = (
            frozenset(decode_algorithms) if explicit else frozenset(k.algorithm for k in key_set)
        )
    else:
        local = _keys(
            config,
            algorithm,
            decode_algorithms,
            need_signing=not encode_loader and not verifies_remotely,
            need_verifying=not decode_loader and not verifies_remotely,
        )
    if trusted is not None:  # an empty list is a mistake, reported as one
        issuers = _trusted_issuers(config, trusted, resources)
        allowed = frozenset().union(*(i.algorithms for i in issuers.values()))
        return TrustedIssuers(issuers, local), allowed
    if remote_url:
        if _audience(config, "JWT_DECODE_AUDIENCE") is None:
            logger.warning(
                "JWT_JWKS_URL is set without JWT_DECODE_AUDIENCE: tokens its issuer minted "
                "for any other service will be accepted here. Set JWT_DECODE_AUDIENCE."
            )
        algorithms = _remote_algorithms("JWT_DECODE_ALGORITHMS", decode_algorithms)
        source = _remote_source(config, remote_url, algorithms, resources)
        return RemoteKeys(source, signing_from=local), algorithms
    return local, allowed


def resolve(
    config: Mapping[str, Any],
    *,
    encode_loader: bool = False,
    decode_loader: bool = False,
    key_set_loader: Callable[[], Any] | None = None,
    resources: Resources | None = None,
    loaders: KeyLoaders = NO_LOADERS,
) -> Settings:
    """Validate ``config`` and build :class:`Settings`.

    ``encode_loader``/``decode_loader`` say whether the user registered key
    loaders; a missing static key is then not an error. ``resources`` is the
    app's cache of live objects (key sources, stores), shared by rebuilds;
    they are asked for only once every plain value has been validated.
    """
    if resources is None:
        resources = Resources()
    algorithm = _algorithm(config.get("JWT_ALGORITHM", DEFAULTS["JWT_ALGORITHM"]), "JWT_ALGORITHM")
    raw_decode = config.get("JWT_DECODE_ALGORITHMS")
    decode_algorithms: tuple[str, ...] = (algorithm,)
    if raw_decode:
        listed = _names(raw_decode, "JWT_DECODE_ALGORITHMS")
        for name in listed:
            _algorithm(name, "JWT_DECODE_ALGORITHMS")
        decode_algorithms = tuple(dict.fromkeys((*listed, algorithm)))
    resolver, allowed = _resolver(
        config,
        algorithm,
        decode_algorithms,
        encode_loader=encode_loader,
        decode_loader=decode_loader,
        key_set_loader=key_set_loader,
        resources=resources,
    )
    identity_claim = _str(config, "JWT_IDENTITY_CLAIM", empty_ok=False)
    decode_audience = _audience(config, "JWT_DECODE_AUDIENCE")
    rotation = _bool(config, "JWT_REFRESH_TOKEN_ROTATION")
    if rotation and config.get("JWT_REVOCATION_STORE") is None:
        raise _fail(
            "JWT_REFRESH_TOKEN_ROTATION",
            "needs a revocation store to remember used refresh tokens",
            "Set JWT_REVOCATION_STORE (for example redis://... or sqlite:///...).",
        )
    policy = VerifyPolicy(
        algorithms=allowed,
        conventions=functools.partial(extended_conventions, identity_claim=identity_claim),
        leeway=_non_negative(config, "JWT_DECODE_LEEWAY"),
        audience=(decode_audience,) if isinstance(decode_audience, str) else decode_audience,
        issuer=_optional_str(config, "JWT_DECODE_ISSUER"),
        # Flask-JWT-Extended leaves the 'sub' check to PyJWT, which has one
        # from 2.10 on: with an older PyJWT, no app of it ever had its int or
        # list identities refused, whatever JWT_VERIFY_SUB said.
        verify_sub=_bool(config, "JWT_VERIFY_SUB") and PYJWT_CHECKS_SUB,
        verify_jti=PYJWT_CHECKS_SUB,  # added to PyJWT with the 'sub' check
        max_bytes=_positive_int(config, "JWT_MAX_TOKEN_BYTES"),
    )
    if isinstance(resolver, TrustedIssuers):
        # Each issuer's tokens are held to that issuer's audience.
        policy = dataclasses.replace(policy, issuers=resolver.requirements(policy))
    csrf_methods = _names(
        config.get("JWT_CSRF_METHODS", DEFAULTS["JWT_CSRF_METHODS"]), "JWT_CSRF_METHODS"
    )
    resource = resolve_resource_policy(config, policy.max_bytes)
    if resource.dpop.mode != "off" and config.get("JWT_REVOCATION_STORE") is None:
        raise _fail(
            "JWT_DPOP",
            f"is {resource.dpop.mode!r}, but there is no store to make each proof single-use",
            "Set JWT_REVOCATION_STORE (memory:// for one process; redis://... or a SQL URL "
            "shared by every instance).",
        )
    return Settings(
        algorithm=algorithm,
        decode_algorithms=decode_algorithms,
        resolver=resolver,
        keys=AppKeys(resolver, loaders, algorithm),
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
        revocation_store=_revocation_store(config, resources),
        failure_policy=_choice(config, "JWT_REVOCATION_FAILURE_POLICY", ("closed", "open")),
        rotation=rotation,
        reuse_grace=_non_negative(config, "JWT_REFRESH_REUSE_GRACE"),
        jwks_path=_jwks_path(config),
        jwks_max_age=_non_negative_int(config, "JWT_JWKS_MAX_AGE"),
        policy=policy,
        session_limit=_positive_int(config, "JWT_SESSION_LIMIT"),
        session_metadata=_bool(config, "JWT_SESSION_METADATA"),
        resource=resource,
        introspector=_introspector(config, resources),
    )


def _introspector(config: Mapping[str, Any], resources: Resources) -> Introspector | None:
    spec = introspection_spec(config.get("JWT_INTROSPECTION"))
    if spec is None:
        return None
    timeout = _number(config, "JWT_JWKS_TIMEOUT")
    try:
        return resources.introspector(spec, timeout, _positive_int(config, "JWT_JWKS_MAX_BYTES"))
    except ValueError as exc:  # no host, a port out of range
        raise _fail(
            "JWT_INTROSPECTION", f"has an unusable endpoint ({exc})", "Check the URL."
        ) from None


_watched = operator.itemgetter(*WATCHED_KEYS)


def _snapshot(config: Mapping[str, Any]) -> tuple[Any, ...]:
    # Copies of mutable values, so an in-place ``.append`` is seen as a change.
    return tuple(
        copy.copy(v) if isinstance(v, list | dict | set) else v
        for v in map(config.get, WATCHED_KEYS)
    )


class LiveSettings:
    """Settings for one app, rebuilt when its ``JWT_*`` config changes."""

    __slots__ = ("_build", "_config", "_lock", "_settings", "_snapshot")

    def __init__(self, config: Mapping[str, Any], build: Callable[[], Settings]) -> None:
        self._config = config
        self._build = build
        self._lock = threading.Lock()
        self._snapshot = _snapshot(config)
        self._settings = build()

    def invalidate(self) -> None:
        """Rebuild on the next :meth:`get` (after the app's stores were closed)."""
        with self._lock:
            self._snapshot = ()

    def get(self) -> Settings:
        try:
            # One C call for every watched key (init_app wrote them all).
            current = _watched(self._config)
        except KeyError:  # a key was deleted from app.config: compare with defaults
            current = tuple(map(self._config.get, WATCHED_KEYS))
        if current != self._snapshot:
            # Built outside the lock: a build may reach a store's server, and
            # no request waits on another's network I/O. Concurrent builds
            # share the app's Resources: one store is kept (the others are
            # closed); the lock only keeps the settings and their snapshot together.
            snapshot = _snapshot(self._config)
            settings = self._build()
            with self._lock:
                self._settings, self._snapshot = settings, snapshot
                return settings
        return self._settings
