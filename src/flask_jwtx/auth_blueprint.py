"""Ready-made auth endpoints, opt-in: ``create_auth_blueprint(login=...)``.

The app keeps its own login check (a callback given the request, returning
the identity or ``None`` to refuse) and registers the blueprint::

    app.register_blueprint(create_auth_blueprint(login=check_password), url_prefix="/auth")

Endpoints (paths relative to the blueprint's prefix):

* ``POST /login``: a new session (``create_token_pair``);
* ``POST /refresh``: rotate the refresh token (``rotate_refresh_token``);
* ``POST /logout``: end this session; ``POST /logout/everywhere``: every one;
* ``GET /sessions``: this identity's sessions; ``DELETE /sessions/<id>``: end one of them;
* ``GET /me``: who the token says you are, and its claims.

In ``"headers"`` mode tokens are returned in the JSON body; in ``"cookies"``
mode they are set as HttpOnly cookies (with their CSRF cookies) and never
appear in a body, and only cookies are accepted. Errors are raised as
flask-jwtx errors, so the app's loaders answer them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from flask import Blueprint, Request, Response, jsonify, request

from .context import get_jwt, get_jwt_identity
from .cookies import set_access_cookies, set_refresh_cookies, unset_jwt_cookies
from .decorators import jwt_required
from .exceptions import LoginRefusedError, SessionNotFoundError
from .revocation.api import revoke_all_claimed, revoke_token, rotate_refresh_token
from .sessions import create_token_pair, end_all_of, end_session_of, sessions_of
from .state import get_state

#: The login callback: the request in, an identity out (``None``: refused).
LoginCallback = Callable[[Request], Any]


def create_auth_blueprint(
    login: LoginCallback,
    *,
    mode: Literal["headers", "cookies"] = "headers",
    name: str = "jwtx_auth",
    fresh_login: bool = True,
) -> Blueprint:
    """The auth endpoints as a blueprint; see the module docstring.

    ``login(request)`` checks credentials however the app does and returns
    the identity to log in (what ``create_access_token`` takes), or ``None``
    to refuse with a 401 (through ``unauthorized_loader``); it may also raise.
    Needs ``JWT_REVOCATION_STORE``; set ``JWT_REFRESH_TOKEN_ROTATION = True``
    for reuse detection.
    """
    if mode not in ("headers", "cookies"):
        raise ValueError(f"mode must be 'headers' or 'cookies', not {mode!r}")
    views = _AuthViews(login, mode, fresh_login)
    where = ["cookies"] if views.cookies else ["headers"]
    blueprint = Blueprint(name, __name__)
    blueprint.add_url_rule("/login", "login", views.login, methods=["POST"])
    protected: list[tuple[str, str, Callable[..., Response], str, dict[str, Any]]] = [
        ("/refresh", "refresh", views.refresh, "POST", {"refresh": True}),
        ("/logout", "logout", views.logout, "POST", {"verify_type": False}),
        (
            "/logout/everywhere",
            "logout_everywhere",
            views.everywhere,
            "POST",
            {"verify_type": False},
        ),
        ("/sessions", "sessions", views.sessions, "GET", {}),
        ("/sessions/<session_id>", "end_session", views.end_session, "DELETE", {}),
        ("/me", "me", views.me, "GET", {}),
    ]
    for rule, endpoint, view, method, options in protected:
        guarded = jwt_required(locations=where, **options)(view)
        blueprint.add_url_rule(rule, endpoint, guarded, methods=[method])
    return blueprint


class _AuthViews:
    """The blueprint's views, sharing its mode."""

    def __init__(self, login: LoginCallback, mode: str, fresh_login: bool) -> None:
        self._login = login
        self.mode = mode
        self.cookies = mode == "cookies"
        self._fresh = fresh_login

    def _tokens(self, access: str, refresh: str, body: dict[str, Any]) -> Response:
        if self.cookies:
            response = jsonify(body)
            set_access_cookies(response, access)
            set_refresh_cookies(response, refresh)
            return response
        return jsonify({**body, "access_token": access, "refresh_token": refresh})

    def _logged_out(self, body: dict[str, Any]) -> Response:
        response = jsonify(body)
        if self.cookies:
            unset_jwt_cookies(response)
        return response

    @staticmethod
    def _owner() -> tuple[Any, Any]:
        claims = get_jwt()
        return claims.get("iss"), claims.get(get_state().settings.get().identity_claim)

    def login(self) -> Response:
        identity = self._login(request)
        if identity is None:
            raise LoginRefusedError("Bad username or password")
        access, refresh = create_token_pair(identity, fresh=self._fresh)
        return self._tokens(access, refresh, {"login": True})

    def refresh(self) -> Response:
        access, refresh = rotate_refresh_token()
        return self._tokens(access, refresh, {"refreshed": True})

    def logout(self) -> Response:
        claims = get_jwt()
        family = claims.get("fam")
        ended = isinstance(family, str) and end_session_of(*self._owner(), family, "logout")
        if not ended:
            revoke_token(claims)  # a token outside any session: revoke it alone
        return self._logged_out({"logout": True, "session": family if ended else None})

    def everywhere(self) -> Response:
        issuer, claimed = self._owner()
        ended = end_all_of(issuer, claimed, "everywhere")
        # And every token outside the registry too (older logins, other code paths).
        revoke_all_claimed(claimed, issuer)
        return self._logged_out({"logout": True, "sessions_ended": len(ended)})

    def sessions(self) -> Response:
        current = get_jwt().get("fam")
        listed = [{**s.as_dict(), "current": s.id == current} for s in sessions_of(*self._owner())]
        return jsonify(sessions=listed)

    def end_session(self, session_id: str) -> Response:
        if not end_session_of(*self._owner(), session_id, "logout"):
            raise SessionNotFoundError("Session not found")
        body: dict[str, Any] = {"ended": session_id}
        if session_id == get_jwt().get("fam"):
            return self._logged_out(body)
        return jsonify(body)

    def me(self) -> Response:
        claims = get_jwt()
        return jsonify(
            identity=get_jwt_identity(), session=claims.get("fam"), claims=claims, via=self.mode
        )
