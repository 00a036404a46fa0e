"""The one per-request state object, and the getters views read it through.

The incumbent scatters four attributes over ``flask.g``; here a verified
request holds a single :class:`VerifiedRequest` at ``g._jwtx``.
"""

from __future__ import annotations

import uuid
from typing import Any, Final, NamedTuple

from flask import g
from werkzeug.local import LocalProxy

from .exceptions import Claims, Header
from .extension import get_state

#: Claim recording the original type of an identity stored as a string
#: (``JWT_IDENTITY_AS_STRING``), so :func:`get_jwt_identity` can give it back.
IDENTITY_TYPE_CLAIM: Final = "jwtx_idt"

_NOT_VERIFIED = (
    "You must call `@jwt_required()` or `verify_jwt_in_request()` before using this method"
)


class VerifiedRequest(NamedTuple):
    """What ``verify_jwt_in_request`` established for this request.

    A named tuple rather than a frozen dataclass: it is built on every
    protected request, and a tuple is built in C.
    """

    header: Header
    claims: Claims
    location: str | None
    user: Any
    user_loaded: bool


#: The state of a request that allowed a missing token (``optional=True``).
NO_TOKEN: Final = VerifiedRequest({}, {}, None, None, True)


def _verified() -> VerifiedRequest:
    state: VerifiedRequest | None = g.get("_jwtx")
    if state is None:
        raise RuntimeError(_NOT_VERIFIED)
    return state


def get_jwt() -> dict[str, Any]:
    """The verified token's claims; ``{}`` on an optional route without a token."""
    return _verified().claims


def get_jwt_header() -> dict[str, Any]:
    """The verified token's JOSE header; ``{}`` on an optional route without a token."""
    return _verified().header


def get_jwt_identity() -> Any:
    """The identity claim, in its original type if it was stored as a string."""
    claims = _verified().claims
    identity = claims.get(get_state().settings.get().identity_claim)
    kind = claims.get(IDENTITY_TYPE_CLAIM)
    if kind is not None and isinstance(identity, str):
        return restore_identity(identity, kind)
    return identity


def get_jwt_request_location() -> str | None:
    """Where the token was found: headers, cookies, query_string or json."""
    state: VerifiedRequest | None = g.get("_jwtx")
    return None if state is None else state.location


def get_current_user() -> Any:
    """The object the ``user_lookup_loader`` returned for this request's token."""
    state = _verified()
    if not state.user_loaded:
        raise RuntimeError(
            "You must provide a `@jwt.user_lookup_loader` callback to use this method"
        )
    return state.user


current_user: Any = LocalProxy(get_current_user)


def current_user_context_processor() -> dict[str, Any]:
    return {"current_user": get_current_user()}


# --- Identities stored as strings (JWT_IDENTITY_AS_STRING) ---------------------

_STRINGIFIABLE: Final[dict[type, str]] = {int: "int", uuid.UUID: "uuid"}


def stringify_identity(identity: Any) -> tuple[str, str] | None:
    """``(text, kind)`` for an identity type that round-trips through a string."""
    kind = _STRINGIFIABLE.get(type(identity))
    return None if kind is None else (str(identity), kind)


def restore_identity(text: str, kind: str) -> Any:
    try:
        if kind == "int":
            return int(text)
        if kind == "uuid":
            return uuid.UUID(text)
    except ValueError:
        pass
    return text
