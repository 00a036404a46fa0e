"""The resource-server policy, and the readers of its keys (``JWT_RESOURCE``, ``JWT_DPOP*``...).

Flask-free: the readers here check one value each; the keys are declared
(defaults, documentation) in ``flask_jwtx._core.config.schema.resource`` and
read once, in ``init_app`` (``flask_jwtx._core.config.settings.resolve``), into
a frozen :class:`ResourcePolicy` that the request path reads. What the service does
with it lives in ``flask_jwtx._core.web.resource_server`` (challenges, metadata, the
DPoP step) and ``flask_jwtx._core.oauth.dpop`` (the proof checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from ...exceptions import ConfigurationError
from ..jose.keys import HAS_CRYPTOGRAPHY, cryptography_missing
from .dpop import MODES, PROOF_ALGORITHMS, DPoPPolicy, normalize_uri

#: RFC 9728 section 3: the well-known suffix of protected resource metadata.
METADATA_SUFFIX: Final = "/.well-known/oauth-protected-resource"
#: The shortest nonce secret: the length of its HMAC's hash.
MIN_NONCE_SECRET_BYTES: Final = 32


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


def resource_identifier(value: Any, key: str = "JWT_RESOURCE") -> str | None:
    """``JWT_RESOURCE``: this service's absolute URL; ``None`` when it is no resource server."""
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
    if normalize_uri(value) is None:
        # What DPoP compares each proof's htu with: a value it cannot read
        # (a host outside ASCII, user information) would refuse every proof
        # at request time instead of failing here.
        raise _fail(
            key,
            f"is {value!r}",
            "Use an ASCII URL without user information: an internationalised host in its "
            "A-label (punycode) form, e.g. https://xn--bcher-kva.example/ for bücher.example, "
            "as clients write it in DPoP proofs and tokens.",
        )
    return value


def challenges(value: Any, key: str = "JWT_WWW_AUTHENTICATE") -> bool | None:
    """``JWT_WWW_AUTHENTICATE``: on, off, or ``None`` (on exactly for a resource server)."""
    if value is None or isinstance(value, bool):
        return value
    raise _fail(key, f"is {value!r}", "Use True, False, or None (on when JWT_RESOURCE is set).")


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


def proof_algorithms(value: Any, key: str = "JWT_DPOP_ALGORITHMS") -> frozenset[str]:
    """``JWT_DPOP_ALGORITHMS``: asymmetric algorithms only, at least one."""
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


def nonce_secret(value: Any, key: str = "JWT_DPOP_NONCE_SECRET") -> bytes | None:
    """``JWT_DPOP_NONCE_SECRET`` as bytes (at least 32), or ``None``: no server nonces."""
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
    return raw
