"""A small API secured with flask-jwtx, on SQLite.

Run it with ``bash demo/run.sh`` (README). Endpoints:

* ``GET  /``                 a page that uses the API in cookie mode from a browser
* ``POST /login``            JSON ``{"username", "password"}`` -> access + refresh tokens (JSON)
* ``POST /login/cookies``    same credentials -> tokens in HttpOnly cookies + CSRF cookies
* ``POST /refresh``          refresh token (header or cookie) -> a NEW access and refresh
                             token; the old refresh token is used up (rotation), and
                             presenting it again revokes the whole family
* ``POST /logout``           ends the login (session) of the presented token, so
                             every token of it is refused, and clears cookies
* ``POST /logout/everywhere`` ends every login of this user: every token issued
                             to it so far is refused (``revoke_all``)
* ``GET  /me``               any valid access token
* ``POST /password``         fresh access tokens only (just logged in)
* ``/auth/...``              flask-jwtx's ready-made endpoints in cookie mode
                             (``create_auth_blueprint``): login, refresh, logout,
                             logout everywhere, sessions (list, end one), me
* ``POST /demo/other-device`` the demo plays your phone: it opens a second session
                             for the logged-in user on the server and keeps its tokens
                             there (the page only learns the session id)
* ``POST /demo/replay``      the demo plays a thief: it replays the refresh token
                             this session used up last, so reuse detection ends it
* ``/dpop/...``              the same ready-made endpoints in header mode, for the
                             page's DPoP panel: a login must carry a DPoP proof
                             (RFC 9449), and its tokens are bound to the proof's key
* ``GET  /dpop/profile``     a protected API that takes DPoP-bound tokens only

Every login is one session (``create_token_pair``): the page at ``/`` lists
them, ends them, and shows what reuse detection does to a session. Its DPoP
panel holds a key pair the browser cannot export and signs a proof for each
request, so a token copied out of the page is refused wherever else it is sent.

Users live in SQLite (standard library); revocations too, through flask-jwtx's
SQL store (``JWT_REVOCATION_STORE = "sqlite:///..."``) in the same file.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, g, jsonify, request
from werkzeug.security import check_password_hash, generate_password_hash

import flask_jwtx
from flask_jwtx import (
    create_auth_blueprint,
    create_token_pair,
    current_user,
    get_jwt,
    jwt_required,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
)
from flask_jwtx.exceptions import JWTExtendedException

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL
);
"""

DEMO_USERS = {"alice": "wonderland", "bob": "builder"}


def _db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect(g.db_path)
        g.db.row_factory = sqlite3.Row
    connection: sqlite3.Connection = g.db
    return connection


