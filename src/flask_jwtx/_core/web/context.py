"""The one per-request state object, and the getters views read it through.

Flask-JWT-Extended scatters four attributes over ``flask.g``; here a verified
request holds a single :class:`VerifiedRequest` at ``g.flask_jwtx_request``.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from typing import Any, Final, NamedTuple, TypeVar, cast, overload

from flask import g
from werkzeug.local import LocalProxy

from ...exceptions import Claims, Header, JWTDecodeError
from ...typing import Identity, JSONValue
from .fje import G_CLAIMS as G_CLAIMS
from .fje import G_HEADER as G_HEADER
from .fje import G_LOCATION as G_LOCATION
from .fje import G_USER as G_USER
from .state import get_state

T = TypeVar("T")

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
    encoded: str | None = None


#: The state of a request that allowed a missing token (``optional=True``).
NO_TOKEN: Final = VerifiedRequest({}, {}, None, None, True)


def publish(state: VerifiedRequest) -> None:
    """Record a verified (or optional, tokenless) request on ``g``, as Flask-JWT-Extended does."""
    claims, header = state.claims, state.header
    if state is NO_TOKEN:  # fresh dicts: a view that mutates them must not leak
        claims, header = {}, {}
        state = VerifiedRequest(header, claims, None, None, True)
    vars(g).update(
        {
            "flask_jwtx_request": state,
            G_CLAIMS: claims,
            G_HEADER: header,
            G_USER: {"loaded_user": state.user} if state.user_loaded else None,
            G_LOCATION: state.location,
        }
    )


def _verified() -> VerifiedRequest:
    claims = g.get(G_CLAIMS)
    if claims is None:
        raise RuntimeError(_NOT_VERIFIED)
    state: VerifiedRequest | None = g.get("flask_jwtx_request")
    if state is not None and state.claims is claims:
        return state
    # Flask-JWT-Extended's attributes, set by the app itself (a fixture, a decorator).
    user = g.get(G_USER)
    return VerifiedRequest(
        g.get(G_HEADER) or {},
        claims,
        g.get(G_LOCATION),
        None if user is None else user.get("loaded_user"),
        user is not None,
        None,
    )


def get_jwt() -> dict[str, Any]:
    """The verified token's claims; ``{}`` on an optional route without a token."""
    claims: dict[str, Any] | None = g.get(G_CLAIMS)
    if claims is None:
        raise RuntimeError(_NOT_VERIFIED)
    return claims


def get_jwt_header() -> dict[str, Any]:
    """The verified token's JOSE header; ``{}`` on an optional route without a token."""
    header: dict[str, Any] | None = g.get(G_HEADER)
    if header is None:
        raise RuntimeError(_NOT_VERIFIED)
    return header


@overload
def get_jwt_identity() -> Any: ...
@overload
def get_jwt_identity(*, as_type: type[T]) -> T: ...
def get_jwt_identity(*, as_type: type[Any] | None = None) -> Any:
    """The identity claim, in its original type if it was stored as a string.

    Without ``as_type`` it is typed ``Any``, as Flask-JWT-Extended's is. With it,
    ``get_jwt_identity(as_type=int)`` is typed ``int`` and checked: a verified token
    whose identity is of another type (one minted elsewhere, or before the
    app changed its ids) is refused with a 422, not handed to the view as
    the wrong type.
    """
    claims = _claims_for_identity()
    identity = claims.get(get_state().settings.get().identity_claim)
    stored = claims.get(IDENTITY_TYPE_CLAIM)
    if stored is not None and isinstance(identity, str):
        identity = restore_identity(identity, stored)
    if as_type is not None and not _is_a(identity, as_type):
        raise JWTDecodeError(f"The token's identity is not a {as_type.__name__}")
    return identity


def _claims_for_identity() -> dict[str, Any]:
    """``get_jwt()``, or what a test patched in as ``utils.get_jwt``.

    Flask-JWT-Extended's ``get_jwt_identity`` calls ``get_jwt`` from its ``utils``
    module at each call, so ``mock.patch("...utils.get_jwt")`` fakes the
    identity too; suites rely on it.
    """
    utils = sys.modules.get("flask_jwtx.utils")
    if utils is not None and utils.get_jwt is not get_jwt:
        patched: dict[str, Any] = utils.get_jwt()
        return patched
    return get_jwt()


def _is_a(value: Any, kind: type[Any]) -> bool:
    # bool is an int to isinstance, never an identity to an app asking for int.
    return isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)


def get_jwt_request_location() -> str | None:
    """Where the token was found: headers, cookies, query_string or json."""
    location: str | None = g.get(G_LOCATION)
    return location


@overload
def get_current_user() -> Any: ...
@overload
def get_current_user(*, as_type: type[T]) -> T: ...
def get_current_user(*, as_type: type[Any] | None = None) -> Any:
    """The object the ``user_lookup_loader`` returned for this request's token.

    ``get_current_user(as_type=User)`` is typed ``User``, and checked: a loader that
    returned something else is a bug in the app, reported as one.
    """
    if g.get(G_CLAIMS) is None:
        raise RuntimeError(_NOT_VERIFIED)
    loaded = g.get(G_USER)
    if loaded is None:
        raise RuntimeError(
            "You must provide a `@jwt.user_lookup_loader` callback to use this method"
        )
    user = loaded["loaded_user"]
    if as_type is not None and not isinstance(user, as_type):
        returned = type(user).__name__
        raise TypeError(f"The user_lookup_loader returned a {returned}, not a {as_type.__name__}")
    return user


