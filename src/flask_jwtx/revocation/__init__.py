"""Revocation: revoke one token, log an identity out everywhere, rotate refresh tokens.

Stores (:mod:`.memory`, :mod:`.redis`, :mod:`.sql`) hold four kinds of entries:

* ``jti:<jti>``: that token is revoked (expires with the token);
* ``sub:<identity>``: every token of that identity issued before this time
  (ms) is revoked ("log out everywhere");
* ``fam:<family>``: a refresh-token family is revoked (reuse was detected);
* ``used:<jti>``: a refresh token was used for rotation, and when (ms).

A protected request reads the entries that apply to its token in one
``get_many`` call.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

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
    "identity_key",
]

logger = logging.getLogger("flask_jwtx.revocation")


class RefreshTokenReusedError(RevokedTokenError):
    """A refresh token was presented again after it was used: its family is revoked (401)."""


def identity_key(identity: Any) -> str:
    """How an identity is written in store keys, the same for ``42`` and ``"42"``."""
    return identity if isinstance(identity, str) else str(identity)


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
) -> None:
    """Raise :class:`RevokedTokenError` if the store revokes this token. One round trip."""
    jti = claims.get("jti")
    family = claims.get("fam")
    keys = [f"sub:{identity_key(claims.get(identity_claim))}"]
    if isinstance(jti, str):
        keys.append(f"jti:{jti}")
    if isinstance(family, str):
        keys.append(f"fam:{family}")
    watch_reuse = rotation and claims.get("type") == "refresh" and isinstance(jti, str)
    if watch_reuse:
        keys.append(f"used:{jti}")
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
    if used_at is not None and now_millis() - int(used_at) > reuse_grace * 1000:
        _revoke_family(store, claims, header)


def _revoke_family(store: RevocationStore, claims: Claims, header: Mapping[str, Any]) -> None:
    family = claims.get("fam") or claims.get("jti")
    store.put(f"fam:{family}", "1", _expiry(claims))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logger.warning("Refresh token reuse detected; family %s revoked", family)
    signals.refresh_token_reuse_detected.send(app, claims=claims, family=family)
    signals.token_revoked.send(app, reason="family", family=family)
    raise RefreshTokenReusedError(dict(header), claims)


def _expiry(claims: Mapping[str, Any]) -> float | None:
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def new_family() -> str:
    return str(uuid.uuid4())


def require_store(store: RevocationStore | None) -> RevocationStore:
    if store is None:
        raise ConfigurationError(
            "No revocation store: set JWT_REVOCATION_STORE (memory://, redis://..., "
            "sqlite:///..., postgresql://...)"
        )
    return store
