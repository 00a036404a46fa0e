"""The revocation policy, Flask-free: what is recorded, for how long, and what it means.

Stores (:mod:`.memory`, :mod:`.redis`, :mod:`.sql`) hold four kinds of
records, each keyed by :func:`record_key` (the kind, then a digest of the
issuer and the value):

* ``jti``: that token is revoked;
* ``sub``: every token of that identity issued before this time (ms) is
  revoked ("log out everywhere"), either from one issuer or, under
  :data:`ANY_ISSUER`, whatever ``iss`` the token carries;
* ``fam``: a refresh-token family is revoked (reuse was detected);
* ``used``: a refresh token was used for rotation, and when (ms).

This module decides everything about them and does nothing else: it never
raises for a revoked token, sends no signal and knows no app. Reading is
:func:`check` (a protected request: one ``get_many``) and
:func:`use_refresh_token` (a rotation: one atomic ``put_if_absent``); both
return a :class:`Verdict`. Writing is computed by the ``*_record``
functions, which return the :class:`Record` to put. The Flask layer
(:mod:`.flask`, :mod:`.api`) turns verdicts into exceptions and signals.

The one rule every record obeys: **no record expires while a token it covers
can still verify.** A token verifies until ``exp + JWT_DECODE_LEEWAY``, so
that is the least lifetime of a record about one token (plus a margin for
clocks). :func:`family_expiry` sizes the record that covers a family's
tokens not yet seen; a "log out everywhere" watermark covers tokens of any
lifetime (``expires_delta`` may exceed the configured ones, or be ``False``),
so it never expires: one small entry per identity, overwritten by the next.
"""

from __future__ import annotations

import enum
import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, NamedTuple

from ..jose.claimset import jti_millis
from ..jose.jws import b64url_encode
from .base import RevocationStore, clamp_expiry

#: Added to every record's lifetime: app instances' clocks differ a little,
#: and a record that outlives its tokens by a minute costs nothing.
CLOCK_MARGIN: Final = 60.0


class _AnyIssuer:
    """The type of :data:`ANY_ISSUER`: one object, no JSON value equal to it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY_ISSUER"


#: The issuer of a "log out everywhere" watermark that covers an identity's
#: tokens whatever ``iss`` they carry: the app's own tokens may get theirs
#: from a claims loader, per user or per request, where ``revoke_all`` cannot
#: know it. It is no JSON value, and :func:`record_key` hashes it apart from
#: every one, so no ``iss`` a token carries (a list ``["any issuer"]``
#: included) can name its record.
ANY_ISSUER: Final = _AnyIssuer()


# -- Keys and times ------------------------------------------------------------


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
    if issuer is ANY_ISSUER:
        # Not a JSON array, unlike every other material: no claim value hashes here.
        material = "any-issuer:" + json.dumps(
            value, sort_keys=True, separators=(",", ":"), default=repr
        )
    else:
        material = json.dumps([issuer, value], sort_keys=True, separators=(",", ":"), default=repr)
    digest = hashlib.sha256(material.encode("ascii")).digest()
    return f"{kind}:{b64url_encode(digest)}"


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


def family_of(claims: Mapping[str, Any]) -> Any:
    """A refresh token's family: its ``fam`` claim, or its own ``jti`` (a family of one)."""
    family = claims.get("fam")
    return claims.get("jti") if family is None else family


def new_family() -> str:
    return str(uuid.uuid4())


# -- Lifetimes -----------------------------------------------------------------


