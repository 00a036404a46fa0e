"""Finding the encoded token in a request: headers, cookies, query string, JSON.

Each extractor returns ``(token, csrf_value)`` or raises
:class:`~flask_jwtx.exceptions.NoAuthorizationError` when its location holds
no token (the caller then tries the next location). Messages match the
Flask-JWT-Extended's, typos included ("paramater"), because clients match on them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from flask import request

from ...exceptions import (
    CSRFError,
    InvalidHeaderError,
    InvalidQueryParamError,
    NoAuthorizationError,
)
from ..config.readers import LOCATIONS
from ..config.settings import CookieSettings, Settings

logger = logging.getLogger("flask_jwtx")
Extracted = tuple[Any, str | None]
Extractor = Callable[[Settings, bool], Extracted]

_COMMA = re.compile(r",\s*")
#: ``Bearer <JWT>``: the type, then the token.
_TYPE_AND_TOKEN = 2


def from_headers(settings: Settings, _refresh: bool) -> Extracted:
    name = settings.header_name
    kind = settings.header_type
    # Stripped again after the commas: ", ," must be "missing", not a blank credential.
    value = request.headers.get(name, "").strip().strip(",").strip()
    if not value:
        raise NoAuthorizationError(f"Missing {name} Header")
    if not kind:
        parts = value.split()
        if len(parts) != 1:
            raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: <JWT>'")
        return parts[0], None
    if "," in value:
        # Several comma-separated credentials: exactly one must be of our type.
        matches = [v for v in _COMMA.split(value) if v.split()[:1] == [kind]]
        if len(matches) != 1:
            raise _missing_type(name, kind)
        value = matches[0]
    parts = value.split()
    if parts[:1] != [kind]:
        raise _missing_type(name, kind)
    if len(parts) != _TYPE_AND_TOKEN:
        raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: {kind} <JWT>'")
    return parts[1], None


def _missing_type(name: str, kind: str) -> NoAuthorizationError:
    return NoAuthorizationError(
        f"Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'"
    )


def from_cookies(settings: Settings, refresh: bool) -> Extracted:
    cookie = settings.cookies_for(refresh)
    token = request.cookies.get(cookie.name)
    if not token:
        raise NoAuthorizationError(f'Missing cookie "{cookie.name}"')
    if not (settings.csrf_protect and request.method in settings.csrf_methods):
        return token, None
    csrf = request.headers.get(cookie.csrf_header)
    if not csrf and settings.csrf_check_form:
        csrf = request.form.get(cookie.csrf_field)
    if not csrf:
        _log_missing_csrf(settings, cookie)
        raise CSRFError("Missing CSRF token")
    return token, csrf


def _log_missing_csrf(settings: Settings, cookie: CookieSettings) -> None:
    """Say, for the developer, where the CSRF value was looked for (the body stays terse).

    The client's answer is Flask-JWT-Extended's "Missing CSRF token"; what a
    developer needs to fix the client (which header, copied from which
    cookie) goes to the debug log, names only, never values.
    """
    if not logger.isEnabledFor(logging.DEBUG):
        return
    form = f" or the {cookie.csrf_field!r} form field" if settings.csrf_check_form else ""
    sent = "was sent" if cookie.csrf_name in request.cookies else "was not sent either"
    logger.debug(
        "Missing CSRF token on %s %r: a token in the %r cookie needs the %r header%s, "
        "carrying the value of the %r cookie (which %s).",
        request.method,
        request.path,
        cookie.name,
        cookie.csrf_header,
        form,
        cookie.csrf_name,
        sent,
    )


def from_query_string(settings: Settings, _refresh: bool) -> Extracted:
    name = settings.query_string_name
    prefix = settings.query_string_value_prefix
    value = request.args.get(name)
    if not value:
        raise NoAuthorizationError(f"Missing '{name}' query paramater")
    if not value.startswith(prefix):
        raise InvalidQueryParamError(
            f"Invalid value for query parameter '{name}'. "
            f"Expected the value to start with '{prefix}'"
        )
    return value[len(prefix) :], None


def from_json(settings: Settings, refresh: bool) -> Extracted:
    if not request.is_json:
        raise NoAuthorizationError("Invalid content-type. Must be application/json.")
    key = settings.cookies_for(refresh).json_key
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser's stack: not a usable body
        body = None
    token = body.get(key) if isinstance(body, dict) else None
    if not token:
        raise NoAuthorizationError(f'Missing "{key}" key in json data.')
    return token, None


EXTRACTORS: dict[str, Extractor] = {
    "headers": from_headers,
    "cookies": from_cookies,
    "query_string": from_query_string,
    "json": from_json,
}


def normalize(locations: str | Any | None) -> tuple[str, ...] | None:
    """Validate a per-route ``locations`` argument when the route is declared."""
    if locations is None:
        return None
    names = (locations,) if isinstance(locations, str) else tuple(locations)
    if not names:
        return None
    for name in names:
        if name not in EXTRACTORS:
            raise ValueError(f"{name!r} is not a valid token location; use {', '.join(LOCATIONS)}")
    return names


def missing_message(locations: tuple[str, ...], errors: list[str]) -> str:
    if len(locations) == 1:
        return errors[0]
    return f"Missing JWT in {', '.join(locations[:-1])} or {locations[-1]} ({'; '.join(errors)})"
