"""The session registry, Flask-free: which sessions an identity has, and ending them.

A session is what one login starts: ``create_token_pair`` gives its access
and refresh token the same ``fam`` claim, the session id, and every rotation
carries it on. Ending a session writes the existing ``fam`` record
(:func:`~.policy.record_key`), so the request path's check is unchanged: one
``get_many``, which never reads the registry. The registry is only read and
written by logging in, refreshing, listing and ending sessions.

Stored per (issuer, identity claim) under a :func:`registry_name`, one member
per session, each expiring with the session's last possible token; beside
it, an index entry per session id names the owner, so an administrator can
end a session by its id alone.

The issuer is the one the session's tokens carry, which need not be the
app's ``JWT_ENCODE_ISSUER``: an ``additional_claims_loader`` (or
``additional_claims``) may write ``iss``. Functions that start from an
identity rather than a token (``list_sessions``, ``revoke_session``) only
know the app's issuer, so a session minted under another one is also noted
under the app's: an :func:`issuers_name` member naming its issuer, and an
index entry naming owner *and* issuer (:func:`locate_session`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ...exceptions import SessionContentionError as SessionContentionError
from .base import RevocationStore, clamp_expiry
from .policy import CLOCK_MARGIN, Record, record_key
from .replica import Replica

logger = logging.getLogger("flask_jwtx.revocation")

#: ``app_issuer`` not given: the session's issuer is taken to be the app's.
_SAME: Any = object()
#: What :func:`_from_json` returns for a value we did not write.
_INVALID: Any = object()


@dataclass(frozen=True, slots=True)
class Session:
    """One login, as the registry keeps it. Times are Unix seconds."""

    #: The session id: the ``fam`` claim of all its tokens.
    id: str
    #: When the login happened.
    created: float
    #: When its refresh token was last rotated (``None``: never).
    refreshed: float | None
    #: When its longest-lived token so far expires (``None``: a token never does).
    expires: float | None
    #: Until when records about it must last: ``expires`` + leeway + margin.
    until: float | None
    #: Client metadata (``JWT_SESSION_METADATA``), e.g. ``user_agent``, ``ip``.
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "created": self.created,
                "refreshed": self.refreshed,
                "expires": self.expires,
                "until": self.until,
                "metadata": dict(self.metadata),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Session | None:
        """The session stored as ``text``; ``None`` for anything we did not write."""
        try:
            data = json.loads(text)
            return cls(
                id=str(data["id"]),
                created=float(data["created"]),
                refreshed=None if data["refreshed"] is None else float(data["refreshed"]),
                expires=None if data["expires"] is None else float(data["expires"]),
                until=None if data["until"] is None else float(data["until"]),
                metadata=dict(data.get("metadata") or {}),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def as_dict(self) -> dict[str, Any]:
        """The JSON an endpoint shows (``until`` is bookkeeping, left out)."""
        return {
            "id": self.id,
            "created": self.created,
            "refreshed": self.refreshed,
            "expires": self.expires,
            "metadata": dict(self.metadata),
        }


def registry_name(issuer: Any, identity: Any) -> str:
    """The registry of ``identity`` (as tokens carry it) from ``issuer``."""
    return record_key("ses", issuer, identity)


def index_key(issuer: Any, session_id: Any) -> str:
    """The one-member registry naming the owner of ``session_id`` (values may be long)."""
    return record_key("sid", issuer, session_id)


def issuers_name(app_issuer: Any, identity: Any) -> str:
    """The registry naming, per session of ``identity``, an issuer other than the app's."""
    return record_key("sis", app_issuer, identity)


def session_until(expires: float | None, leeway: float) -> float | None:
    """How long records about a session whose last token expires at ``expires`` must live."""
    return None if expires is None else clamp_expiry(expires + leeway + CLOCK_MARGIN)


def last_expiry(issued: Iterable[Mapping[str, Any]]) -> float | None:
    """When the last of some freshly minted tokens expires (``None``: one never does)."""
    expiries: list[float] = []
    for claims in issued:
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            return None
        expiries.append(float(exp))
    return max(expiries, default=None)


def latest(*expiries: float | None) -> float | None:
    """The latest of some expiry times, ``None`` (never) beating any number."""
    if any(at is None for at in expiries):
        return None
    return max(at for at in expiries if at is not None)


