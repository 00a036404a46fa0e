"""Revocation on the request path: the policy's verdicts as Flask errors and signals.

:mod:`.policy` decides; this module acts on its verdicts inside an app:
``REVOKED`` raises :class:`~flask_jwtx.exceptions.RevokedTokenError`,
``REUSED`` revokes the family, logs, sends the signals and raises
:class:`RefreshTokenReusedError`, and an unreachable store answers by the
``JWT_REVOCATION_FAILURE_POLICY``. It imports nothing from the request path,
so the request path (``decorators``) can import it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ... import signals
from ...exceptions import Claims, ConfigurationError, Header, RevokedTokenError
from ...exceptions import RefreshTokenReusedError as RefreshTokenReusedError
from ..revocation.base import RevocationStore, StoreUnavailableError
from ..revocation.policy import (
    Outcome,
    RevocationPolicy,
    Verdict,
    check,
    family_of,
    revoke_family_record,
)
from ..revocation.registry import ended_record, owner_of, registry_name
from ..revocation.registry import parse as _sessions

if TYPE_CHECKING:
    from ..config.settings import Settings

logger = logging.getLogger("flask_jwtx.revocation")
#: The request path's logger, which reports a store let through under the "open" policy.
_request_logger = logging.getLogger("flask_jwtx")


def policy_of(settings: Settings) -> RevocationPolicy:
    """The revocation policy of an app's resolved settings."""
    return RevocationPolicy(
        identity_claim=settings.identity_claim,
        rotation=settings.rotation,
        reuse_grace=settings.reuse_grace,
        lifetimes=(settings.access_expires, settings.refresh_expires),
        leeway=settings.policy.leeway,
    )


def require_store(store: RevocationStore | None) -> RevocationStore:
    if store is None:
        raise ConfigurationError(
            "No revocation store: set JWT_REVOCATION_STORE (memory://, redis://..., "
            "sqlite:///..., postgresql://...)"
        )
    return store


def verify_not_revoked(settings: Settings, header: Header, claims: Claims) -> None:
    """The request path's store check: raise if the store revokes this token.

    Without a store, nothing to check. When the store cannot be reached,
    ``JWT_REVOCATION_FAILURE_POLICY`` decides: ``"closed"`` raises
    :class:`StoreUnavailableError` (503), ``"open"`` logs a warning and lets
    the token through.
    """
    store = settings.revocation_store
    if store is None:
        return
    try:
        enforce(check(store, claims, policy_of(settings)), store, header, claims)
    except StoreUnavailableError:
        if settings.failure_policy == "closed":
            raise
        _request_logger.warning(
            "Revocation store unavailable; letting the token through (policy open)"
        )


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
    policy = RevocationPolicy(identity_claim, rotation, reuse_grace, tuple(lifetimes), leeway)
    enforce(check(store, claims, policy), store, header, claims)


def enforce(
    verdict: Verdict, store: RevocationStore, header: Mapping[str, Any], claims: Claims
) -> None:
    """Act on a verdict about a token: return for ``OK``, raise for the others.

    ``REUSED`` first revokes the family (:func:`reuse_detected`).
    """
    if verdict.outcome is Outcome.REVOKED:
        raise RevokedTokenError(dict(header), claims)
    if verdict.outcome is Outcome.REUSED:
        raise reuse_detected(store, claims, header, verdict.expires_at)


def reuse_detected(
    store: RevocationStore,
    claims: Claims,
    header: Mapping[str, Any],
    expires_at: float | None,
) -> RefreshTokenReusedError:
    """Revoke the reused token's family until ``expires_at``; return the error to raise.

    The token is refused even when the family cannot be written: the store
    has already said it is reused, and no failure policy may turn that
    answer into a 200 (``"open"`` covers a store that cannot *answer*).
    """
    family = family_of(claims)
    try:
        store.put(*revoke_family_record(claims, expires_at))
    except StoreUnavailableError as exc:
        logger.error(
            "Refresh token reuse detected but family %s could NOT be revoked (%s): its other "
            "tokens stay valid until the store takes writes again and it is revoked",
            family,
            exc,
        )
    owner = _end_reused_session(store, claims, expires_at)
    app = signals.sender()
    logger.warning("Refresh token reuse detected; family %s revoked", family)
    signals.refresh_token_reuse_detected.send(app, claims=claims, family=family)
    signals.token_revoked.send(app, reason="family", family=family)
    if owner[0]:
        signals.session_ended.send(app, session_id=family, identity=owner[1], reason="reuse")
    return RefreshTokenReusedError(dict(header), claims)


def _end_reused_session(
    store: RevocationStore, claims: Claims, expires_at: float | None
) -> tuple[bool, Any]:
    """If the reused token's family is a registered session, end it there too.

    The family record is extended to the session's last token (a login pair
    may have been minted with a longer ``expires_delta`` than the configured
    lifetimes that sized ``expires_at``), and the session leaves the
    registry. Returns ``(found, owner)``. Best effort: the family record,
    already written, is what refuses the tokens.
    """
    issuer = claims.get("iss")
    session_id = claims.get("fam")
    if not isinstance(session_id, str):
        return False, None
    try:
        found, owner = owner_of(store, issuer, session_id)
        if not found:
            return False, None
        session = next(
            (
                s
                for s in _sessions(store.registry_get(registry_name(issuer, owner)))
                if s.id == session_id
            ),
            None,
        )
        if session is not None and expires_at is not None:
            record = ended_record(issuer, session, session_id, (), 0.0)
            longer = None if record.expires_at is None else max(record.expires_at, expires_at)
            store.put(record.key, record.value, longer)
        store.registry_delete(registry_name(issuer, owner), [session_id])
    except (StoreUnavailableError, NotImplementedError) as exc:
        logger.error("Session %s: registry not updated after reuse (%s)", session_id, exc)
        return False, None
    return True, owner
