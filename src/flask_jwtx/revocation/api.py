"""The public revocation functions: ``revoke_token``, ``revoke_all``, ``rotate_refresh_token``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import current_app

from .. import signals
from ..context import get_jwt, get_jwt_header, get_jwt_identity
from ..creation import create_access_token, create_refresh_token
from ..decoding import decode_token
from ..exceptions import JWTDecodeError
from ..extension import get_state
from . import (
    family_expiry,
    identity_key,
    is_reuse,
    now_millis,
    require_store,
    reuse_detected,
    token_expiry,
)


def revoke_token(token: str | Mapping[str, Any]) -> None:
    """Revoke one token, given encoded (it must verify, expired or not) or as its claims.

    The revocation lasts until the token can no longer verify (its ``exp``
    plus ``JWT_DECODE_LEEWAY``; forever for a token without ``exp``). Every
    app instance sharing the store refuses it from now on.
    """
    claims = decode_token(token, allow_expired=True) if isinstance(token, str) else dict(token)
    jti = claims.get("jti")
    if not isinstance(jti, str):
        raise JWTDecodeError("Missing claim: jti (a token without one cannot be revoked alone)")
    settings = get_state().settings.get()
    store = require_store(settings.revocation_store)
    store.put(f"jti:{jti}", "1", token_expiry(claims, settings.policy.leeway))
    signals.token_revoked.send(current_app._get_current_object(), reason="token", claims=claims)  # type: ignore[attr-defined]


def revoke_all(identity: Any) -> None:
    """Log ``identity`` out everywhere: every token issued to it before now is refused.

    Tokens created after the call work. ``identity`` goes through the
    ``user_identity_loader`` as it does for ``create_access_token``.

    The watermark never expires: it covers tokens of every lifetime, and a
    token's lifetime is not bounded by the configured ones (``expires_delta``
    may be longer, or ``False``). It is one entry per identity, replaced by
    the identity's next ``revoke_all``.
    """
    state = get_state()
    store = require_store(state.settings.get().revocation_store)
    value = state.manager._user_identity_callback(identity)
    watermark = now_millis()
    store.put(f"sub:{identity_key(value)}", str(watermark), None)
    # Tokens issued in the watermark's millisecond count as revoked; wait for
    # the next one, so every token created after this call returns is valid.
    while now_millis() <= watermark:
        time.sleep(0.0005)
    signals.token_revoked.send(current_app._get_current_object(), reason="all", identity=value)  # type: ignore[attr-defined]


def rotate_refresh_token(
    *,
    fresh: bool = False,
    additional_claims: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """In a ``@jwt_required(refresh=True)`` view: use up this refresh token.

    Returns a new ``(access_token, refresh_token)`` pair in the same family.
    The presented refresh token is marked used, atomically across instances;
    presenting it again later than ``JWT_REFRESH_REUSE_GRACE`` seconds revokes
    the whole family (OAuth 2.0 Security BCP, refresh token rotation).
    """
    claims = get_jwt()
    if claims.get("type") != "refresh":
        raise RuntimeError(
            "rotate_refresh_token() belongs in a view protected by @jwt_required(refresh=True)"
        )
    settings = get_state().settings.get()
    store = require_store(settings.revocation_store)
    jti = claims["jti"]
    family = claims.get("fam") or jti
    leeway = settings.policy.leeway
    # The marker must outlive the token's last moment of validity, or the
    # token could be reused unnoticed once the marker is gone.
    first_use = store.put_if_absent(f"used:{jti}", str(now_millis()), token_expiry(claims, leeway))
    if is_reuse(first_use, settings.reuse_grace):
        lifetimes = (settings.access_expires, settings.refresh_expires)
        expires_at = family_expiry(claims, lifetimes, leeway)
        raise reuse_detected(store, claims, get_jwt_header(), expires_at)
    extra = {**(additional_claims or {}), "fam": family}
    identity = get_jwt_identity()
    return (
        create_access_token(identity, fresh=fresh, additional_claims=extra),
        create_refresh_token(identity, additional_claims=extra),
    )
