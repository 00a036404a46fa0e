"""The resource-server settings (``JWT_RESOURCE``, ``JWT_DPOP*``, ``JWT_WWW_AUTHENTICATE``).

Flask-free: :func:`resolve_resource_policy` validates the keys once, in
``init_app`` (through ``flask_jwtx._core.config.settings.resolve``), into a frozen
:class:`ResourcePolicy` that the request path reads. What the service does
with it lives in ``flask_jwtx._core.web.resource_server`` (challenges, metadata, the
DPoP step) and ``flask_jwtx._core.oauth.dpop`` (the proof checks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from ...exceptions import ConfigurationError
from ..jose.keys import HAS_CRYPTOGRAPHY, cryptography_missing
from .dpop import DEFAULT_ALGORITHMS, MODES, PROOF_ALGORITHMS, DPoPPolicy, NonceSource

#: RFC 9728 section 3: the well-known suffix of protected resource metadata.
METADATA_SUFFIX: Final = "/.well-known/oauth-protected-resource"
#: The shortest nonce secret: the length of its HMAC's hash.
MIN_NONCE_SECRET_BYTES: Final = 32

#: The keys this module validates, with their defaults (merged into ``settings.DEFAULTS``).
RESOURCE_DEFAULTS: Final[Mapping[str, Any]] = {
    "JWT_RESOURCE": None,
    "JWT_WWW_AUTHENTICATE": None,
    "JWT_DPOP": "off",
    "JWT_DPOP_ALGORITHMS": list(DEFAULT_ALGORITHMS),
    "JWT_DPOP_IAT_WINDOW": 60,
    "JWT_DPOP_NONCE_SECRET": None,
    "JWT_INTROSPECTION": None,
}


@dataclass(frozen=True, slots=True)
class ResourcePolicy:
    """What this service says and checks as an OAuth 2.0 protected resource."""

    #: ``JWT_RESOURCE``: this service's resource identifier (``None``: not a resource server).
    resource: str | None = None
    #: Whether refusals carry ``WWW-Authenticate`` challenges (RFC 6750 section 3).
    challenges: bool = False
    dpop: DPoPPolicy = field(default_factory=DPoPPolicy)

    @property
    def metadata_path(self) -> str | None:
        """Where RFC 9728 metadata is served: the suffix, then the resource's path."""
        if self.resource is None:
            return None
        path = urlsplit(self.resource).path.rstrip("/")
        return METADATA_SUFFIX + path

    @property
    def metadata_url(self) -> str | None:
        """The absolute URL of the metadata, for ``resource_metadata=`` in challenges."""
        if self.resource is None or self.metadata_path is None:
            return None
        parts = urlsplit(self.resource)
        return f"{parts.scheme}://{parts.netloc}{self.metadata_path}"


def _fail(key: str, problem: str, fix: str) -> ConfigurationError:
    return ConfigurationError(f"{key} {problem}. {fix}")


def _get(config: Mapping[str, Any], key: str) -> Any:
    return config.get(key, RESOURCE_DEFAULTS[key])


def resource_identifier(config: Mapping[str, Any]) -> str | None:
    """``JWT_RESOURCE``, validated; ``None`` when this app is no resource server."""
    return _resource(config)


#: RFC 9068 section 2.2: the claims every JWT access token carries (``aud`` is
#: required by the audience check itself).
RFC9068_CLAIMS: Final = ("iss", "exp", "sub", "client_id", "iat", "jti")
#: RFC 9068 section 2.1: its ``typ`` (compared without ``application/``).
RFC9068_TYPE: Final = "at+jwt"
PROFILES: Final = ("rfc9068", None)


def issuer_profile(
    entry: Mapping[str, Any], name: str, resource: str | None
) -> tuple[frozenset[str] | None, tuple[str, ...]]:
    """The ``typ`` values and claims a trusted issuer's tokens must carry.

    The RFC 9068 profile (``at+jwt``, its required claims) applies to every
    issuer of a resource server (``JWT_RESOURCE``) unless its entry says
    ``"profile": None``; ``"typ"`` replaces the accepted types (a string, a
    list, or ``None`` for any), for issuers that label access tokens otherwise.
    """
    key = "JWT_TRUSTED_ISSUERS"
    profile = entry.get("profile", "rfc9068" if resource is not None else None)
    if profile not in PROFILES:
        raise _fail(key, f"gives {name!r} the profile {profile!r}", "Use 'rfc9068' or None.")
    if profile is None:
        return None, ()
    types = entry.get("typ", RFC9068_TYPE)
    if types is None:
        return None, RFC9068_CLAIMS
    listed = (types,) if isinstance(types, str) else types
    if (
        not isinstance(listed, list | tuple)
        or not listed
        or not all(isinstance(t, str) and t for t in listed)
    ):
        raise _fail(key, f"gives {name!r} the typ {types!r}", "Use a string, a list, or None.")
    lowered = {t.lower() for t in listed}
    return frozenset(t.removeprefix("application/") for t in lowered), RFC9068_CLAIMS