def init_db(path: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.executescript(SCHEMA)
        for name, password in DEMO_USERS.items():
            connection.execute(
                "INSERT OR IGNORE INTO users (username, password_hash) VALUES (?, ?)",
                (name, generate_password_hash(password)),
            )


def _defaults(secret: str | None) -> dict[str, Any]:
    """The demo's flask-jwtx settings (``create_app``'s keyword arguments override them)."""
    return {
        "JWT_SECRET_KEY": secret or os.environ.get("DEMO_JWT_SECRET") or secrets.token_urlsafe(48),
        "JWT_TOKEN_LOCATION": ["headers", "cookies"],
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
        "JWT_COOKIE_SAMESITE": "Lax",
        # Stores int user ids as strings in 'sub' and returns ints from get_jwt_identity().
        "JWT_IDENTITY_AS_STRING": True,
        "JWT_REFRESH_TOKEN_ROTATION": True,
        # No grace window: the page's "replay" button presents a used-up refresh
        # token a moment after its rotation, and that must show reuse detection.
        # Apps whose users keep several tabs keep a few seconds (the default, 10),
        # so tabs and retries racing one rotation do not end the session.
        "JWT_REFRESH_REUSE_GRACE": 0,
        # The sessions page shows the browser each session came from.
        "JWT_SESSION_METADATA": True,
        # The page's DPoP panel (/dpop/...): routes accept DPoP-bound tokens with
        # their proofs, and bearer tokens as before.
        "JWT_DPOP": "allowed",
        # Every proof must carry a nonce this server issued lately (DPoP-Nonce):
        # a proof cannot be made ahead of time. Several instances share one secret.
        "JWT_DPOP_NONCE_SECRET": (
            os.environ.get("DEMO_DPOP_NONCE_SECRET") or secrets.token_urlsafe(48)
        ),
    }


def create_app(db_path: str | None = None, secret: str | None = None, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(_defaults(secret), **config)
    path = db_path or str(Path(app.instance_path) / "demo.sqlite3")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    init_db(path)
    app.config["JWT_REVOCATION_STORE"] = f"sqlite:///{path}"
    jwt = flask_jwtx.JWTManager(app)

    @app.before_request
    def remember_db_path() -> None:
        g.db_path = path

    @app.teardown_appcontext
    def close_db(_error: BaseException | None) -> None:
        connection = g.pop("db", None)
        if connection is not None:
            connection.close()

    @jwt.user_lookup_loader
    def load_user(_header: dict[str, Any], claims: dict[str, Any]) -> sqlite3.Row | None:
        row: sqlite3.Row | None = (
            _db().execute("SELECT id, username FROM users WHERE id = ?", (int(claims["sub"]),))
        ).fetchone()
        return row

    def authenticate() -> sqlite3.Row | None:
        body = request.get_json(silent=True) or {}
        row: sqlite3.Row | None = (
            _db()
            .execute(
                "SELECT id, password_hash FROM users WHERE username = ?",
                (str(body.get("username", "")),),
            )
            .fetchone()
        )
        if row is None or not check_password_hash(row["password_hash"], str(body.get("password"))):
            return None
        return row

    @app.get("/")
    def index() -> Response:
        """A page that drives cookie mode from a browser (HttpOnly tokens, CSRF header)."""
        return app.send_static_file("index.html")

    @app.post("/login")
    def login() -> Any:
        user = authenticate()
        if user is None:
            return jsonify(msg="Bad username or password"), 401
        # One login, one session: both tokens carry its id.
        access_token, refresh_token = create_token_pair(user["id"], fresh=True)
        return jsonify(access_token=access_token, refresh_token=refresh_token)

    @app.post("/login/cookies")
    def login_cookies() -> Any:
        user = authenticate()
        if user is None:
            return jsonify(msg="Bad username or password"), 401
        access_token, refresh_token = create_token_pair(user["id"], fresh=True)
        response = jsonify(login=True)
        set_access_cookies(response, access_token)
        set_refresh_cookies(response, refresh_token)
        return response

    @app.post("/refresh")
    @jwt_required(refresh=True)
    def refresh() -> Any:
        access_token, refresh_token = flask_jwtx.rotate_refresh_token()
        if flask_jwtx.get_jwt_request_location() == "cookies":
            # Cookie mode: tokens only in HttpOnly cookies, never in the body.
            response = jsonify(refreshed=True)
            set_access_cookies(response, access_token)
            set_refresh_cookies(response, refresh_token)
            return response
        return jsonify(access_token=access_token, refresh_token=refresh_token)

    @app.post("/logout")
    @jwt_required(verify_type=False)
    def logout() -> Response:
        response = jsonify(msg=_end_this_login())
        unset_jwt_cookies(response)
        return response

    @app.post("/logout/everywhere")
    @jwt_required()
    def logout_everywhere() -> Response:
        flask_jwtx.revoke_all(flask_jwtx.get_jwt_identity())
        response = jsonify(msg="every session of this user is logged out")
        unset_jwt_cookies(response)
        return response

    @app.get("/me")
    @jwt_required()
    def me() -> Any:
        return jsonify(
            id=flask_jwtx.get_jwt_identity(),
            username=current_user["username"],
            fresh=get_jwt()["fresh"],
            via=flask_jwtx.get_jwt_request_location(),
        )

    @app.post("/password")
    @jwt_required(fresh=True)
    def change_password() -> Any:
        return jsonify(msg=f"password change allowed for {current_user['username']}")

    _add_auth(app, authenticate)
    return app


def _end_this_login() -> str:
    """End the login the presented token belongs to, not that token alone; what was done.

    Revoking only the token given would leave the same login's other token
    working (its refresh token could still mint new pairs), so the session
    is ended: every token of it is refused, whichever one was presented
    (access or refresh, header or cookie).
    """
    claims = get_jwt()
    session = flask_jwtx.current_session_id()
    if session is not None and flask_jwtx.revoke_session(session, sub=claims["sub"]):
        return "logged out: every token of this login is revoked"
    flask_jwtx.revoke_token(claims)  # a token of no session: that token alone
    return f"{claims['type']} token revoked"


def _add_auth(app: Flask, authenticate: Any) -> None:
    """flask-jwtx's ready-made endpoints under ``/auth`` (cookie mode), and the thief."""

    def check_login(_request: Request) -> int | None:
        user = authenticate()
        return None if user is None else int(user["id"])

    app.register_blueprint(create_auth_blueprint(check_login, mode="cookies"), url_prefix="/auth")
    _add_other_device(app)
    _add_thief(app)
    _add_dpop(app, check_login)


#: What the sessions list shows for the device ``/demo/other-device`` plays.
OTHER_DEVICE = "Phone (simulated: the demo server logged it in)"


def _add_other_device(app: Flask) -> None:
    """``POST /demo/other-device``: a second login of the current user, made on the server.

    A real second device would log in with the password and keep its tokens
    to itself. The demo plays that device on the server: it opens a session
    for the logged-in user and drops the tokens, so the page, whose tokens
    sit in HttpOnly cookies, never holds or prints anyone's raw token; it
    only learns the new session's id, and lists the session like any other.
    """

    @app.post("/demo/other-device")
    @jwt_required()
    def other_device() -> Any:
        access_token, _refresh_token = create_token_pair(
            flask_jwtx.get_jwt_identity(), metadata={"user_agent": OTHER_DEVICE}
        )
        session = flask_jwtx.decode_token(access_token)["fam"]
        return jsonify(session=session, device=OTHER_DEVICE)


def _add_thief(app: Flask) -> None:
    """``POST /demo/replay``: what a thief holding a used refresh token would try.

    The demo keeps a copy of each refresh token the page uses up at
    ``/auth/refresh`` (in memory, per session) and presents it again. With
    rotation, that is reuse: flask-jwtx ends the whole session, and every
    token of it, the page's current ones included, is refused from then on.
    """
    used_up: dict[str, str] = {}
    cookie = app.config.get("JWT_REFRESH_COOKIE_NAME", "refresh_token_cookie")

    @app.before_request
    def keep_a_copy() -> None:
        token = request.cookies.get(cookie)
        if request.endpoint != "jwtx_auth.refresh" or not token:
            return
        try:
            family = flask_jwtx.decode_token(token).get("fam")
        except JWTExtendedException:
            return
        if isinstance(family, str):
            used_up[family] = token

    @app.post("/demo/replay")
    @jwt_required()
    def replay() -> Any:
        session = flask_jwtx.current_session_id()
        token = used_up.get(session or "")
        if token is None:
            return jsonify(msg="Refresh once first: the demo replays a used-up refresh token"), 409
        thief = app.test_client()
        thief.set_cookie(cookie, token)
        answer = thief.post(
            "/auth/refresh", headers={"X-CSRF-TOKEN": flask_jwtx.get_csrf_token(token) or ""}
        )
        # Whether reuse detection ended the session, as the registry now says;
        # the page explains either outcome, the grace window's included.
        live = {s.id for s in flask_jwtx.list_sessions(flask_jwtx.get_jwt_identity())}
        return jsonify(
            replayed=True,
            status=answer.status_code,
            answer=answer.get_json(),
            session=session,
            session_ended=session not in live,
            grace=_seconds(app.config["JWT_REFRESH_REUSE_GRACE"]),
        )


def _seconds(value: float | timedelta) -> float:
    """A duration setting, given in seconds or as a ``timedelta``, in seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _add_dpop(app: Flask, check_login: Any) -> None:
    """``/dpop/...``: the ready-made endpoints in header mode, logging in with DPoP only.

    Cookie mode ignores DPoP proofs (a cookie cannot be sent under the
    ``DPoP`` scheme), so the page's DPoP panel has endpoints of its own: the
    blueprint in header mode, whose login binds the pair to the key of the
    request's proof. A header-mode login without a proof would hand out
    plain bearer tokens, which is not what this part of the demo is about,
    so here it is refused (400). ``GET /dpop/profile`` stands for the app's
    API: it requires DPoP, and says which key the token is bound to.
    """
    blueprint = create_auth_blueprint(check_login, mode="headers", name="jwtx_dpop")

    @blueprint.before_request
    def login_needs_a_proof() -> Any:
        if request.endpoint == "jwtx_dpop.login" and "DPoP" not in request.headers:
            return jsonify(
                msg="Log in here with a DPoP proof: its key is what the tokens are bound to"
            ), 400
        return None

    app.register_blueprint(blueprint, url_prefix="/dpop")

    @app.get("/dpop/profile")
    @jwt_required(locations=["headers"], dpop="required")
    def dpop_profile() -> Any:
        claims = get_jwt()
        return jsonify(
            username=current_user["username"],
            session=claims.get("fam"),
            bound_to=claims["cnf"]["jkt"],
        )
