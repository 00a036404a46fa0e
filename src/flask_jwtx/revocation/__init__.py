"""Revocation: revoke one token, log an identity out everywhere, rotate refresh tokens.

Stores (:mod:`.memory`, :mod:`.redis`, :mod:`.sql`) hold four kinds of entries,
each keyed by :func:`record_key` (the kind, then a digest of the issuer and
the value):

* ``jti``: that token is revoked;
* ``sub``: every token of that identity issued before this time (ms) is
  revoked ("log out everywhere");
* ``fam``: a refresh-token family is revoked (reuse was detected);
* ``used``: a refresh token was used for rotation, and when (ms).

A protected request reads the entries that apply to its token in one
``get_many`` call.

The one rule every entry obeys: **no record expires while a token it covers
can still verify.** A token verifies until ``exp + JWT_DECODE_LEEWAY``, so
that is the least lifetime of a record about one token (plus a margin for
clocks). :func:`family_expiry` sizes the record that covers a family's
tokens not yet seen; a "log out everywhere" watermark covers tokens of any
lifetime (``expires_delta`` may exceed the configured ones, or be ``False``),
so it never expires: one small entry per identity, overwritten by the next.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, Final

from flask import current_app

from .. import signals
from ..exceptions import Claims, ConfigurationError, RevokedTokenError
from ..tokens import jti_millis
from .base import RevocationStore, StoreUnavailableError

__all__ = [
    "RefreshTokenReusedError",
    "RevocationStore",
    "StoreUnavailableError",
    "check_revocation",
    "record_key",
]

logger = logging.getLogger("flask_jwtx.revocation")

#: Added to every record's lifetime: app instances' clocks differ a little,
#: and a record that outlives its tokens by a minute costs nothing.
CLOCK_MARGIN: Final = 60.0


class RefreshTokenReusedError(RevokedTokenError):
    """A refresh token was presented again after it was used: its family is revoked (401)."""


def record_key(kind: str, issuer: Any, value: Any) -> str:
    """The store key of the ``kind`` record about ``value`` from ``issuer``.

    The key is the kind and a SHA-256 digest of the canonical JSON of
    ``[issuer, value]``, so that:

    * it has one length whatever the value (a 1 KB username fits the SQL
      column) and any text is fine (NUL bytes and lone surrogates, which
      PostgreSQL refuses, are escaped before hashing);
    * values of different JSON types never share a record (``42``, ``"42"``
      and ``[42]`` are three identities with ``JWT_VERIFY_SUB`` off);
    * two issuers' tokens never share one (user ``1001`` of one trusted
      issuer cannot log out user ``1001`` of another).
    """
    material = json.dumps([issuer, value], sort_keys=True, separators=(",", ":"), default=repr)
    digest = hashlib.sha256(material.encode("ascii")).digest()
    return f"{kind}:{base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')}"


def now_millis() -> int:
    return int(time.time() * 1000)


def issued_millis(claims: Mapping[str, Any]) -> int | None:
    """When a token was issued, in ms: exact for our UUIDv7 ``jti``, else from ``iat``.

    For a plain ``iat`` the start of that second is returned, so a "log out
    everywhere" in the same second covers the token (we cannot tell whether
    it came before or after the call, and refusing is the safe answer).
    """
    exact = jti_millis(claims.get("jti"))
    if exact is not None:
        return exact
    iat = claims.get("iat")
    if isinstance(iat, int | float) and not isinstance(iat, bool):
        return int(iat) * 1000
    return None


def check_revocation(
    store: RevocationStore,
    claims: Claims,
    identity_claim: str,
    *,
    rotation: bool,
    reuse_grace: float,
    header: Mapping[str, Any],
    lifetimes: Iterable[timedelta | None] = (),
    leeway: float = 0.0,
) -> None:
    """Raise :class:`RevokedTokenError` if the store revokes this token. One round trip.

    ``lifetimes`` (the configured access and refresh lifetimes) and
    ``leeway`` size the family record written when reuse is detected.
    """
    jti = claims.get("jti")
    family = claims.get("fam")
    issuer = claims.get("iss")
    keys = [record_key("sub", issuer, claims.get(identity_claim))]
    if jti is not None:
        keys.append(record_key("jti", issuer, jti))
    if family is not None:
        keys.append(record_key("fam", issuer, family))
    watch_reuse = rotation and claims.get("type") == "refresh" and jti is not None
    if watch_reuse:
        keys.append(record_key("used", issuer, jti))
    values = store.get_many(keys)
    watermark = values[0]
    if watermark is not None:
        issued = issued_millis(claims)
        if issued is None or issued <= int(watermark):
            raise RevokedTokenError(dict(header), claims)
    if any(value is not None for value in values[1 : -1 if watch_reuse else None]):
        raise RevokedTokenError(dict(header), claims)
    # A used refresh token within the grace window is the client's own
    # concurrent refresh, and allowed; after it, reuse revokes the family.
    used_at = values[-1] if watch_reuse else None
    if is_reuse(used_at, reuse_grace):
        raise reuse_detected(store, claims, header, family_expiry(claims, lifetimes, leeway))


def is_reuse(used_at: str | None, grace: float) -> bool:
    """Whether a refresh token first used at ``used_at`` (ms) is being reused now.

    With a grace of 0 any second use is reuse, even in the same millisecond:
    exactly one of several concurrent rotations wins. A positive grace lets
    a client's own concurrent refreshes (two tabs) through for that long.
    """
    if used_at is None:
        return False
    return grace <= 0 or now_millis() - int(used_at) > grace * 1000


def reuse_detected(
    store: RevocationStore,
    claims: Claims,
    header: Mapping[str, Any],
    expires_at: float | None,
) -> RefreshTokenReusedError:
    """Revoke the reused token's family until ``expires_at``; return the error to raise."""
    family = family_of(claims)
    store.put(record_key("fam", claims.get("iss"), family), "1", expires_at)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logger.warning("Refresh token reuse detected; family %s revoked", family)
    signals.refresh_token_reuse_detected.send(app, claims=claims, family=family)
    signals.token_revoked.send(app, reason="family", family=family)
    return RefreshTokenReusedError(dict(header), claims)


