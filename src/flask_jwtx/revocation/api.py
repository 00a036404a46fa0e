"""The public revocation functions: ``revoke_token``, ``revoke_all``, ``rotate_refresh_token``.

The Flask layer over :mod:`.policy`: each reads the app's settings and the
current token, writes the records the policy computes, and sends the signals.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

from .. import signals
from ..context import get_jwt, get_jwt_header, get_jwt_identity
from ..creation import create_access_token, create_refresh_token, identity_claim_value
from ..decoding import decode_token
from ..exceptions import IdentityError, JWTDecodeError
from ..resolvers import TrustedIssuers
from ..state import get_state
from .flask import enforce, policy_of, require_store
from .policy import (
    family_of,
    now_millis,
    revoke_all_record,
    revoke_token_record,
    use_refresh_token,
)

#: ``revoke_all``'s default issuer: this app's own (``JWT_ENCODE_ISSUER``).
_OWN_ISSUER: Any = object()


def revoke_token(token: str | Mapping[str, Any]) -> None:
    """Revoke one token, given encoded (it must verify, expired or not) or as its claims.

    The revocation lasts until the token can no longer verify (its ``exp``
    plus ``JWT_DECODE_LEEWAY``; forever for a token without ``exp``). Every
    app instance sharing the store refuses it from now on.
    """
    claims = decode_token(token, allow_expired=True) if isinstance(token, str) else dict(token)
    if claims.get("jti") is None:
        raise JWTDecodeError("Missing claim: jti (a token without one cannot be revoked alone)")
    settings = get_state().settings.get()
    store = require_store(settings.revocation_store)
    store.put(*revoke_token_record(claims, settings.policy.leeway))
    signals.token_revoked.send(signals.sender(), reason="token", claims=claims)


def revoke_all(identity: Any, *, issuer: Any = _OWN_ISSUER) -> None:
    """Log ``identity`` out everywhere: every token issued to it before now is refused.

    Tokens created after the call work. ``identity`` becomes the identity
    claim exactly as ``create_access_token`` writes it (through the
    ``user_identity_loader`` and the app's JSON provider); an ``int`` id is
    also accepted where tokens carry it as a string (``str(user.id)``).
    ``issuer`` is whose tokens: by default this app's (``JWT_ENCODE_ISSUER``);
    with ``JWT_TRUSTED_ISSUERS``, name the identity provider.

    The watermark never expires: it covers tokens of every lifetime, and a
    token's lifetime is not bounded by the configured ones (``expires_delta``
    may be longer, or ``False``). It is one entry per identity, replaced by
    the identity's next ``revoke_all``.
    """
    state = get_state()
    settings = state.settings.get()
    store = require_store(settings.revocation_store)
    value = state.callbacks.user_identity(identity)
    try:
        claimed = identity_claim_value(settings, value)[0]
    except IdentityError:
        if not isinstance(value, int) or isinstance(value, bool):
            raise
        claimed = str(value)  # the only form a valid token for this id can carry
    if issuer is _OWN_ISSUER:
        if isinstance(settings.resolver, TrustedIssuers) and settings.encode_issuer is None:
            # Tokens here come from identity providers: which one's user is
            # meant? Guessing would log out nobody, silently.
            raise TypeError(
                "revoke_all() needs issuer=... with JWT_TRUSTED_ISSUERS: name the identity "
                "provider whose user to log out (for the current token: get_jwt()['iss'])"
            )
        issuer = settings.encode_issuer
    watermark = now_millis()
    store.put(*revoke_all_record(issuer, claimed, watermark))
    _wait_past(watermark)
    signals.token_revoked.send(signals.sender(), reason="all", identity=value)


#: At most this many short sleeps for the clock to leave the watermark's
#: millisecond: each sleeps at least 0.5 ms of real time, so a running clock
#: has long moved on; one that has not is frozen (freezegun, time-machine).
_MAX_WAITS: Final = 40


def _wait_past(watermark: int) -> None:
    """Return once the clock reads later than ``watermark`` (ms), or it is frozen.

    Tokens issued in the watermark's millisecond count as revoked; waiting
    for the next one makes every token created after ``revoke_all`` returns
    valid. A test's frozen clock never moves by itself, so the wait is
    bounded (sleeps are real time, whatever the clock says): there, tokens
    minted at the same frozen instant stay revoked (fail closed) until the
    test moves the clock on.
    """
    for _ in range(_MAX_WAITS):
        if now_millis() > watermark:
            return
        time.sleep(0.0005)


#: Claims ``rotate_refresh_token`` decides; ``additional_claims`` may not set them.
_ROTATION_RESERVED = frozenset({"sub", "jti", "type", "exp", "iat", "nbf", "fam", "fresh"})


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
    reserved = _ROTATION_RESERVED & set(additional_claims or ())
    if reserved:
        raise ValueError(
            f"rotate_refresh_token() sets {', '.join(sorted(reserved))} itself: the new "
            "tokens' identity, type, lifetime and family follow from the rotated one"
        )
    settings = get_state().settings.get()
    store = require_store(settings.revocation_store)
    if claims["jti"] is None:  # a foreign refresh token: nothing to mark it used by
        raise JWTDecodeError("Missing claim: jti (a refresh token without one cannot rotate)")
    enforce(use_refresh_token(store, claims, policy_of(settings)), store, get_jwt_header(), claims)
    extra = {**(additional_claims or {}), "fam": family_of(claims)}
    identity = get_jwt_identity()
    return (
        create_access_token(identity, fresh=fresh, additional_claims=extra),
        create_refresh_token(identity, additional_claims=extra),
    )
