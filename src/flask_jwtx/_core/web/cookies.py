"""Setting and clearing the token cookies and their CSRF companions.

The token cookie is ``HttpOnly`` (scripts cannot read it); the CSRF cookie is
not, because the page's script must copy it into the CSRF header: that copy
is what proves the request came from our own page (double submit).
"""

from __future__ import annotations

from flask import Response

from ..config.settings import CookieSettings, Settings
from .decoding import get_csrf_token
from .state import get_state


def set_access_cookies(
    response: Response,
    encoded_access_token: str,
    max_age: int | None = None,
    domain: str | None = None,
) -> None:
    """Put an access token (and its CSRF cookie, if enabled) on ``response``."""
    _set(response, encoded_access_token, False, max_age, domain)


def set_refresh_cookies(
    response: Response,
    encoded_refresh_token: str,
    max_age: int | None = None,
    domain: str | None = None,
) -> None:
    """Put a refresh token (and its CSRF cookie, if enabled) on ``response``."""
    _set(response, encoded_refresh_token, True, max_age, domain)


def unset_access_cookies(response: Response, domain: str | None = None) -> None:
    """Expire the access token cookie and its CSRF cookie."""
    _unset(response, False, domain)


def unset_refresh_cookies(response: Response, domain: str | None = None) -> None:
    """Expire the refresh token cookie and its CSRF cookie."""
    _unset(response, True, domain)


def unset_jwt_cookies(response: Response, domain: str | None = None) -> None:
    """Expire every token cookie: what a logout does."""
    unset_access_cookies(response, domain)
    unset_refresh_cookies(response, domain)


def _csrf_cookie_enabled(settings: Settings) -> bool:
    return settings.csrf_protect and settings.csrf_in_cookies


def _set(
    response: Response, token: str, refresh: bool, max_age: int | None, domain: str | None
) -> None:
    settings = get_state().settings.get()
    names = settings.cookies_for(refresh)
    age = max_age or settings.cookie_max_age
    _cookie(response, settings, names.name, token, names.path, True, age, domain)
    if _csrf_cookie_enabled(settings):
        csrf = get_csrf_token(token)
        _cookie(response, settings, names.csrf_name, csrf, names.csrf_path, False, age, domain)


def _unset(response: Response, refresh: bool, domain: str | None) -> None:
    settings = get_state().settings.get()
    names: CookieSettings = settings.cookies_for(refresh)
    _cookie(response, settings, names.name, "", names.path, True, None, domain, expire=True)
    if _csrf_cookie_enabled(settings):
        _cookie(
            response,
            settings,
            names.csrf_name,
            "",
            names.csrf_path,
            False,
            None,
            domain,
            expire=True,
        )


def _cookie(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    path: str,
    httponly: bool,
    max_age: int | None,
    domain: str | None,
    *,
    expire: bool = False,
) -> None:
    response.set_cookie(
        name,
        value=value,
        max_age=max_age,
        expires=0 if expire else None,
        secure=settings.cookie_secure,
        httponly=httponly,
        domain=domain or settings.cookie_domain,
        path=path,
        samesite=settings.cookie_samesite,
    )
