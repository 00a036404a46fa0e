"""``jwt_required`` and ``verify_jwt_in_request`` under ``flask_jwt_extended.view_decorators``.

For code written against Flask-JWT-Extended's module layout. Besides the two
public functions (flask-jwtx's own), the private helpers that custom
decorators in the wild import from this module are provided as thin adapters
with Flask-JWT-Extended's signatures: ``_decode_jwt_from_request`` runs every
check of a protected route except the user lookup (and sets nothing on
``flask.g``), and the ``_decode_jwt_from_<location>`` functions read the
encoded token from one place in the request.
"""

from __future__ import annotations

import sys
from typing import Any, Final

from flask import request

from ._core.web.authorization import RouteRequirement
from ._core.web.context import NO_TOKEN, VerifiedRequest, publish
from ._core.web.decoding import decode_token as decode_token
from ._core.web.decoding import get_unverified_jwt_headers as get_unverified_jwt_headers
from ._core.web.decorators import LocationType as LocationType
from ._core.web.decorators import jwt_required as jwt_required
from ._core.web.decorators import verify_jwt_in_request as verify_jwt_in_request
from ._core.web.fje import watch_patches
from ._core.web.locations import EXTRACTORS, normalize
from ._core.web.pipeline import (
    EXEMPT_METHODS,
    Found,
    check,
    check_fresh,
    locate_dpop,
    lookup_user,
)
from ._core.web.state import get_state
from .config import config as config
from .exceptions import Claims, Header
from .exceptions import CSRFError as CSRFError
from .exceptions import FreshTokenRequired as FreshTokenRequired
from .exceptions import InvalidHeaderError as InvalidHeaderError
from .exceptions import InvalidQueryParamError as InvalidQueryParamError
from .exceptions import NoAuthorizationError as NoAuthorizationError
from .exceptions import UserLookupError as UserLookupError
from .internal_utils import custom_verification_for_token as custom_verification_for_token
from .internal_utils import has_user_lookup as has_user_lookup
from .internal_utils import user_lookup as user_lookup
from .internal_utils import verify_token_not_blocklisted as verify_token_not_blocklisted
from .internal_utils import verify_token_type as verify_token_type


def _decode_jwt_from_request(
    locations: LocationType,
    fresh: bool,
    refresh: bool = False,
    verify_type: bool = True,
    skip_revocation_check: bool = False,
) -> tuple[Claims, Header, str]:
    """Find and verify the request's token: ``(claims, header, location)``.

    The pipeline's steps up to the user lookup (``flask_jwtx._core.web.pipeline``),
    the locate step of every route included: ``JWT_DPOP`` applies (a bearer
    token is refused where it is "required", a DPoP-bound token is accepted
    with its proof), and so does the subclass decode hook. Raises
    :class:`NoAuthorizationError` when no location holds a token, and the
    usual errors for an invalid, wrong-type, stale, revoked or refused one.
    """
    state = get_state()
    settings = state.settings.get()
    requirement = RouteRequirement(
        fresh=fresh,
        refresh=refresh,
        locations=normalize(locations),
        verify_type=verify_type,
        skip_revocation_check=skip_revocation_check,
    )
    found = locate_dpop(state, settings, requirement)
    verified = check(
        state.callbacks, settings, found, requirement, request.view_args, load_user=False
    )
    return verified.claims, verified.header, str(found.location)


#: The original, to tell whether a test patched ``_decode_jwt_from_request``.
DECODE_FROM_REQUEST: Final = _decode_jwt_from_request


def verify_with_patched_decode(
    optional: bool,
    fresh: bool,
    refresh: bool,
    locations: LocationType,
    verify_type: bool,
    skip_revocation_check: bool,
) -> tuple[Header, Claims] | None:
    """Flask-JWT-Extended's ``verify_jwt_in_request`` flow over this module's helpers.

    Used only while a test has patched ``_decode_jwt_from_request``: the
    patched function decides the token, then the user is loaded and the
    request recorded on ``g`` as for any verified request (``jwt_required``
    then checks the route's declared requirements against it).
    """
    if request.method in EXEMPT_METHODS:
        publish(NO_TOKEN)
        return None
    try:
        claims, header, location = _decode_jwt_from_request(
            locations,
            fresh,
            refresh=refresh,
            verify_type=verify_type,
            skip_revocation_check=skip_revocation_check,
        )
    except NoAuthorizationError:
        if not optional:
            raise
        publish(NO_TOKEN)
        return None
    loaded = _load_user(header, claims)
    user = None if loaded is None else loaded["loaded_user"]
    publish(VerifiedRequest(header, claims, location, user, loaded is not None, None))
    return header, claims


def _verify_token_is_fresh(jwt_header: Header, jwt_data: Claims) -> None:
    """Raise :class:`FreshTokenRequired` unless the token is (still) fresh."""
    check_fresh(jwt_header, jwt_data)


def _load_user(jwt_header: Header, jwt_data: Claims) -> dict[str, Any] | None:
    """``{"loaded_user": user}`` from the user lookup callback; ``None`` without one."""
    state = get_state()
    if state.callbacks.user_lookup is None:
        return None
    identity_claim = state.settings.get().identity_claim
    verified = lookup_user(state.callbacks, identity_claim, Found(jwt_header, jwt_data, None, ""))
    return {"loaded_user": verified.user}


def _from(location: str, refresh: bool) -> tuple[str, str | None]:
    encoded, csrf_value = EXTRACTORS[location](get_state().settings.get(), refresh)
    return str(encoded), csrf_value


def _decode_jwt_from_headers() -> tuple[str, None]:
    """The encoded token from the authorization header."""
    return _from("headers", False)[0], None


def _decode_jwt_from_cookies(refresh: bool) -> tuple[str, str | None]:
    """The encoded token from its cookie, and the CSRF value the request must carry."""
    return _from("cookies", refresh)


def _decode_jwt_from_query_string() -> tuple[str, None]:
    """The encoded token from the query string."""
    return _from("query_string", False)[0], None


def _decode_jwt_from_json(refresh: bool) -> tuple[str, None]:
    """The encoded token from the JSON body."""
    return _from("json", refresh)[0], None


watch_patches(sys.modules[__name__], verify_jwt_in_request)
