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

Logging out must work when it matters most: after the access token has
expired (a tab left open past ``JWT_ACCESS_TOKEN_EXPIRES``), while the
refresh token would still mint new ones for weeks. So the logout endpoints
take the refresh token too (in cookie mode the refresh cookie with its own
CSRF value; in header mode the ``Authorization`` header's token of either
kind, or ``refresh_token`` in a JSON body), and an expired token whose
signature verifies, when its session is still live. Each token goes through
the pipeline's locate step (``pipeline.locate_dpop``), so the logouts apply
``JWT_DPOP`` as every route does: a DPoP-bound token ends its session only
under ``Authorization: DPoP`` with a proof of its key, and where DPoP is
"required" a bearer token ends nothing. In cookie mode logout always
answers with the cookies cleared.

With ``JWT_DPOP = "required"``, a header-mode login must carry a DPoP proof
(401 ``invalid_dpop_proof`` otherwise, before the login callback runs), and
a cookie-mode blueprint is a ``ConfigurationError`` before the first request
(``resource_server.check_declared_routes``): cookies cannot be presented
under the ``DPoP`` scheme, so none of its routes could ever pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from flask import Blueprint, Request, Response, after_this_request, jsonify, request

from ...exceptions import (
    Claims,
    CrossSiteRequestError,
    JWTExtendedException,
    LoginRefusedError,
    NoAuthorizationError,
    SessionNotFoundError,
    UnsupportedContentTypeError,
    WrongTokenError,
)
from . import pipeline
from .authorization import RouteRequirement
from .context import get_jwt, get_jwt_identity
from .cookies import set_access_cookies, set_refresh_cookies, unset_jwt_cookies
from .decorators import jwt_required
from .resource_server import dpop_binding
from .revocation_api import revoke_all_claimed, revoke_token, rotate_refresh_token
from .sessions import create_token_pair, end_all_of, end_session_of, sessions_of
from .state import get_state

#: The login callback: the request in, an identity out (``None``: refused).
LoginCallback = Callable[[Request], Any]

#: Where logout looks for tokens, in order: (location, the kind it must be).
_Source = tuple[str, str | None]
_COOKIE_SOURCES: Final[tuple[_Source, ...]] = (
    ("cookies", "access"),
    ("cookies", "refresh"),
)
_HEADER_SOURCES: Final[tuple[_Source, ...]] = (
    ("headers", None),  # either kind: a client may log out with its refresh token
    ("json", "refresh"),  # {"refresh_token": ...}, beside an access token or alone
)
#: ``Sec-Fetch-Site`` values of a request our own page (or the user) made.
_OWN_SITE: Final = frozenset({"same-origin", "none"})


def create_auth_blueprint(
    login: LoginCallback,
    *,
    mode: Literal["headers", "cookies"] = "headers",
    name: str = "jwtx_auth",
    fresh_login: bool = True,
    trusted_origins: Iterable[str] = (),
) -> Blueprint:
    """The auth endpoints as a blueprint; see the module docstring.

    ``login(request)`` checks credentials however the app does and returns
    the identity to log in (what ``create_access_token`` takes), or ``None``
    to refuse with a 401 (through ``unauthorized_loader``); it may also raise.
    Needs ``JWT_REVOCATION_STORE``; set ``JWT_REFRESH_TOKEN_ROTATION = True``
    for reuse detection.

    In cookie mode, login takes a JSON body only (415 otherwise), and login
    and logout refuse a request the browser marks as sent by another site
    (403): ``Sec-Fetch-Site`` other than ``same-origin``, or else an
    ``Origin`` naming another host. ``trusted_origins`` (e.g.
    ``["https://app.example.com"]``) are pages on other origins allowed to
    call them, such as a front end on a sibling subdomain.
    """
    if mode not in ("headers", "cookies"):
        raise ValueError(f"mode must be 'headers' or 'cookies', not {mode!r}")
    views = _AuthViews(login, mode, fresh_login, _origins(trusted_origins))
    where = ["cookies"] if views.cookies else ["headers"]
    blueprint = Blueprint(name, __name__)
    blueprint.add_url_rule("/login", "login", views.login, methods=["POST"])
    # Logout verifies what it is given itself: an expired token, or the refresh
    # token, is enough to end a session (see the module docstring).
    blueprint.add_url_rule("/logout", "logout", views.logout, methods=["POST"])
    blueprint.add_url_rule(
        "/logout/everywhere", "logout_everywhere", views.everywhere, methods=["POST"]
    )
    protected: list[tuple[str, str, Callable[..., Response], str, dict[str, Any]]] = [
        ("/refresh", "refresh", views.refresh, "POST", {"refresh": True}),
        ("/sessions", "sessions", views.sessions, "GET", {}),
        ("/sessions/<session_id>", "end_session", views.end_session, "DELETE", {}),
        ("/me", "me", views.me, "GET", {}),
    ]
    for rule, endpoint, view, method, options in protected:
        guarded = jwt_required(locations=where, **options)(view)
        blueprint.add_url_rule(rule, endpoint, guarded, methods=[method])
    return blueprint


