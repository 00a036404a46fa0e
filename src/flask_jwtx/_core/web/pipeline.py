"""The verification pipeline: every check a token passes, defined once.

    locate (:func:`locate_dpop`: the DPoP mode, then the token under the
    ``DPoP`` scheme and its proof, or :func:`locate` in the route's locations)
    -> decode (signature, registered claims, CSRF; a subclass's
    ``_decode_jwt_from_config`` when it overrides ours) -> type -> freshness
    -> revocation (the store, then ``token_in_blocklist_loader``) -> custom
    verification (``token_verification_loader``) -> declared requirements
    (``claims=``, ``scope=``, ``override=``) -> user lookup

Every entry point that verifies a request runs these functions and no copy
of them: ``jwt_required`` and ``verify_jwt_in_request``
(:func:`verify_request`), the Flask-JWT-Extended private helpers that custom
decorators call (``view_decorators._decode_jwt_from_request``:
:func:`locate_dpop` and :func:`check` without the user lookup), and the auth
blueprint (its protected routes through ``jwt_required``, its logouts
through :func:`locate_dpop` with expired tokens allowed, and :func:`check`).
``decode_token`` runs the decode step alone, as documented, and
``flask jwt decode`` :func:`decode` and :func:`check` (there is no request
to locate in). When the copies were separate they drifted: a subclass's
decode hook skipped by one adapter, declared requirements dropped behind a
wrapped verifier, the CLI calling "accepted" a token the app refuses, and a
custom decorator and the blueprint's logouts that never applied
``JWT_DPOP = "required"``. ``tests/test_pipeline.py`` runs every entry point
against one hostile app and asserts they agree.

The functions take the resolved settings and the route's
``RouteRequirement`` (plain data built when
the route was declared), so the request path reads attributes, never
``app.config``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from flask import g, request

from ...exceptions import (
    Claims,
    ExpiredSignatureError,
    FreshTokenRequired,
    Header,
    NoAuthorizationError,
    RevokedTokenError,
    UserClaimsVerificationError,
    UserLookupError,
    WrongTokenError,
)
from ..config.settings import Settings
from ..oauth.dpop import refuse_bearer_binding
from .authorization import RouteRequirement
from .callbacks import Callbacks
from .context import G_CLAIMS, G_HEADER, NO_TOKEN, VerifiedRequest, publish
from .decoding import decode as decode
from .locations import EXTRACTORS, missing_message
from .resource_server import bearer_refused, check_store, dpop_token, verify_dpop
from .revocation_checks import verify_not_revoked
from .state import AppState, get_state

#: Methods that never need a token: CORS preflight requests carry no credentials.
EXEMPT_METHODS: Final = frozenset({"OPTIONS"})


class Found(NamedTuple):
    """A token found in a request and decoded: what the later checks work on."""

    header: Header
    claims: Claims
    location: str | None
    encoded: str
    #: Why the token would have been refused had expired tokens not been
    #: allowed (the auth blueprint's logouts); ``None``: not expired.
    expired: ExpiredSignatureError | None = None


def verify_request(requirement: RouteRequirement) -> tuple[Header, Claims] | None:
    """The whole pipeline for this request; the result is published on ``g``.

    Returns ``(header, claims)``, or ``None`` for a CORS preflight or an
    optional route without a token.
    """
    if request.method in EXEMPT_METHODS:
        publish(NO_TOKEN)  # the view may read the getters: "no token"
        return None
    state = get_state()
    settings = state.settings.get()
    try:
        found = locate_dpop(state, settings, requirement)
    except NoAuthorizationError:
        if requirement.optional:
            publish(NO_TOKEN)
            return None
        raise
    verified = check(state.callbacks, settings, found, requirement, request.view_args)
    publish(verified)
    return verified.header, verified.claims


def locate(
    state: AppState,
    settings: Settings,
    where: Sequence[str],
    refresh: bool,
    *,
    allow_expired: bool = False,
) -> Found:
    """The first token found in ``where``, decoded, as a bearer token.

    Locations are tried in order; the first that holds a token decides (its
    token is decoded, and a cookie-held one must come with its CSRF value).
    With none, :class:`NoAuthorizationError` names what each location lacked.
    A token confirmed to a key (any ``cnf``) is refused: it is no bearer token.
    """
    errors: list[str] = []
    for location in where:
        try:
            encoded, csrf_value = EXTRACTORS[location](settings, refresh)
        except NoAuthorizationError as exc:
            errors.append(str(exc))
            continue
        header, claims, expired = _decode_maybe_expired(
            state, settings, encoded, csrf_value, allow_expired
        )
        if "cnf" in claims:  # a bound token is never a bearer token
            refuse_bearer_binding(claims)
        return Found(header, claims, location, encoded, expired)
    raise NoAuthorizationError(missing_message(tuple(where), errors))


def locate_dpop(
    state: AppState,
    settings: Settings,
    requirement: RouteRequirement,
    *,
    allow_expired: bool = False,
) -> Found:
    """The locate step of every entry point: the DPoP mode (RFC 9449) applied, then the token.

    The mode is the route's (``jwt_required(dpop=...)``), else ``JWT_DPOP``.
    Where it is not "off" and the route reads the ``headers`` location, an
    ``Authorization: DPoP <token>`` credential is decoded and its request's
    proof checked (``flask_jwtx._core.web.resource_server``). Any other
    request goes through :func:`locate` in the route's locations, and where
    DPoP is required a token found there is refused. A route limited to
    other locations never reads the ``Authorization`` header, under any
    scheme. ``allow_expired`` (the auth blueprint's logouts) decodes an
    expired token and says so in :attr:`Found.expired`.
    """
    mode = requirement.dpop or settings.resource.dpop.mode
    where = requirement.locations or settings.token_location
    check_store(mode, settings)  # DPoP on without a store: a ConfigurationError, every time
    encoded = dpop_token(settings) if mode != "off" and "headers" in where else None
    if encoded is None:
        found = locate(state, settings, where, requirement.refresh, allow_expired=allow_expired)
        if mode == "required":
            raise bearer_refused()
        return found
    header, claims, expired = _decode_maybe_expired(state, settings, encoded, None, allow_expired)
    verify_dpop(settings, encoded, claims)
    return Found(header, claims, "headers", encoded, expired)


def _decode_maybe_expired(
    state: AppState,
    settings: Settings,
    encoded: str,
    csrf_value: str | None,
    allow_expired: bool,
) -> tuple[Header, Claims, ExpiredSignatureError | None]:
    """The decode step; an expired token too when ``allow_expired``, with its error."""
    try:
        header, claims = decode(state, settings, encoded, csrf_value)
    except ExpiredSignatureError as error:
        if not allow_expired:
            raise
        header, claims = decode(state, settings, encoded, csrf_value, allow_expired=True)
        return header, claims, error
    return header, claims, None


def check(
    callbacks: Callbacks,
    settings: Settings,
    found: Found,
    requirement: RouteRequirement,
    view_args: Mapping[str, Any] | None,
    *,
    load_user: bool = True,
) -> VerifiedRequest:
    """Every check after decoding, in order; the verified request (not yet published)."""
    header, claims = found.header, found.claims
    if requirement.verify_type:
        check_token_type(claims, requirement.refresh)
    if requirement.fresh:
        check_fresh(header, claims)
    if not requirement.skip_revocation_check:
        check_not_revoked(callbacks, settings, header, claims)
    if not callbacks.token_verification(header, claims):
        raise UserClaimsVerificationError("User claims verification failed", header, claims)
    if requirement.authorization is not None:
        requirement.authorization.check(header, claims, view_args or {})
    if not load_user:
        return VerifiedRequest(header, claims, found.location, None, False, found.encoded)
    return lookup_user(callbacks, settings.identity_claim, found)


def check_token_type(claims: Claims, refresh: bool) -> None:
    """Refuse a token of the wrong kind: only refresh tokens, or only access tokens.

    Only "access" passes where an access token is wanted: an app's own
    kinds (password reset, email confirmation) are not access tokens.
    """
    kind = claims.get("type", "access")
    if refresh and kind != "refresh":
        raise WrongTokenError("Only refresh tokens are allowed")
    if not refresh and kind != "access":
        raise WrongTokenError("Only non-refresh tokens are allowed")


def check_fresh(header: Header, claims: Claims) -> None:
    """Raise :class:`FreshTokenRequired` unless the token is (still) fresh."""
    value = claims.get("fresh", False)  # a bool, or a NumericDate until which it is fresh
    is_fresh = value if isinstance(value, bool) else value >= time.time()
    if not is_fresh:
        raise FreshTokenRequired("Fresh token required", header, claims)


def check_not_revoked(
    callbacks: Callbacks, settings: Settings, header: Header, claims: Claims
) -> None:
    """The revocation store's verdict, then the ``token_in_blocklist_loader``'s."""
    verify_not_revoked(settings, header, claims)
    if callbacks.token_in_blocklist(header, claims):
        raise RevokedTokenError(header, claims)


def lookup_user(callbacks: Callbacks, identity_claim: str, found: Found) -> VerifiedRequest:
    """The ``user_lookup_loader``'s user for the token; ``None`` from it refuses the token."""
    header, claims = found.header, found.claims
    lookup = callbacks.user_lookup
    if lookup is None:
        return VerifiedRequest(header, claims, found.location, None, False, found.encoded)
    user = lookup(header, claims)
    if user is None:
        identity = claims.get(identity_claim)
        raise UserLookupError(f"user_lookup returned None for {identity}", header, claims)
    return VerifiedRequest(header, claims, found.location, user, True, found.encoded)


def enforce_declared(requirement: RouteRequirement) -> None:
    """Check a route's declared requirements against what this request established.

    For the requests another verifier decided: a test or a monitoring
    wrapper that patches ``view_decorators.verify_jwt_in_request`` (or
    ``_decode_jwt_from_request``) calls it with Flask-JWT-Extended's six
    arguments, which carry no ``claims=``/``scope=``/``override=``. Whatever
    ran, the claims it recorded on ``g`` must meet the route's requirements;
    a request that recorded no token meets them only on an optional route
    (as on the normal path), else it is refused with the requirement's 403.
    """
    requirements = requirement.authorization
    if requirements is None or request.method in EXEMPT_METHODS:
        return
    claims = g.get(G_CLAIMS)
    if not claims:
        if requirement.optional:
            return
        claims = {}
    header = g.get(G_HEADER) or {}
    requirements.check(header, claims, request.view_args or {})
