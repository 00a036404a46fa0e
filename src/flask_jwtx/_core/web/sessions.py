"""Sessions users can see and end: ``create_token_pair``, ``list_sessions``, ``revoke_session``.

A login is one session. :func:`create_token_pair` mints its access and
refresh token with one new ``fam`` claim (the session id) and registers the
session; ``rotate_refresh_token`` carries the claim to every later pair.
Ending a session (the user, an administrator, reuse detection, the
``JWT_SESSION_LIMIT`` cap) writes the family record every protected request
already checks, so all of the session's tokens are refused, the login's
access token included, at no extra cost per request. The registry itself
(:mod:`.revocation.registry`) is only read here, never by ``jwt_required``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import has_request_context, request

from ... import signals
from ..config.settings import Settings
from ..revocation.base import RevocationStore
from ..revocation.policy import new_family
from ..revocation.registry import (
    Session,
    SessionContentionError,
    end_sessions,
    last_expiry,
    live_sessions,
    locate_session,
    open_session,
    session_is_live,
    session_issuers,
    session_until,
)
from .context import get_jwt
from .creation import (
    ExpiresDelta,
    Fresh,
    identity_claim_value,
    identity_or_sub,
    issue,
    require_family,
)
from .revocation_checks import require_store
from .state import get_state

#: ``revoke_session``'s default: any identity's session (an administrator's call).
_ANYONE: Any = object()

#: "Not given": ``identity`` and ``sub=`` are each optional, one of them needed.
_UNSET: Any = object()

#: How much of a user agent a session keeps (a header can be kilobytes).
_MAX_USER_AGENT = 256
#: How many sessions one login opens before giving up, when concurrent logins
#: at ``JWT_SESSION_LIMIT`` keep ending the one it just opened.
_LOGIN_ATTEMPTS = 5


def create_token_pair(
    identity: Any,
    *,
    fresh: Fresh = False,
    access_expires_delta: ExpiresDelta = None,
    refresh_expires_delta: ExpiresDelta = None,
    additional_claims: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Log ``identity`` in: ``(access_token, refresh_token)`` of one new session.

    Both tokens carry the session id as their ``fam`` claim, and so does every
    pair ``rotate_refresh_token`` later mints from the refresh token: ending
    the session refuses all of them. Needs ``JWT_REVOCATION_STORE``.

    ``metadata`` (JSON values) is kept with the session as given; with
    ``JWT_SESSION_METADATA = True`` the request's user agent and IP address
    are added. If the identity now has more than ``JWT_SESSION_LIMIT`` live
    sessions, the oldest are ended. The tokens returned belong to a session
    that was live once the oldest were ended: when concurrent logins at the
    cap end the new session first, the login opens another (a few times at
    most; then ``flask_jwtx.exceptions.SessionContentionError``, a 503).
    """
    if additional_claims and "fam" in additional_claims:
        raise ValueError("create_token_pair() sets fam itself: it is the new session's id")
    state = get_state()
    settings = state.settings.get()
    store = _registry_store(settings)
    app = signals.sender()
    for _ in range(_LOGIN_ATTEMPTS):
        session_id = new_family()  # the family id is the session id
        extra = {**(additional_claims or {}), "fam": session_id}
        access = issue("access", identity, fresh, access_expires_delta, extra, additional_headers)
        refresh = issue(
            "refresh", identity, False, refresh_expires_delta, extra, additional_headers
        )
        require_family(session_id, access, refresh)
        issued = (access.claims, refresh.claims)
        expires = last_expiry(issued)
        session = Session(
            id=session_id,
            created=time.time(),
            refreshed=None,
            expires=expires,
            until=session_until(expires, settings.policy.leeway),
            metadata=_metadata(settings, metadata),
        )
        # Registered under the issuer the tokens carry (a claims loader may set it).
        issuer = issued[0].get("iss")
        claimed = issued[0].get(settings.identity_claim)
        beyond = open_session(
            store,
            issuer,
            claimed,
            session,
            settings.session_limit,
            app_issuer=settings.encode_issuer,
        )
        signals.session_created.send(app, session=session, identity=claimed)
        if beyond:
            _end(settings, store, issuer, claimed, beyond, "limit")
        # Checked after the others were ended: the cap may have ended this very
        # session (a concurrent login registered a newer one first), and its
        # tokens must not leave already refused. Another try opens a newer one.
        if all(s.id != session_id for s in beyond) and session_is_live(
            store, issuer, claimed, session_id
        ):
            return access.encoded, refresh.encoded
    raise SessionContentionError(
        f"{_LOGIN_ATTEMPTS} sessions opened for this login were each ended at once by "
        "concurrent logins of the same identity at JWT_SESSION_LIMIT; try again"
    )


def list_sessions(identity: Any = _UNSET, *, sub: Any = _UNSET) -> list[Session]:
    """The live sessions of ``identity`` (as passed to ``create_token_pair``), oldest first.

    ``identity`` is what ``create_token_pair`` was given (a user object, if
    the app's ``user_identity_loader`` takes one); ``sub=`` is the identity
    claim as the tokens carry it (``list_sessions(sub=get_jwt_identity())``
    in a protected view), with no loader run. Pass one of the two.

    Each has ``id``, ``created``, ``refreshed``, ``expires`` (Unix seconds;
    ``None`` when never refreshed / never expiring) and ``metadata``;
    ``session.as_dict()`` is its JSON. Sessions are found whatever ``iss``
    their tokens carry (``JWT_ENCODE_ISSUER``, or one a claims loader wrote).
    """
    settings = get_state().settings.get()
    store = _registry_store(settings)
    claimed = _claimed(settings, identity, sub, "list_sessions")
    found = [
        session
        for issuer in session_issuers(store, settings.encode_issuer, claimed)
        for session in live_sessions(store, issuer, claimed)
    ]
    return sorted(found, key=lambda s: (s.created, s.id))