def _origins(given: Iterable[str]) -> frozenset[str]:
    """``trusted_origins`` checked once: each ``scheme://host[:port]``, nothing more."""
    if isinstance(given, str):
        raise TypeError("trusted_origins must be a list of origins, not one string")
    origins: set[str] = set()
    for origin in given:
        parts = urlsplit(origin) if isinstance(origin, str) else None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError(
                f"trusted_origins: {origin!r} is not an origin; use 'https://host[:port]'"
            )
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return frozenset(origins)


class _AuthViews:
    """The blueprint's views, sharing its mode."""

    def __init__(
        self, login: LoginCallback, mode: str, fresh_login: bool, trusted: frozenset[str]
    ) -> None:
        self._login = login
        self.mode = mode
        self.cookies = mode == "cookies"
        self._fresh = fresh_login
        self._trusted = trusted

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
        return _owner_of(get_jwt())

    # -- Cross-site requests (cookie mode) ------------------------------------------

    def _refuse_cross_site(self, what: str) -> None:
        """Raise if the browser says another site sent this request (cookie mode only).

        Cookies ride along on a cross-site form post, so a foreign page could
        log the victim into the attacker's account (login CSRF) or out of
        their own. Browsers say where a request comes from: ``Sec-Fetch-Site``
        (trusted when present: it survives proxies that rewrite ``Host``),
        else ``Origin``. A request with neither is not a browser's, or an old
        one's; the JSON-only login still holds there.
        """
        if not self.cookies:
            return
        origin = request.headers.get("Origin")
        if origin is not None and origin.rstrip("/").lower() in self._trusted:
            return
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None:
            if site.strip().lower() in _OWN_SITE:
                return
        elif origin is None or _netloc(origin) == request.host.lower():
            return
        raise CrossSiteRequestError(f"Cross-site {what} refused")

    # -- Views ------------------------------------------------------------------------

    def login(self) -> Response:
        self._refuse_cross_site("login")
        if self.cookies and not request.is_json:
            # What an HTML form can send (urlencoded, multipart, text/plain)
            # never reaches the login callback in cookie mode.
            raise UnsupportedContentTypeError(
                "Login takes a JSON body here (Content-Type: application/json)"
            )
        # The proof first: a login that could get no usable tokens (no proof
        # where DPoP is required, a bad or replayed proof, no nonce yet)
        # never reaches the app's password check, and mints nothing.
        binding = self._dpop_binding()
        identity = self._login(request)
        if identity is None:
            raise LoginRefusedError("Bad username or password")
        access, refresh = create_token_pair(identity, fresh=self._fresh, additional_claims=binding)
        body: dict[str, Any] = {"login": True}
        if binding:
            body["token_type"] = "DPoP"  # RFC 9449: how the client presents them
        return self._tokens(access, refresh, body)

    def _dpop_binding(self) -> dict[str, Any] | None:
        """``cnf.jkt`` claims when a header-mode login carries a DPoP proof and DPoP is on.

        The pair is then bound to the proof's key (RFC 9449): every route
        refuses both tokens as bearer tokens, and refresh rotation keeps the
        binding. With ``JWT_DPOP = "required"`` the proof is mandatory
        (``InvalidDPoPProofError``, 401, without one): an unbound pair would
        be refused by every route, yet count as a session. A proof is ignored
        with ``JWT_DPOP = "off"`` (nothing would accept the bound tokens) and
        in cookie mode, where tokens travel in cookies, not under the
        ``DPoP`` scheme (a cookie-mode blueprint in a required-DPoP app does
        not start: see the module docstring).
        """
        if self.cookies:
            return None
        mode = get_state().settings.get().resource.dpop.mode
        if mode == "off" or (mode == "allowed" and "DPoP" not in request.headers):
            return None
        return dpop_binding()

    def refresh(self) -> Response:
        access, refresh = rotate_refresh_token()
        return self._tokens(access, refresh, {"refreshed": True})

    def logout(self) -> Response:
        self._refuse_cross_site("logout")
        proven = self._presented(needed=False)
        ended: list[str] = []
        for claims, expired in proven:
            family = claims.get("fam")
            if family in ended:
                continue  # the access and the refresh cookie of one session
            if isinstance(family, str) and end_session_of(*_owner_of(claims), family, "logout"):
                ended.append(family)
            elif not expired:
                revoke_token(claims)  # a token outside any session: revoke it alone
        # Cookie mode: _presented has the cookies cleared on this answer.
        return jsonify(logout=True, session=ended[0] if ended else None)

    def everywhere(self) -> Response:
        self._refuse_cross_site("logout")
        owners: list[tuple[Any, Any]] = []
        for claims, _ in self._presented(needed=True):
            if _owner_of(claims) not in owners:
                owners.append(_owner_of(claims))
        count = 0
        for issuer, claimed in owners:
            count += len(end_all_of(issuer, claimed, "everywhere"))
            # And every token outside the registry too (older logins, other code paths).
            revoke_all_claimed(claimed, issuer)
        return jsonify(logout=True, sessions_ended=count)

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

    # -- What logout is given ---------------------------------------------------------

    def _presented(self, *, needed: bool) -> list[tuple[Claims, bool]]:
        """The tokens this request proves, each with whether it has expired.

        Every source of the mode is tried (cookie mode: the access cookie,
        then the refresh cookie; header mode: the ``Authorization`` header,
        then a JSON body's refresh token). In cookie mode the cookies are
        cleared on whatever answer follows, an error included. With nothing
        proven, the first refusal is raised (a forged or revoked token, a
        missing or wrong CSRF value); with nothing presented at all, an
        empty list in cookie mode unless ``needed`` (the browser is already
        logged out), else the first source's :class:`NoAuthorizationError`.
        """
        if self.cookies:
            after_this_request(_clear_cookies)
        proven: list[tuple[Claims, bool]] = []
        refused: list[JWTExtendedException] = []
        missing: list[NoAuthorizationError] = []
        for source in _COOKIE_SOURCES if self.cookies else _HEADER_SOURCES:
            try:
                proven.append(_verify(*source))
            except NoAuthorizationError as nothing:
                missing.append(nothing)
            except JWTExtendedException as error:
                refused.append(error)
        if proven:
            return proven
        if refused:
            raise refused[0]
        if self.cookies and not needed:
            return []
        raise missing[0]


