"""The public revocation functions: ``revoke_token``, ``revoke_all``, ``rotate_refresh_token``.

The Flask layer over :mod:`.policy`: each reads the app's settings and the
current token, writes the records the policy computes, and sends the signals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ... import signals
from ...exceptions import IdentityError, JWTDecodeError, RevokedTokenError
from ..keysources.resolvers import TrustedIssuers
from ..revocation.base import RevocationStore, StoreUnavailableError
from .context import IDENTITY_TYPE_CLAIM, get_current_user, get_jwt, get_jwt_header
from .creation import identity_or_sub, issue, require_family, verifiable_identity
from .decoding import decode_token
from .state import get_state

if TYPE_CHECKING:
    from ..config.settings import Settings
    from .callbacks import Callbacks
from ..revocation.policy import (
    ANY_ISSUER,
    check,
    family_of,
    now_millis,
    revoke_all_record,
    revoke_token_record,
    use_refresh_token,
)
from ..revocation.registry import last_expiry, touch_session
from .revocation_checks import enforce, policy_of, require_store
from .sessions import end_all_registered

logger = logging.getLogger("flask_jwtx.revocation")

#: ``revoke_all``'s default issuer: this app's own (``JWT_ENCODE_ISSUER``).
_OWN_ISSUER: Any = object()
#: ``revoke_all``'s "not given", for ``identity`` and ``sub=``.
_UNSET: Any = object()


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


def revoke_all(identity: Any = _UNSET, *, sub: Any = _UNSET, issuer: Any = _OWN_ISSUER) -> None:
    """Log ``identity`` out everywhere: every token issued to it before now is refused.

    Tokens created after the call work. ``identity`` becomes the identity
    claim exactly as ``create_access_token`` writes it (through the
    ``user_identity_loader`` and the app's JSON provider); ``sub=`` instead
    is the claim as tokens carry it (``revoke_all(sub=get_jwt_identity())``
    in a view; no loader runs). Pass one of the two. An ``int`` id is
    also accepted where tokens carry it as a string (``str(user.id)``).
    ``issuer`` is whose tokens. By default, the app's own tokens whatever
    ``iss`` they carry: ``JWT_ENCODE_ISSUER``, or one an
    ``additional_claims_loader`` wrote (per user, per tenant, per request),
    which this call cannot know; so the watermark is written once for the
    configured issuer and once for any issuer (``policy.ANY_ISSUER``),
    and a protected request reads both in its one round trip. With
    ``JWT_TRUSTED_ISSUERS`` identities belong to their issuer: name the
    identity provider (``issuer=`` is then required unless the app has
    ``JWT_ENCODE_ISSUER``, whose tokens alone the default then covers). An
    explicit ``issuer=`` covers that issuer's tokens only.

    The watermark never expires: it covers tokens of every lifetime, and a
    token's lifetime is not bounded by the configured ones (``expires_delta``
    may be longer, or ``False``). It is one entry per identity and issuer
    (two by default), replaced by the identity's next ``revoke_all``.

    The identity's sessions (``create_token_pair``) opened before the call,
    under the issuers it covers, are ended too (``session_ended`` with reason
    ``"everywhere"``), so ``list_sessions`` no longer shows the logins whose
    tokens it refuses. That happens after the watermark is written: should
    the store fail in between, the tokens are refused all the same, and the
    error says the call did not finish. A store without a session registry
    (a custom one) has only the watermark.
    """
    state = get_state()
    settings = state.settings.get()
    store = require_store(settings.revocation_store)
    value = identity_or_sub(identity, sub, "revoke_all", _UNSET)
    try:
        claimed = verifiable_identity(settings, value)[0]
    except IdentityError:
        if not isinstance(value, int) or isinstance(value, bool):
            raise
        claimed = str(value)  # the only form a valid token for this id can carry
    trusted = isinstance(settings.resolver, TrustedIssuers)
    if issuer is _OWN_ISSUER and trusted and settings.encode_issuer is None:
        # Tokens here come from identity providers: which one's user is
        # meant? Guessing would log out nobody, silently.
        raise TypeError(
            "revoke_all() needs issuer=... with JWT_TRUSTED_ISSUERS: name the identity "
            "provider whose user to log out (for the current token: get_jwt()['iss'])"
        )
    issuers = watermark_issuers(settings, issuer)
    forms = [claimed]
    if isinstance(value, int) and not isinstance(value, bool) and claimed != str(value):
        # An int id whose tokens may carry it either way (JWT_VERIFY_SUB off,
        # or a custom JWT_IDENTITY_CLAIM): str(user.id) is the common form.
        forms.append(str(value))
    watermark = now_millis()
    for form in forms:
        for name in issuers:
            store.put(*revoke_all_record(name, form, watermark))
    # The sessions under the same issuers: every one for "any issuer".
    scope = None if ANY_ISSUER in issuers else issuers
    for form in forms:
        end_all_registered(form, scope, "everywhere", opened_by=watermark)
    _wait_past(watermark)
    signals.token_revoked.send(signals.sender(), reason="all", identity=value)


def watermark_issuers(settings: Settings, issuer: Any = _OWN_ISSUER) -> tuple[Any, ...]:
    """Under which issuers ``revoke_all(identity, issuer=issuer)`` writes its watermark.

    An explicit issuer: that one. The default: ``JWT_ENCODE_ISSUER`` and
    :data:`~.policy.ANY_ISSUER`, since the app's tokens may carry an ``iss``
    from a claims loader; with ``JWT_TRUSTED_ISSUERS`` identities are each
    issuer's own, so the default is ``JWT_ENCODE_ISSUER`` alone (another
    provider's user of the same name must not be logged out).
    """
    if issuer is not _OWN_ISSUER:
        return (issuer,)
    if isinstance(settings.resolver, TrustedIssuers):
        return (settings.encode_issuer,)
    return (settings.encode_issuer, ANY_ISSUER)


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


def revoke_all_claimed(claimed: Any, issuer: Any) -> None:
    """``revoke_all`` for an identity as a token carries it (its identity claim).

    For code holding a token rather than a user object (the auth
    blueprint's logout everywhere): no identity loader runs, since it is
    written for the app's user objects, not for the claim.
    """
    store = require_store(get_state().settings.get().revocation_store)
    watermark = now_millis()
    store.put(*revoke_all_record(issuer, claimed, watermark))
    _wait_past(watermark)
    signals.token_revoked.send(signals.sender(), reason="all", identity=claimed)


#: Claims ``rotate_refresh_token`` decides; ``additional_claims`` may not set them.
_ROTATION_RESERVED = frozenset(
    {"sub", "jti", "type", "exp", "iat", "nbf", "fam", "fresh", "cnf", IDENTITY_TYPE_CLAIM}
)


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
    state = get_state()
    settings = state.settings.get()
    store = require_store(settings.revocation_store)
    if claims["jti"] is None:  # a foreign refresh token: nothing to mark it used by
        raise JWTDecodeError("Missing claim: jti (a refresh token without one cannot rotate)")
    policy = policy_of(settings)
    # The whole check first, whatever the route skipped: a refresh token that is
    # revoked, logged out everywhere or of an ended family must not mint new tokens.
    header = get_jwt_header()
    enforce(check(store, claims, policy), store, header, claims)
    if state.callbacks.token_in_blocklist(header, claims):  # the app's own list, too
        raise RevokedTokenError(header, claims)
    enforce(use_refresh_token(store, claims, policy), store, header, claims)
    extra = {**(additional_claims or {}), "fam": family_of(claims)}
    if "cnf" in claims:  # a DPoP-bound pair stays bound to the same key (RFC 9449)
        extra["cnf"] = claims["cnf"]
    identity = claims.get(settings.identity_claim)
    user = _login_object(state.callbacks, settings, identity)
    if user is not None:
        # The app's own user object, as at login: its identity and claims
        # loaders get what they were written for.
        subject, as_claim = user, False
    else:
        subject, as_claim = identity, True
        if claims.get(IDENTITY_TYPE_CLAIM) is not None:
            extra[IDENTITY_TYPE_CLAIM] = claims[IDENTITY_TYPE_CLAIM]
    access = issue("access", subject, fresh, None, extra, identity_is_claim=as_claim)
    refresh = issue("refresh", subject, False, None, extra, identity_is_claim=as_claim)
    require_family(extra["fam"], access, refresh)
    _touch_session(store, settings, claims, [access.claims, refresh.claims])
    return access.encoded, refresh.encoded


def _login_object(callbacks: Callbacks, settings: Settings, identity: Any) -> Any:
    """The loaded user, if it is what the app creates its tokens from; else ``None``.

    Apps following Flask-JWT-Extended's user-loading pattern create tokens from a
    ``User`` (``user_identity_loader(user) -> str(user.id)``) and load that
    ``User`` back (``user_lookup_loader``): rotation then hands the loaders
    the ``User`` again. Apps that create tokens from the identity itself and
    load a different object (a row, a dict) get the stored identity, with the
    identity loader not run on it.
    """
    if callbacks.user_lookup is None:
        return None
    user = get_current_user()
    try:
        mapped = verifiable_identity(settings, callbacks.user_identity(user))[0]
    except Exception:  # a loader not written for this object: not the pattern
        return None
    return user if mapped == identity and type(mapped) is type(identity) else None


def _touch_session(
    store: RevocationStore,
    settings: Settings,
    claims: Mapping[str, Any],
    issued: list[dict[str, Any]],
) -> None:
    """A registered session was refreshed: note when, and how long it now lasts.

    Best effort: the new tokens are minted and the old refresh token used
    up, so a registry that cannot be written must not lose them; the
    session then shows its old times and leaves the list when they end.
    """
    family = claims.get("fam")
    if not isinstance(family, str):
        return
    expires = last_expiry(issued)
    try:
        touch_session(
            store,
            claims.get("iss"),
            claims.get(settings.identity_claim),
            family,
            expires,
            settings.policy.leeway,
            app_issuer=settings.encode_issuer,
        )
    except (StoreUnavailableError, NotImplementedError) as exc:
        logger.warning("Session %s: refresh not recorded in the registry (%s)", family, exc)
