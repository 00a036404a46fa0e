"""Declarative authorization: what a route requires its token to hold.

A route states its requirements once, in the decorator::

    @app.get("/users/<username>/orders")
    @jwt_required(claims={"sub": route_var("username")}, override={"admin": True})
    def orders(username): ...

    @app.delete("/reports/<int:report_id>")
    @jwt_required(scope="reports:write", claims={"org": {"plan": "pro"}})
    def delete_report(report_id): ...

Three kinds of requirement:

``claims``
    A mapping of claim name to required value. A literal (string, number,
    boolean, ``None``) must be equal, with booleans never equal to numbers; a
    dict requires every one of its keys, recursively; a list requires the
    token's claim to be a list holding every listed item; a
    :func:`route_var` requires the value of that URL variable (so a literal
    can never be mistaken for a variable name).
``scope``
    OAuth 2.0 scopes, as a space-separated string or a list: every one must be
    granted by the token's ``scope`` (space-separated string or list) or
    ``scp`` (list or string) claim. A mapping instead is matched against a
    ``scope`` claim that is an object, the way Flask_PyJWT stores scopes.
``override``
    A mapping matched like ``claims``; a token that satisfies it skips the
    ``claims`` and ``scope`` requirements (an admin reaching every user's route).

A failure raises :class:`AuthorizationError` (a 403) naming the requirement
that failed, never the token's values.

Two more say how the user signed in (RFC 9470 step-up authentication), and
no override lifts them: ``max_age`` (seconds, or a ``timedelta``) requires
an ``auth_time`` claim no older than that, ``acr`` (one value or a list)
an ``acr`` claim among those values. A failure raises
:class:`InsufficientUserAuthenticationError` (a 401, whose challenge tells
the client to sign the user in again).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from ...exceptions import (
    AuthorizationError,
    Claims,
    ConfigurationError,
    InsufficientUserAuthenticationError,
)
from ..jose.claims import is_number

__all__ = [
    "REQUIREMENT_ATTRIBUTE",
    "AuthorizationError",
    "Requirements",
    "RouteRequirement",
    "RouteVar",
    "declared_requirements",
    "granted_scopes",
    "route_var",
]


@dataclass(frozen=True, slots=True)
class RouteVar:
    """A requirement whose value is the named URL variable of the request."""

    name: str


def route_var(name: str) -> RouteVar:
    """Require a claim to equal the URL variable ``name`` (``<name>`` in the rule)."""
    if not isinstance(name, str) or not name:
        raise TypeError("route_var() takes the name of a URL variable")
    return RouteVar(name)


_SCALARS: Final = (str, int, float, bool, type(None))


def _validate(requirement: Any, where: str) -> None:
    """Refuse, at declaration time, requirements that could never be matched."""
    if isinstance(requirement, (RouteVar, *_SCALARS)):
        return
    if isinstance(requirement, Mapping):
        for key, value in requirement.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: claim names must be strings, got {key!r}")
            _validate(value, f"{where}[{key!r}]")
        return
    if isinstance(requirement, list | tuple):
        for item in requirement:
            _validate(item, f"{where}[]")
        return
    raise TypeError(f"{where}: {type(requirement).__name__} is not a JSON value or route_var()")


def _same_scalar(required: Any, actual: Any) -> bool:
    # JSON has one number type but a separate boolean: True must not satisfy 1.
    if isinstance(required, bool) or isinstance(actual, bool):
        return type(required) is type(actual) and required == actual
    return bool(required == actual)


def _route_value(variable: RouteVar, view_args: Mapping[str, Any]) -> Any:
    try:
        return view_args[variable.name]
    except KeyError:
        raise ConfigurationError(
            f"route_var({variable.name!r}) names no variable of this route's URL rule; "
            f"its variables are {sorted(view_args) or 'none'}"
        ) from None


def _matches(required: Any, actual: Any, view_args: Mapping[str, Any]) -> bool:
    if isinstance(required, RouteVar):
        value = _route_value(required, view_args)
        if _same_scalar(value, actual):
            return True
        # <int:user_id> against a string "sub" (RFC 7519 makes sub a string).
        return isinstance(value, int) and not isinstance(value, bool) and actual == str(value)
    if isinstance(required, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and _matches(value, actual[key], view_args)
            for key, value in required.items()
        )
    if isinstance(required, list | tuple):
        return isinstance(actual, list) and all(
            any(_matches(item, candidate, view_args) for candidate in actual) for item in required
        )
    return _same_scalar(required, actual)


def _refuse_vacuous(condition: Any, path: str) -> None:
    """An empty list or mapping inside an override would grant any token that has the claim."""
    if isinstance(condition, Mapping):
        for key, value in condition.items():
            _refuse_vacuous(value, f"{path}[{key!r}]")
        return
    if isinstance(condition, list | tuple):
        if not condition:
            raise ValueError(
                f"{path} is empty: it would match every token carrying the claim and lift "
                "the route's requirements. Name the values the override needs."
            )
        for index, item in enumerate(condition):
            _refuse_vacuous(item, f"{path}[{index}]")
        return


#: RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated
#: by U+0020 only. ``str.split()`` would also split on NBSP, tabs or U+001F, so
#: that a granted "read\u00a0admin" became "admin".
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def _split_scopes(value: str) -> list[str]:
    return [name for name in value.split(" ") if name]


def _scope_names(value: str | Iterable[str]) -> tuple[str, ...]:
    names = tuple(_split_scopes(value)) if isinstance(value, str) else tuple(value)
    if not names or not all(isinstance(n, str) and _SCOPE_TOKEN.fullmatch(n) for n in names):
        raise TypeError(
            "scope must be a space-separated string or a list of scope names "
            "(printable ASCII without spaces, quotes or backslashes, RFC 6749 section 3.3)"
        )
    return names


def granted_scopes(claims: Claims) -> frozenset[str]:
    """The OAuth scopes a token grants, from ``scope`` and ``scp``, string or list.

    Only U+0020 separates scopes in a string; an entry that is not a valid
    scope token (RFC 6749 section 3.3) grants nothing, so no Unicode space
    or control character can smuggle a second scope into one.
    """
    granted: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            candidates: list[Any] = _split_scopes(value)
        elif isinstance(value, list):
            candidates = value
        else:
            continue
        granted.update(v for v in candidates if isinstance(v, str) and _SCOPE_TOKEN.fullmatch(v))
    return frozenset(granted)


@dataclass(frozen=True, slots=True)
class Requirements:
    """A route's validated requirements; see the module docstring."""

    claims: Mapping[str, Any] | None = None
    scopes: tuple[str, ...] | None = None
    #: A JSON value the ``scope`` claim itself must match (Flask_PyJWT's form).
    scope_object: Any = None
    override: Mapping[str, Any] | None = None
    #: Step-up (RFC 9470): the oldest ``auth_time`` accepted, in seconds ago.
    max_age: int | None = None
    #: Step-up (RFC 9470): the ``acr`` values accepted.
    acr: tuple[str, ...] | None = None

    @classmethod
    def build(
        cls,
        claims: Mapping[str, Any] | None,
        scope: str | Sequence[str] | Mapping[str, Any] | None,
        override: Mapping[str, Any] | None,
        max_age: int | timedelta | None = None,
        acr: str | Sequence[str] | None = None,
    ) -> Requirements | None:
        """Validate a decorator's arguments; ``None`` when nothing is required."""
        if override is not None and isinstance(override, Mapping) and not override:
            # An empty override would match every token and lift the route's
            # requirements: ``override=config.get("ADMIN", {})`` means "none".
            override = None
        seconds = _max_age(max_age)
        acr_values = _acr_values(acr)
        nothing = (claims, scope, override, seconds, acr_values)
        if all(value is None for value in nothing):
            return None
        for name, value in (("claims", claims), ("override", override)):
            if value is not None:
                if not isinstance(value, Mapping):
                    raise TypeError(f"{name} must be a mapping of claim name to value")
                _validate(value, name)
        if override is not None:
            _refuse_vacuous(override, "override")
        scopes = scope_object = None
        if isinstance(scope, Mapping):
            _validate(scope, "scope")
            scope_object = dict(scope)
        elif scope is not None:
            scopes = _scope_names(scope)
        return cls(
            claims=dict(claims) if claims is not None else None,
            scopes=scopes,
            scope_object=scope_object,
            override=dict(override) if override is not None else None,
            max_age=seconds,
            acr=acr_values,
        )

    def check(self, header: dict[str, Any], claims: Claims, view_args: Mapping[str, Any]) -> None:
        """Raise :class:`AuthorizationError` unless ``claims`` meet the requirements.

        Step-up requirements first, as :class:`InsufficientUserAuthenticationError`:
        an override says who may act, not how recently they signed in.
        """
        if self.max_age is not None or self.acr is not None:
            self._check_authentication(header, claims)
        if self.override is not None and _matches(self.override, claims, view_args):
            return
        if self.claims is not None:
            for name, required in self.claims.items():
                if name not in claims:
                    raise AuthorizationError(f"Missing required claim: {name}", header, claims)
                if not _matches(required, claims[name], view_args):
                    # Name the claim, never the token's value for it.
                    raise AuthorizationError(
                        f"Claim does not match the requirement: {name}", header, claims
                    )
        if self.scopes is not None:
            granted = granted_scopes(claims)
            missing = [s for s in self.scopes if s not in granted]
            if missing:
                raise AuthorizationError(
                    f"Missing required scope: {' '.join(missing)}", header, claims, "scope"
                )
        if self.scope_object is not None and not _matches(
            self.scope_object, claims.get("scope"), view_args
        ):
            raise AuthorizationError("Missing required scope(s)", header, claims, "scope")

    def _check_authentication(self, header: dict[str, Any], claims: Claims) -> None:
        def refuse(message: str) -> InsufficientUserAuthenticationError:
            return InsufficientUserAuthenticationError(
                message, header, claims, max_age=self.max_age, acr_values=self.acr
            )

        if self.max_age is not None:
            auth_time = claims.get("auth_time")
            if not is_number(auth_time):
                raise refuse("The token does not say when the user signed in (auth_time)")
            if time.time() - auth_time > self.max_age:
                raise refuse("The user signed in too long ago for this route")
        if self.acr is not None and claims.get("acr") not in self.acr:
            raise refuse("The user did not sign in strongly enough for this route (acr)")


