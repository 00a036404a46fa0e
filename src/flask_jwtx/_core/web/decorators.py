"""``verify_jwt_in_request`` and ``jwt_required``: declaring what a route needs.

A declaration is validated once, when the route is declared, into a
``RouteRequirement``; each request then runs
the one verification pipeline (``flask_jwtx._core.web.pipeline``) on it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar, cast

from ...exceptions import Claims, Header
from ..oauth.resource_policy import dpop_mode
from .authorization import (
    REQUIREMENT_ATTRIBUTE,
    Requirements,
    RouteRequirement,
    declared_requirements,
)
from .fje import patched_verifier
from .locations import normalize
from .pipeline import EXEMPT_METHODS as EXEMPT_METHODS
from .pipeline import enforce_declared, verify_request

P = ParamSpec("P")
R = TypeVar("R")
LocationType = str | Sequence[str] | None
ScopeRequirement = str | Sequence[str] | Mapping[str, Any] | None


def verify_jwt_in_request(  # noqa: PLR0913 - Flask-JWT-Extended's six, then keyword-only
    optional: bool = False,
    fresh: bool = False,
    refresh: bool = False,
    locations: LocationType = None,
    verify_type: bool = True,
    skip_revocation_check: bool = False,
    *,
    claims: Mapping[str, Any] | None = None,
    scope: ScopeRequirement = None,
    override: Mapping[str, Any] | None = None,
    dpop: str | None = None,
    max_age: int | timedelta | None = None,
    acr: str | Sequence[str] | None = None,
) -> tuple[Header, Claims] | None:
    """Require a valid token in this request; return ``(header, claims)``.

    With ``optional=True`` a request without any token passes (``None`` is
    returned), but a present and invalid token is still refused. ``refresh``
    asks for a refresh token instead of an access token; ``verify_type=False``
    accepts either. ``locations`` overrides ``JWT_TOKEN_LOCATION``.

    ``claims``, ``scope`` and ``override`` declare what the token must hold
    (see docs/authorization.md); a token that does not is refused
    with a 403 through the ``authorization_failed_loader``.

    ``dpop`` ("off", "allowed" or "required") overrides ``JWT_DPOP`` for this
    check: whether a DPoP-bound token and proof (RFC 9449) are accepted, or
    required (see ``docs/resource-server.md``).

    ``max_age`` (seconds or a ``timedelta``) and ``acr`` ask how the user
    signed in (RFC 9470 step-up): an ``auth_time`` no older than ``max_age``,
    an ``acr`` among the given values. A token that falls short is refused
    with a 401 whose challenge asks the client to sign the user in again.
    """
    return _bind(
        _declare(
            optional,
            fresh,
            refresh,
            locations,
            verify_type,
            skip_revocation_check,
            claims,
            scope,
            override,
            dpop,
            max_age,
            acr,
        )
    )()


def _declare(  # noqa: PLR0913, PLR0917 - one parameter per decorator argument
    optional: bool,
    fresh: bool,
    refresh: bool,
    locations: LocationType,
    verify_type: bool,
    skip_revocation_check: bool,
    claims: Mapping[str, Any] | None,
    scope: ScopeRequirement,
    override: Mapping[str, Any] | None,
    dpop: str | None = None,
    max_age: int | timedelta | None = None,
    acr: str | Sequence[str] | None = None,
) -> RouteRequirement:
    """Validate a declaration's arguments once, into plain data."""
    return RouteRequirement(
        optional=optional,
        fresh=fresh,
        refresh=refresh,
        locations=normalize(locations),
        verify_type=verify_type,
        skip_revocation_check=skip_revocation_check,
        authorization=Requirements.build(claims, scope, override, max_age, acr),
        dpop=None if dpop is None else dpop_mode(dpop, "dpop"),
    )


def _bind(requirement: RouteRequirement) -> Callable[[], tuple[Header, Claims] | None]:
    """Bind a validated declaration to the pipeline (the cheapest call per request)."""
    return functools.partial(verify_request, requirement)


def jwt_required(  # noqa: PLR0913 - Flask-JWT-Extended's six, then keyword-only
    optional: bool = False,
    fresh: bool = False,
    refresh: bool = False,
    locations: LocationType = None,
    verify_type: bool = True,
    skip_revocation_check: bool = False,
    *,
    claims: Mapping[str, Any] | None = None,
    scope: ScopeRequirement = None,
    override: Mapping[str, Any] | None = None,
    dpop: str | None = None,
    max_age: int | timedelta | None = None,
    acr: str | Sequence[str] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Protect a view: it runs only for a request carrying a valid token.

    The arguments are those of :func:`verify_jwt_in_request`. ``locations``
    and the authorization requirements are validated here, when the route is
    declared. Works on ``async def`` views (with ``flask[async]``): the
    wrapper is then a coroutine too.
    """
    requirement = _declare(
        optional,
        fresh,
        refresh,
        locations,
        verify_type,
        skip_revocation_check,
        claims,
        scope,
        override,
        dpop,
        max_age,
        acr,
    )
    bound = _bind(requirement)

    def verify() -> None:
        patched = patched_verifier()
        if patched is None:
            bound()
        else:  # a test replaced the verifier: call it as Flask-JWT-Extended does
            patched(
                requirement.optional,
                requirement.fresh,
                requirement.refresh,
                requirement.locations,
                requirement.verify_type,
                requirement.skip_revocation_check,
            )
            # Its six arguments carry no requirements: they are checked here,
            # against whatever token it recorded for this request.
            enforce_declared(requirement)

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        # Documentation reads the declaration from the view (outermost first);
        # set once here, never read per request.
        declared = (requirement, *declared_requirements(view))
        if inspect.iscoroutinefunction(view):
            async_view = cast(Callable[P, Awaitable[Any]], view)

            @functools.wraps(view)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                verify()
                return await async_view(*args, **kwargs)

            setattr(async_wrapper, REQUIREMENT_ATTRIBUTE, declared)
            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            verify()
            return view(*args, **kwargs)

        setattr(wrapper, REQUIREMENT_ATTRIBUTE, declared)
        return wrapper

    # Also on the decorator itself, for lists of decorators applied later
    # (Flask-RESTX's ``method_decorators``, ``Api(decorators=...)``).
    setattr(decorator, REQUIREMENT_ATTRIBUTE, (requirement,))
    return decorator