#: What logout asks of the token at each source: its kind (``None``: either).
_KINDS: Final = {
    "access": RouteRequirement(),
    "refresh": RouteRequirement(refresh=True),
    None: RouteRequirement(verify_type=False),
}


def _verify(location: str, kind: str | None) -> tuple[Claims, bool]:
    """The token at ``location`` through the request pipeline, expiry aside.

    The pipeline's locate step (the DPoP mode: a DPoP-bound token only under
    ``Authorization: DPoP`` with the request's proof, checked and its
    ``jti`` used once; a bearer token refused where DPoP is required; a
    bound token refused anywhere else, or whoever copied it could log its
    owner out), its decode step (signature, algorithm, every registered
    claim, the CSRF double submit of a cookie, a subclass's decode hook) and
    its checks (type, the revocation store, the app's blocklist and claims
    verification loaders), without the user lookup. An expired token is
    accepted only while its session is live: a token of a session ended
    earlier, or of none, proves nothing once expired (the store's records
    about it may be gone by then). Returns the claims and whether the token
    has expired.
    """
    state = get_state()
    settings = state.settings.get()
    requirement = dataclasses.replace(_KINDS[kind], locations=(location,))
    found = pipeline.locate_dpop(state, settings, requirement, allow_expired=True)
    claims = found.claims
    if kind is None and claims.get("type", "access") not in ("access", "refresh"):
        raise WrongTokenError("Only access or refresh tokens are allowed here")
    pipeline.check(state.callbacks, settings, found, requirement, None, load_user=False)
    if found.expired is not None and not _in_live_session(claims):
        raise found.expired
    return claims, found.expired is not None


def _in_live_session(claims: Claims) -> bool:
    family = claims.get("fam")
    return isinstance(family, str) and any(s.id == family for s in sessions_of(*_owner_of(claims)))


def _owner_of(claims: Claims) -> tuple[Any, Any]:
    """Whose token: its issuer and identity claim, the keys its sessions are under."""
    return claims.get("iss"), claims.get(get_state().settings.get().identity_claim)


def _netloc(origin: str) -> str:
    """The ``host[:port]`` of an ``Origin`` header (empty for ``null`` or junk)."""
    try:
        return urlsplit(origin.strip()).netloc.lower()
    except ValueError:
        return ""


def _clear_cookies(response: Response) -> Response:
    unset_jwt_cookies(response)
    return response