#: The current user, as Flask-JWT-Extended has it (typed ``Any``); see :func:`user_proxy`.
current_user: Any = LocalProxy(get_current_user)


def user_proxy(kind: type[T]) -> T:
    """A ``current_user`` the type checker knows the type of.

    Define it once next to the user model, then use it like ``current_user``::

        current_user = flask_jwtx.user_proxy(User)

        @app.get("/me")
        @jwt_required()
        def me() -> dict[str, str]:
            return {"name": current_user.name}  # checked: User has .name

    Each access reads this request's user, checked as by
    ``get_current_user(as_type=kind)``.
    """
    return cast(T, LocalProxy(lambda: get_current_user(as_type=kind)))


class CurrentToken:
    """The token of the current request, as one typed object.

    Read it through the :data:`current_token` proxy in a protected view. On an
    optional route without a token, every claim is absent and
    :meth:`is_signed` is ``False``.
    """

    __slots__ = ("_state",)

    def __init__(self, state: VerifiedRequest) -> None:
        self._state = state

    @property
    def claims(self) -> Claims:
        """Every claim of the token."""
        return self._state.claims

    @property
    def header(self) -> Header:
        """The JOSE header (``alg``, ``typ``, ``kid``...)."""
        return self._state.header

    @property
    def token_type(self) -> str | None:
        """``"access"`` or ``"refresh"``."""
        value = self._state.claims.get("type")
        return value if isinstance(value, str) else None

    @property
    def sub(self) -> JSONValue:
        """The ``sub`` claim as stored in the token (a string unless ``JWT_VERIFY_SUB`` is off)."""
        value: JSONValue = self._state.claims.get("sub")
        return value

    @property
    def identity(self) -> Identity:
        """The identity claim, in its original type (see ``get_jwt_identity``)."""
        value: Identity = get_jwt_identity()
        return value

    @property
    def scope(self) -> Any:
        """The ``scope`` claim as stored (string, list or object), or ``None``."""
        return self._state.claims.get("scope")

    @property
    def scopes(self) -> frozenset[str]:
        """OAuth scope names granted by ``scope`` and ``scp``."""
        from .authorization import granted_scopes

        return granted_scopes(self._state.claims)

    @property
    def jti(self) -> str | None:
        value = self._state.claims.get("jti")
        return value if isinstance(value, str) else None

    @property
    def fresh(self) -> bool | float:
        value = self._state.claims.get("fresh", False)
        return value if isinstance(value, bool | int | float) else False

    @property
    def location(self) -> str | None:
        """Where the token was found: headers, cookies, query_string or json."""
        return self._state.location

    @property
    def signed(self) -> str | None:
        """The encoded token exactly as the client sent it."""
        return self._state.encoded

    def is_signed(self) -> bool:
        """Whether a verified token is present (``False`` on an optional miss)."""
        return self._state.encoded is not None

    def __repr__(self) -> str:
        return f"<CurrentToken type={self.token_type!r} location={self.location!r}>"


def get_current_token() -> CurrentToken:
    """The current request's token object; raises outside a protected request."""
    return CurrentToken(_verified())


current_token: CurrentToken = LocalProxy(get_current_token)  # type: ignore[assignment]


def current_user_context_processor() -> dict[str, Any]:
    return {"current_user": get_current_user()}


# --- Identities stored as strings (JWT_IDENTITY_AS_STRING) ---------------------
#
# An identity that is not a string goes in the identity claim as text, and the
# private claim ``jwtx_idt`` (IDENTITY_TYPE_CLAIM) says how to read it back:
#
# * ``"int"``: ``str(user.id)``, read back with ``int()``;
# * ``"uuid"``: the UUID's canonical text, read back as a ``uuid.UUID``;
# * ``"json"``: any other JSON value (a list such as ``[namespace, name]``, a
#   dict, a float, a bool, ``None``) as compact JSON text with sorted keys,
#   read back with ``json.loads``. Sorted keys make one identity one text, so
#   ``revoke_all`` on a dict finds the tokens minted for it in any key order.
#   What JSON cannot tell apart comes back as JSON has it: a tuple as a list,
#   a UUID inside a list as its string (as Flask-JWT-Extended, which put the
#   value itself in the claim, gave it back).

_STRINGIFIABLE: Final[dict[type, str]] = {int: "int", uuid.UUID: "uuid"}
#: Identities stored as JSON text (``bool`` before ``int`` would matter, but
#: ``_STRINGIFIABLE`` matches exact types, so ``True`` is JSON, not an int).
_JSON_IDENTITIES: Final = (list, tuple, dict, float, bool, int, type(None))
JSON_KIND: Final = "json"


def stringify_identity(
    identity: Any, json_default: Callable[[Any], Any] | None = None
) -> tuple[str, str] | None:
    """``(text, kind)`` for an identity that round-trips through a string, else ``None``.

    ``json_default`` writes the values inside a list or dict that JSON has no
    type for (the app's JSON provider does it for the app's responses). A
    container it cannot write is ``None``, like any other type.
    """
    kind = _STRINGIFIABLE.get(type(identity))
    if kind is not None:
        return str(identity), kind
    if not isinstance(identity, _JSON_IDENTITIES):
        return None
    try:
        text = json.dumps(identity, default=json_default, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None
    return text, JSON_KIND


def restore_identity(text: str, kind: str) -> Any:
    """The identity ``stringify_identity`` stored as ``text``; ``text`` itself if unreadable."""
    try:
        if kind == "int":
            return int(text)
        if kind == "uuid":
            return uuid.UUID(text)
        if kind == JSON_KIND:
            return json.loads(text)
    except (ValueError, RecursionError):
        pass
    return text