def _numeric(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def token_expiry(claims: Mapping[str, Any], leeway: float) -> float | None:
    """Until when a record about this one token must live (``None``: forever).

    The token still verifies for ``JWT_DECODE_LEEWAY`` seconds after its
    ``exp``; a record that expired at ``exp`` would let a revoked token, or a
    used refresh token, back in for that long. Past the end of year 9999,
    forever (:func:`~.base.clamp_expiry`: what every store writes).
    """
    if "exp" not in claims:
        return None  # a token that never expires is revoked for good
    exp = _numeric(claims.get("exp"))
    return None if exp is None else clamp_expiry(exp + leeway + CLOCK_MARGIN)


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
    return clamp_expiry(max(own, time.time() + longest + leeway + CLOCK_MARGIN))


# -- Reuse grace ---------------------------------------------------------------


def is_reuse(used_at: str | None, grace: float) -> bool:
    """Whether a refresh token first used at ``used_at`` (ms) is being reused now.

    With a grace of 0 any second use is reuse, even in the same millisecond:
    exactly one of several concurrent rotations wins. A positive grace lets
    a client's own concurrent refreshes (two tabs) through for that long.
    """
    if used_at is None:
        return False
    return grace <= 0 or now_millis() - int(used_at) > grace * 1000


# -- Verdicts ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RevocationPolicy:
    """The settings the verdicts depend on (built from ``JWT_*`` by the Flask layer)."""

    #: The claim holding the identity (``JWT_IDENTITY_CLAIM``).
    identity_claim: str = "sub"
    #: Whether refresh tokens are single-use (``JWT_REFRESH_TOKEN_ROTATION``).
    rotation: bool = False
    #: Seconds a used refresh token may come back (``JWT_REFRESH_REUSE_GRACE``).
    reuse_grace: float = 0.0
    #: The configured access and refresh lifetimes (``None``: never expire);
    #: they size a family revoked for reuse (:func:`family_expiry`).
    lifetimes: tuple[timedelta | None, ...] = ()
    #: ``JWT_DECODE_LEEWAY``, in seconds.
    leeway: float = 0.0


class Outcome(enum.Enum):
    """What the store says about a token."""

    #: Nothing revokes it.
    OK = "ok"
    #: A record revokes it: its ``jti``, its identity's watermark, or its family.
    REVOKED = "revoked"
    #: It is a refresh token used before (past the grace window): its family
    #: must now be revoked (:func:`revoke_family_record`) and the token refused.
    REUSED = "reused"


class Verdict(NamedTuple):
    """An :class:`Outcome`, with what a ``REUSED`` verdict asks to revoke."""

    outcome: Outcome
    #: ``REUSED``: the family to revoke (:func:`family_of` the token).
    family: Any = None
    #: ``REUSED``: until when (:func:`family_expiry`; ``None``: forever).
    expires_at: float | None = None


OK: Final = Verdict(Outcome.OK)
REVOKED: Final = Verdict(Outcome.REVOKED)


def _reuse_verdict(
    claims: Mapping[str, Any], used_at: str | None, policy: RevocationPolicy
) -> Verdict:
    """``REUSED`` if a refresh token first used at ``used_at`` is being reused, else ``OK``."""
    if not is_reuse(used_at, policy.reuse_grace):
        return OK
    expires_at = family_expiry(claims, policy.lifetimes, policy.leeway)
    return Verdict(Outcome.REUSED, family_of(claims), expires_at)


#: ``check`` reads two watermarks first: the token's issuer's and :data:`ANY_ISSUER`'s.
_WATERMARKS: Final = 2


def check(store: RevocationStore, claims: Mapping[str, Any], policy: RevocationPolicy) -> Verdict:
    """What the store says about a presented token, in one ``get_many``.

    ``REVOKED`` when its ``jti`` or its family is revoked, or when its
    identity was logged out everywhere (by its issuer, or by any:
    :data:`ANY_ISSUER`) at or after the moment it was issued (or it carries
    no issue time at all). With rotation on, a refresh token already used is
    ``REUSED`` once the grace window has passed (within it, ``OK``: a
    client's own concurrent refresh). Nothing is written.
    """
    jti = claims.get("jti")
    family = claims.get("fam")
    issuer = claims.get("iss")
    identity = claims.get(policy.identity_claim)
    keys = [record_key("sub", issuer, identity), record_key("sub", ANY_ISSUER, identity)]
    if jti is not None:
        keys.append(record_key("jti", issuer, jti))
    if family is not None:
        keys.append(record_key("fam", issuer, family))
    watch_reuse = policy.rotation and claims.get("type") == "refresh" and jti is not None
    if watch_reuse:
        keys.append(record_key("used", issuer, jti))
    values = store.get_many(keys)
    for watermark in values[:_WATERMARKS]:
        if watermark is not None:
            issued = issued_millis(claims)
            if issued is None or issued <= int(watermark):
                return REVOKED
    if any(value is not None for value in values[_WATERMARKS : -1 if watch_reuse else None]):
        return REVOKED
    return _reuse_verdict(claims, values[-1] if watch_reuse else None, policy)


def use_refresh_token(
    store: RevocationStore, claims: Mapping[str, Any], policy: RevocationPolicy
) -> Verdict:
    """Mark a refresh token used (atomically: first writer wins); ``REUSED`` if it was.

    ``OK`` for the first use, and for a later one within the grace window;
    after it (or at once, with a grace of 0) ``REUSED``. The token must carry
    a ``jti``.
    """
    first_use = store.put_if_absent(*mark_used_record(claims, policy.leeway, now_millis()))
    return _reuse_verdict(claims, first_use, policy)


# -- What to write -------------------------------------------------------------


class Record(NamedTuple):
    """One store entry to write: ``store.put(*record)``."""

    key: str
    value: str
    #: A Unix time; ``None``: never expires.
    expires_at: float | None


def revoke_token_record(claims: Mapping[str, Any], leeway: float) -> Record:
    """Revokes one token (which must carry a ``jti``) for as long as it can verify."""
    key = record_key("jti", claims.get("iss"), claims["jti"])
    return Record(key, "1", token_expiry(claims, leeway))


def revoke_all_record(issuer: Any, identity: Any, watermark: int) -> Record:
    """Revokes every token ``issuer`` issued to ``identity`` up to ``watermark`` (ms).

    ``identity`` is the identity claim's value as tokens carry it. The record
    never expires (see the module docstring).
    """
    return Record(record_key("sub", issuer, identity), str(watermark), None)


def mark_used_record(claims: Mapping[str, Any], leeway: float, used_at: int) -> Record:
    """Marks a refresh token (which must carry a ``jti``) used at ``used_at`` (ms).

    Write it with ``put_if_absent``. The marker outlives the token's last
    moment of validity, or the token could be reused unnoticed once it is gone.
    """
    key = record_key("used", claims.get("iss"), claims["jti"])
    return Record(key, str(used_at), token_expiry(claims, leeway))


def revoke_family_record(claims: Mapping[str, Any], expires_at: float | None) -> Record:
    """Revokes the family of a reused refresh token until ``expires_at``."""
    return Record(record_key("fam", claims.get("iss"), family_of(claims)), "1", expires_at)