def ended_record(
    issuer: Any,
    session: Session | None,
    session_id: str,
    lifetimes: Iterable[timedelta | None],
    leeway: float,
) -> Record:
    """The ``fam`` record ending a session, for as long as any of its tokens can verify.

    Its tokens so far expire by ``session.until``; a rotation racing with the
    ending may still mint tokens of the configured lifetimes from now on, so
    the record also lasts the longest configured lifetime from now (plus
    leeway and margin). Any lifetime that never ends makes it permanent.
    """
    longest = 0.0
    forever = False
    for lifetime in lifetimes:
        if lifetime is None:
            forever = True
        else:
            longest = max(longest, lifetime.total_seconds())
    from_now = None if forever else time.time() + longest + leeway + CLOCK_MARGIN
    own = None if session is None else session.until
    expires_at = from_now if session is None else latest(own, from_now)
    return Record(record_key("fam", issuer, session_id), "1", clamp_expiry(expires_at))


def open_session(
    store: RevocationStore,
    issuer: Any,
    identity: Any,
    session: Session,
    limit: int,
    *,
    app_issuer: Any = _SAME,
) -> list[Session]:
    """Register a new session; return the oldest ones beyond ``limit``, to be ended.

    ``issuer`` is what the session's tokens carry; when it differs from
    ``app_issuer`` (the app's ``JWT_ENCODE_ISSUER``), the session is also
    noted under the app's issuer, for lookups that start from an identity.

    The oldest are picked by one order (creation time, then id), so
    concurrent logins at the cap that see the same sessions agree on which to
    end; the registry never stays above the cap. The list may hold
    ``session`` itself: a login that registered after a newer one did is the
    oldest. And a concurrent login may end it, too, having registered its own
    (newer) session after this one. So the caller must check
    :func:`session_is_live` once it has ended the others, before it hands out
    the new session's tokens.
    """
    registry = registry_name(issuer, identity)
    store.registry_put(
        index_key(issuer, session.id), "owner", _identity_json(identity), session.until
    )
    _note_issuer(store, issuer, app_issuer, identity, session.id, session.until)
    store.registry_put(registry, session.id, session.to_json(), session.until)
    live = parse(store.registry_get(registry))
    if len(live) <= limit:
        return []
    return sorted(live, key=lambda s: (s.created, s.id))[: len(live) - limit]


def session_is_live(store: RevocationStore, issuer: Any, identity: Any, session_id: str) -> bool:
    """Whether ``session_id`` is still registered and not ended (no ``fam`` record).

    Ending writes the record first and then drops the entry, so both are
    read: the entry from the registry, the record from the store itself
    (never a replica's copy, which may be up to its bound behind).
    """
    if session_id not in store.registry_get(registry_name(issuer, identity)):
        return False
    source = store.store if isinstance(store, Replica) else store
    return source.get_many([record_key("fam", issuer, session_id)]) == [None]


def touch_session(
    store: RevocationStore,
    issuer: Any,
    identity: Any,
    session_id: str,
    expires: float | None,
    leeway: float,
    *,
    app_issuer: Any = _SAME,
) -> None:
    """Note a rotation: refreshed now, and the session lasts until its new tokens expire.

    Only a registered session is touched: one ended meanwhile stays gone.
    """
    registry = registry_name(issuer, identity)
    found = store.registry_get(registry).get(session_id)
    session = None if found is None else Session.from_json(found)
    if session is None:
        return
    new_expires = latest(session.expires, expires)
    until = latest(session.until, session_until(expires, leeway))
    updated = Session(
        session.id, session.created, time.time(), new_expires, until, session.metadata
    )
    store.registry_put(index_key(issuer, session_id), "owner", _identity_json(identity), until)
    _note_issuer(store, issuer, app_issuer, identity, session_id, until)
    store.registry_put(registry, session_id, updated.to_json(), until)


def parse(members: Mapping[str, str]) -> list[Session]:
    """The sessions among a registry's members, oldest first."""
    sessions = [Session.from_json(value) for value in members.values()]
    return sorted((s for s in sessions if s is not None), key=lambda s: (s.created, s.id))


