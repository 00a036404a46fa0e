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
from typing import TYPE_CHECKING, Any, ClassVar

from .. import signals
from ..exceptions import Claims, ConfigurationError, Header, RevokedTokenError
from .base import RevocationStore, StoreUnavailableError
from .policy import (
    Outcome,
    RevocationPolicy,
    Verdict,
    check,
    family_of,
    revoke_family_record,
)

if TYPE_CHECKING:
    from ..settings import Settings

logger = logging.getLogger("flask_jwtx.revocation")
#: The request path's logger, which reports a store let through under the "open" policy.
_request_logger = logging.getLogger("flask_jwtx")


class RefreshTokenReusedError(RevokedTokenError):
    """A refresh token was presented again after it was used: its family is revoked (401)."""

    status: ClassVar[int] = 401
    code: ClassVar[str] = "refresh_token_reused"


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
    app = signals.sender()
    logger.warning("Refresh token reuse detected; family %s revoked", family)
    signals.refresh_token_reuse_detected.send(app, claims=claims, family=family)
    signals.token_revoked.send(app, reason="family", family=family)
    return RefreshTokenReusedError(dict(header), claims)