def _resource(config: Mapping[str, Any]) -> str | None:
    key = "JWT_RESOURCE"
    value = _get(config, key)
    if value is None or value == "":
        return None
    fix = "Use this service's absolute https URL, without query or fragment (RFC 9728)."
    if not isinstance(value, str):
        raise _fail(key, f"is {value!r}", fix)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise _fail(key, f"is {value!r}", fix) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _fail(key, f"is {value!r}", fix)
    if parts.query or parts.fragment or "#" in value or "?" in value:
        raise _fail(key, f"is {value!r}", fix)
    return value


def _challenges(config: Mapping[str, Any], resource: str | None) -> bool:
    key = "JWT_WWW_AUTHENTICATE"
    value = _get(config, key)
    if value is None:  # automatic: on for a resource server
        return resource is not None
    if not isinstance(value, bool):
        raise _fail(
            key, f"is {value!r}", "Use True, False, or None (on when JWT_RESOURCE is set)."
        )
    return value


def dpop_mode(value: Any, key: str = "JWT_DPOP") -> str:
    """``value`` if it is one of the DPoP modes (``dpop.MODES``), else a ConfigurationError.

    DPoP proofs are signed with key pairs: a mode other than "off" needs the
    ``cryptography`` package, and says so where it is set.
    """
    if not isinstance(value, str) or value not in MODES:
        raise _fail(key, f"is {value!r}", f"Use one of {', '.join(map(repr, MODES))}.")
    if value != "off" and not HAS_CRYPTOGRAPHY:
        raise ConfigurationError(cryptography_missing(f"{key}={value!r} (DPoP proofs)"))
    return value


def _algorithms(config: Mapping[str, Any]) -> frozenset[str]:
    key = "JWT_DPOP_ALGORITHMS"
    value = _get(config, key)
    names = (value,) if isinstance(value, str) else value
    fix = (
        "List asymmetric algorithms, e.g. ['ES256', 'PS256', 'EdDSA']: a proof signed with "
        "a shared secret (HS*) or none proves nothing."
    )
    if not isinstance(names, list | tuple | set | frozenset) or not names:
        raise _fail(key, f"is {value!r}", fix)
    for name in names:
        if not isinstance(name, str) or name not in PROOF_ALGORITHMS:
            raise _fail(key, f"contains {name!r}", fix)
    return frozenset(names)


def _window(config: Mapping[str, Any]) -> float:
    key = "JWT_DPOP_IAT_WINDOW"
    value = _get(config, key)
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise _fail(key, f"is {value!r}", "Use a positive number of seconds or a timedelta.")
    return float(value)


def _nonces(config: Mapping[str, Any], window: float) -> NonceSource | None:
    key = "JWT_DPOP_NONCE_SECRET"
    value = _get(config, key)
    if value is None or value is False:
        return None
    raw = value.encode() if isinstance(value, str) else value
    if not isinstance(raw, bytes) or len(raw) < MIN_NONCE_SECRET_BYTES:
        raise _fail(
            key,
            "is not a secret of at least 32 bytes",
            "Set the same random string on every instance "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), or None.",
        )
    return NonceSource(raw, window)


def resolve_resource_policy(config: Mapping[str, Any], max_bytes: int) -> ResourcePolicy:
    """Validate the resource-server keys of ``config`` (see :data:`RESOURCE_DEFAULTS`)."""
    resource = _resource(config)
    window = _window(config)
    dpop = DPoPPolicy(
        mode=dpop_mode(_get(config, "JWT_DPOP")),
        algorithms=_algorithms(config),
        iat_window=window,
        max_bytes=max_bytes,
        nonces=_nonces(config, window),
    )
    return ResourcePolicy(resource, _challenges(config, resource), dpop)