def live_sessions(store: RevocationStore, issuer: Any, identity: Any) -> list[Session]:
    """The identity's sessions not ended, oldest first.

    A session whose ``fam`` record exists is left out even if its registry
    entry survived (a rotation re-registering it as it was ended, or a
    registry write that failed after the record was written).
    """
    sessions = parse(store.registry_get(registry_name(issuer, identity)))
    if not sessions:
        return []
    ended = store.get_many([record_key("fam", issuer, s.id) for s in sessions])
    return [s for s, record in zip(sessions, ended, strict=True) if record is None]


def end_sessions(
    store: RevocationStore,
    issuer: Any,
    identity: Any,
    sessions: Iterable[Session],
    lifetimes: Iterable[timedelta | None],
    leeway: float,
    *,
    app_issuer: Any = _SAME,
) -> None:
    """End sessions: their ``fam`` records first (refusing their tokens), then the entries."""
    ended = list(sessions)
    spans = tuple(lifetimes)
    for session in ended:
        store.put(*ended_record(issuer, session, session.id, spans, leeway))
    if ended:
        store.registry_delete(registry_name(issuer, identity), [s.id for s in ended])
        for session in ended:
            store.registry_delete(index_key(issuer, session.id), ["owner"])
        if _elsewhere(issuer, app_issuer):
            store.registry_delete(issuers_name(app_issuer, identity), [s.id for s in ended])
            for session in ended:
                store.registry_delete(index_key(app_issuer, session.id), ["owner", "issuer"])


def session_issuers(store: RevocationStore, app_issuer: Any, identity: Any) -> list[Any]:
    """Every issuer ``identity`` has registered sessions under: the app's first.

    The app's own issuer is always included (its sessions are not noted in
    :func:`issuers_name`); the others come from their sessions' notes, each
    once, in a stable order.
    """
    found: dict[str, Any] = {_issuer_json(app_issuer): app_issuer}
    for text in sorted(store.registry_get(issuers_name(app_issuer, identity)).values()):
        issuer = _from_json(text)
        if issuer is not _INVALID:
            found.setdefault(_issuer_json(issuer), issuer)
    return list(found.values())


def locate_session(
    store: RevocationStore, app_issuer: Any, session_id: str
) -> tuple[bool, Any, Any]:
    """``(True, issuer, identity)`` for a registered session id, else ``(False, None, None)``.

    Starts from the app's issuer: a session whose tokens carry another one
    was noted there with its issuer (:func:`open_session`).
    """
    members = store.registry_get(index_key(app_issuer, session_id))
    found, owner = _owner(members)
    if not found:
        return False, None, None
    issuer = _from_json(members["issuer"]) if "issuer" in members else app_issuer
    if issuer is _INVALID:
        return False, None, None
    return True, issuer, owner


def owner_of(store: RevocationStore, issuer: Any, session_id: str) -> tuple[bool, Any]:
    """``(True, identity)`` for a registered session id, else ``(False, None)``."""
    return _owner(store.registry_get(index_key(issuer, session_id)))


def _owner(members: Mapping[str, str]) -> tuple[bool, Any]:
    value = members.get("owner")
    if value is None:
        return False, None
    owner = _from_json(value)
    return (False, None) if owner is _INVALID else (True, owner)


def _elsewhere(issuer: Any, app_issuer: Any) -> bool:
    """Whether tokens carrying ``issuer`` are not the app's own issuer's."""
    return app_issuer is not _SAME and _issuer_json(issuer) != _issuer_json(app_issuer)


def _note_issuer(
    store: RevocationStore,
    issuer: Any,
    app_issuer: Any,
    identity: Any,
    session_id: str,
    until: float | None,
) -> None:
    """Note, under the app's issuer, a session whose tokens carry another one."""
    if not _elsewhere(issuer, app_issuer):
        return
    index = index_key(app_issuer, session_id)
    store.registry_put(index, "owner", _identity_json(identity), until)
    store.registry_put(index, "issuer", _issuer_json(issuer), until)
    store.registry_put(issuers_name(app_issuer, identity), session_id, _issuer_json(issuer), until)


def _identity_json(identity: Any) -> str:
    return json.dumps([identity], separators=(",", ":"), default=repr)


#: An issuer is kept as its JSON, like an identity (one-item list).
_issuer_json = _identity_json


def _from_json(text: str) -> Any:
    """The value :func:`_identity_json` wrote, or ``_INVALID`` for anything else."""
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return _INVALID
    return value[0] if isinstance(value, list) and len(value) == 1 else _INVALID