def revoke_session(session_id: str, *, identity: Any = _ANYONE, sub: Any = _UNSET) -> bool:
    """End one session: every token of it is refused from now on, on every instance.

    With ``identity=`` (what ``create_token_pair`` was given) or ``sub=``
    (the identity claim as tokens carry it), only a session of that identity
    is ended (what an end-user endpoint must pass: its own user); without
    either, any (an administrator's call). Returns whether a live session was ended; an
    unknown id, or another identity's session, returns ``False`` and changes
    nothing. Like :func:`list_sessions`, it finds sessions whatever ``iss``
    their tokens carry.
    """
    settings = get_state().settings.get()
    store = _registry_store(settings)
    session_id = str(session_id)
    if identity is _ANYONE and sub is _UNSET:
        found, issuer, owner = locate_session(store, settings.encode_issuer, session_id)
        return found and end_session_of(issuer, owner, session_id, "revoked")
    owner = _claimed(settings, _UNSET if identity is _ANYONE else identity, sub, "revoke_session")
    return any(
        end_session_of(issuer, owner, session_id, "revoked")
        for issuer in session_issuers(store, settings.encode_issuer, owner)
    )


def current_session_id() -> str | None:
    """In a protected view: the session the current token belongs to (``None``: none)."""
    family = get_jwt().get("fam")
    return family if isinstance(family, str) else None


# -- For the auth blueprint: the current token's own identity and issuer ----------


def sessions_of(issuer: Any, claimed: Any) -> list[Session]:
    """The live sessions of an identity claim value from ``issuer``."""
    settings = get_state().settings.get()
    return live_sessions(_registry_store(settings), issuer, claimed)


def end_session_of(issuer: Any, claimed: Any, session_id: str, reason: str) -> bool:
    """End ``session_id`` if it is a live session of ``claimed``; whether it was."""
    settings = get_state().settings.get()
    store = _registry_store(settings)
    live = live_sessions(store, issuer, claimed)
    chosen = [s for s in live if s.id == session_id]
    if not chosen:
        return False
    _end(settings, store, issuer, claimed, chosen, reason)
    return True


def end_all_registered(
    claimed: Any, issuers: tuple[Any, ...] | None, reason: str, *, opened_by: int
) -> int:
    """End the live sessions of ``claimed`` under ``issuers`` opened by ``opened_by`` (ms).

    For ``revoke_all``, which refuses the identity's tokens issued up to its
    watermark (``opened_by``) and calls this so that the sessions it logged
    out also leave :func:`list_sessions`. A login that registers its session
    after the watermark, racing the call, minted tokens the watermark does
    not cover, and its session is left alone too. ``issuers=None``: under
    every issuer the identity has sessions with (the app's own, and any a
    claims loader wrote into its tokens). A store that keeps no session
    registry has none to end. Returns how many were ended.
    """
    settings = get_state().settings.get()
    store = require_store(settings.revocation_store)
    if not _keeps_registry(store):
        return 0
    if issuers is None:
        issuers = tuple(session_issuers(store, settings.encode_issuer, claimed))
    ended = 0
    for issuer in issuers:
        covered = [
            session
            for session in live_sessions(store, issuer, claimed)
            if int(session.created * 1000) <= opened_by
        ]
        _end(settings, store, issuer, claimed, covered, reason)
        ended += len(covered)
    return ended


def end_all_of(issuer: Any, claimed: Any, reason: str) -> list[Session]:
    """End every live session of ``claimed``; the sessions ended."""
    settings = get_state().settings.get()
    store = _registry_store(settings)
    live = live_sessions(store, issuer, claimed)
    _end(settings, store, issuer, claimed, live, reason)
    return live


# -- Helpers -----------------------------------------------------------------------


def _end(
    settings: Settings,
    store: RevocationStore,
    issuer: Any,
    claimed: Any,
    sessions: list[Session],
    reason: str,
) -> None:
    lifetimes = (settings.access_expires, settings.refresh_expires)
    end_sessions(
        store,
        issuer,
        claimed,
        sessions,
        lifetimes,
        settings.policy.leeway,
        app_issuer=settings.encode_issuer,
    )
    app = signals.sender()
    for session in sessions:
        signals.session_ended.send(app, session_id=session.id, identity=claimed, reason=reason)


def _keeps_registry(store: RevocationStore) -> bool:
    """Whether ``store`` implements the session registry (a custom store may not)."""
    return type(store).registry_get is not RevocationStore.registry_get


def _registry_store(settings: Settings) -> RevocationStore:
    store = require_store(settings.revocation_store)
    if not _keeps_registry(store):
        raise NotImplementedError(
            f"{type(store).__name__} keeps no session registry: implement registry_put, "
            "registry_get and registry_delete, or use memory://, redis:// or an SQL store"
        )
    return store


def _claimed(settings: Settings, identity: Any, sub: Any, caller: str) -> Any:
    """The identity claim ``create_token_pair`` wrote for ``identity``, or ``sub`` as given."""
    value = identity_or_sub(identity, sub, caller, _UNSET)
    return identity_claim_value(settings, value)[0]


def _metadata(settings: Settings, given: Mapping[str, Any] | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if settings.session_metadata and has_request_context():
        found["user_agent"] = (request.user_agent.string or "")[:_MAX_USER_AGENT]
        found["ip"] = request.remote_addr
    found.update(given or {})
    return found