def family_of(claims: Mapping[str, Any]) -> Any:
    """A refresh token's family: its ``fam`` claim, or its own ``jti`` (a family of one)."""
    family = claims.get("fam")
    return claims.get("jti") if family is None else family


def _numeric(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def token_expiry(claims: Mapping[str, Any], leeway: float) -> float | None:
    """Until when a record about this one token must live (``None``: forever).

    The token still verifies for ``JWT_DECODE_LEEWAY`` seconds after its
    ``exp``; a record that expired at ``exp`` would let a revoked token, or a
    used refresh token, back in for that long.
    """
    if "exp" not in claims:
        return None  # a token that never expires is revoked for good
    exp = _numeric(claims.get("exp"))
    return None if exp is None else exp + leeway + CLOCK_MARGIN


def family_expiry(
    claims: Mapping[str, Any], lifetimes: Iterable[timedelta | None], leeway: float
) -> float | None:
    """Until when a revoked refresh-token family must stay revoked.

    The family's newest tokens are not the one presented: a thief may have
    rotated the stolen token up to this very moment, and each rotation mints
    an access and a refresh token with the configured lifetimes. So the
    record lives until the longest configured lifetime from now has passed
    (and at least as long as the presented token's own ``exp``), plus the
    leeway; with a lifetime of ``False`` (never expires), forever.
    """
    longest = 0.0
    for lifetime in lifetimes:
        if lifetime is None:
            return None
        longest = max(longest, lifetime.total_seconds())
    own = token_expiry(claims, leeway)
    if own is None:
        return None
    return max(own, time.time() + longest + leeway + CLOCK_MARGIN)


def new_family() -> str:
    return str(uuid.uuid4())


def require_store(store: RevocationStore | None) -> RevocationStore:
    if store is None:
        raise ConfigurationError(
            "No revocation store: set JWT_REVOCATION_STORE (memory://, redis://..., "
            "sqlite:///..., postgresql://...)"
        )
    return store