def _max_age(value: int | timedelta | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = int(value.total_seconds())
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("max_age must be a number of seconds >= 0 or a timedelta")
    return value


def _acr_values(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    values = (value,) if isinstance(value, str) else tuple(value)
    if not values or not all(isinstance(v, str) and v for v in values):
        raise TypeError("acr must be a non-empty string or a list of them")
    return values


#: The attribute ``jwt_required`` sets on the view it returns (and on itself,
#: for ``method_decorators`` lists): a tuple of :class:`RouteRequirement`,
#: outermost first. ``functools.wraps`` copies it to any decorator stacked above.
REQUIREMENT_ATTRIBUTE: Final = "__jwt_requirements__"


@dataclass(frozen=True, slots=True)
class RouteRequirement:
    """What one ``jwt_required`` declaration asks of a request, as plain data.

    Built once when the route is declared and attached to the view, so that
    documentation (:mod:`flask_jwtx.openapi`) reads the same declaration the
    request path enforces instead of a second, hand-written copy that drifts.
    The request path never reads it: it costs nothing per request.
    """

    optional: bool = False
    fresh: bool = False
    refresh: bool = False
    #: The route's own ``locations``; ``None``: the app's ``JWT_TOKEN_LOCATION``.
    locations: tuple[str, ...] | None = None
    verify_type: bool = True
    skip_revocation_check: bool = False
    authorization: Requirements | None = None
    #: The route's own DPoP mode ("off", "allowed", "required"); ``None``: ``JWT_DPOP``.
    dpop: str | None = None


def declared_requirements(view: object) -> tuple[RouteRequirement, ...]:
    """The requirements ``jwt_required`` declared on ``view`` (outermost first); ``()`` if none."""
    found = getattr(view, REQUIREMENT_ATTRIBUTE, ())
    if not isinstance(found, tuple):
        return ()
    return tuple(r for r in found if isinstance(r, RouteRequirement))
