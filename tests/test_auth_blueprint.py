"""The ready-made auth endpoints, in header mode and in cookie mode, on real stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Request, jsonify
from flask.testing import FlaskClient

import flask_jwtx
from flask_jwtx import create_auth_blueprint

from .conftest import SECRET
from .test_revocation import store_config

USERS = {"alice": "wonderland", "bob": "builder"}
_BUILT: list[Flask] = []


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    while _BUILT:
        app = _BUILT.pop()
        app.extensions["flask-jwtx"].manager.close(app)


def check_password(request: Request) -> str | None:
    body = request.get_json(silent=True) or {}
    name = body.get("username")
    return name if isinstance(name, str) and USERS.get(name) == body.get("password") else None


def build(mode: str, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        JWT_SECRET_KEY=SECRET,
        JWT_TOKEN_LOCATION=["headers", "cookies"],
        JWT_REFRESH_TOKEN_ROTATION=True,
        JWT_REFRESH_REUSE_GRACE=0,
        **config,
    )
    flask_jwtx.JWTManager(app)
    app.register_blueprint(create_auth_blueprint(check_password, mode=mode), url_prefix="/auth")  # type: ignore[arg-type]
    _BUILT.append(app)
    return app


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return store_config(request.param, request, tmp_path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def header_login(client: FlaskClient, user: str = "alice") -> dict[str, Any]:
    response = client.post("/auth/login", json={"username": user, "password": USERS[user]})
    assert response.status_code == 200
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


class TestHeaderMode:
    def test_wrong_password_is_a_401_in_the_incumbents_format(self, store: dict[str, Any]) -> None:
        client = build("headers", **store).test_client()
        response = client.post("/auth/login", json={"username": "alice", "password": "no"})
        assert (response.status_code, response.json) == (401, {"msg": "Bad username or password"})

    def test_login_me_sessions_refresh_logout(self, store: dict[str, Any]) -> None:
        client = build("headers", **store).test_client()
        tokens = header_login(client)
        assert set(tokens) == {"login", "access_token", "refresh_token"}
        me = client.get("/auth/me", headers=bearer(tokens["access_token"])).get_json()
        assert me["identity"] == "alice"
        assert me["claims"]["fam"] == me["session"]
        assert me["claims"]["fresh"] is True
        listed = client.get("/auth/sessions", headers=bearer(tokens["access_token"])).get_json()
        assert [(s["id"], s["current"]) for s in listed["sessions"]] == [(me["session"], True)]
        rotated = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])).get_json()
        assert rotated["refreshed"] is True
        assert client.get("/auth/me", headers=bearer(rotated["access_token"])).status_code == 200
        out = client.post("/auth/logout", headers=bearer(rotated["access_token"]))
        assert out.json == {"logout": True, "session": me["session"]}
        for token in (tokens["access_token"], rotated["access_token"]):
            assert client.get("/auth/me", headers=bearer(token)).status_code == 401
        refused = client.post("/auth/refresh", headers=bearer(rotated["refresh_token"]))
        assert refused.status_code == 401

    def test_reuse_detection_ends_the_session(self, store: dict[str, Any]) -> None:
        client = build("headers", **store).test_client()
        tokens = header_login(client)
        assert (
            client.post("/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code
            == 200
        )
        replay = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"]))
        assert replay.status_code == 401
        assert client.get("/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
        other = header_login(client)
        listed = client.get("/auth/sessions", headers=bearer(other["access_token"])).get_json()
        assert len(listed["sessions"]) == 1

    def test_ending_sessions_is_scoped_to_the_user(self, store: dict[str, Any]) -> None:
        client = build("headers", **store).test_client()
        alice = header_login(client, "alice")
        alice_phone = header_login(client, "alice")
        bob = header_login(client, "bob")
        alice_session = client.get("/auth/me", headers=bearer(alice["access_token"])).get_json()[
            "session"
        ]
        phone_session = client.get(
            "/auth/me", headers=bearer(alice_phone["access_token"])
        ).get_json()["session"]
        stolen = client.delete(
            f"/auth/sessions/{alice_session}", headers=bearer(bob["access_token"])
        )
        assert (stolen.status_code, stolen.json) == (404, {"msg": "Session not found"})
        assert client.get("/auth/me", headers=bearer(alice["access_token"])).status_code == 200
        ended = client.delete(
            f"/auth/sessions/{phone_session}", headers=bearer(alice["access_token"])
        )
        assert ended.json == {"ended": phone_session}
        assert (
            client.get("/auth/me", headers=bearer(alice_phone["access_token"])).status_code == 401
        )
        assert client.get("/auth/me", headers=bearer(alice["access_token"])).status_code == 200
        own = client.delete(
            f"/auth/sessions/{alice_session}", headers=bearer(alice["access_token"])
        )
        assert own.status_code == 200
        assert client.get("/auth/me", headers=bearer(alice["access_token"])).status_code == 401

    def test_logout_everywhere(self, store: dict[str, Any]) -> None:
        app = build("headers", **store)
        client = app.test_client()
        first, second = header_login(client), header_login(client)
        with app.test_request_context():
            outside = flask_jwtx.create_access_token("alice")  # no session: covered all the same
        bob = header_login(client, "bob")
        out = client.post("/auth/logout/everywhere", headers=bearer(first["access_token"]))
        assert out.json == {"logout": True, "sessions_ended": 2}
        for token in (first["access_token"], second["access_token"], outside):
            assert client.get("/auth/me", headers=bearer(token)).status_code == 401
        assert client.get("/auth/me", headers=bearer(bob["access_token"])).status_code == 200
        again = header_login(client)
        assert client.get("/auth/me", headers=bearer(again["access_token"])).status_code == 200

    def test_logout_of_a_token_outside_any_session_revokes_it(self, store: dict[str, Any]) -> None:
        app = build("headers", **store)
        client = app.test_client()
        with app.test_request_context():
            token = flask_jwtx.create_access_token("alice")
        out = client.post("/auth/logout", headers=bearer(token))
        assert out.json == {"logout": True, "session": None}
        assert client.get("/auth/me", headers=bearer(token)).status_code == 401

    def test_cookies_are_not_accepted_in_header_mode(self, store: dict[str, Any]) -> None:
        client = build("headers", **store).test_client()
        tokens = header_login(client)
        client.set_cookie("access_token_cookie", tokens["access_token"])
        assert client.get("/auth/me").status_code == 401

    def test_app_loaders_answer(self, store: dict[str, Any]) -> None:
        app = build("headers", **store)
        manager: flask_jwtx.JWTManager = app.extensions["flask-jwtx"].manager

        @manager.unauthorized_loader
        def custom(reason: str) -> Any:
            return jsonify(error=reason), 401

        response = app.test_client().post("/auth/login", json={})
        assert response.json == {"error": "Bad username or password"}


class TestCookieMode:
    def test_tokens_only_in_cookies_and_csrf_required(self, store: dict[str, Any]) -> None:
        client = build("cookies", **store).test_client()
        response = client.post("/auth/login", json={"username": "alice", "password": "wonderland"})
        assert response.json == {"login": True}, "no token in the body"
        set_cookies = response.headers.getlist("Set-Cookie")
        assert any(c.startswith("access_token_cookie=") and "HttpOnly" in c for c in set_cookies)
        access_csrf = client.get_cookie("csrf_access_token")
        refresh_csrf = client.get_cookie("csrf_refresh_token")
        assert access_csrf is not None
        assert refresh_csrf is not None
        me = client.get("/auth/me").get_json()
        assert me["via"] == "cookies"
        assert client.post("/auth/refresh").status_code == 401, "CSRF header missing"
        rotated = client.post("/auth/refresh", headers={"X-CSRF-TOKEN": refresh_csrf.value})
        assert rotated.json == {"refreshed": True}
        access_csrf = client.get_cookie("csrf_access_token")
        assert access_csrf is not None
        listed = client.get("/auth/sessions").get_json()["sessions"]
        assert [s["current"] for s in listed] == [True]
        out = client.post("/auth/logout", headers={"X-CSRF-TOKEN": access_csrf.value})
        assert out.status_code == 200
        assert client.get_cookie("access_token_cookie") is None
        assert client.get("/auth/me").status_code == 401

    def test_ending_the_current_session_clears_the_cookies(self, store: dict[str, Any]) -> None:
        client = build("cookies", **store).test_client()
        client.post("/auth/login", json={"username": "alice", "password": "wonderland"})
        session = client.get("/auth/me").get_json()["session"]
        csrf = client.get_cookie("csrf_access_token")
        assert csrf is not None
        ended = client.delete(f"/auth/sessions/{session}", headers={"X-CSRF-TOKEN": csrf.value})
        assert ended.status_code == 200
        assert client.get_cookie("access_token_cookie") is None

    def test_headers_are_not_accepted_in_cookie_mode(self, store: dict[str, Any]) -> None:
        app = build("cookies", **store)
        with app.test_request_context():
            token = flask_jwtx.create_access_token("alice")
        assert app.test_client().get("/auth/me", headers=bearer(token)).status_code == 401


def test_mode_is_validated() -> None:
    with pytest.raises(ValueError, match="mode"):
        create_auth_blueprint(check_password, mode="query")  # type: ignore[arg-type]


def test_redis_and_postgresql_two_instances(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    for kind in ("redis", "postgresql"):
        config = store_config(kind, request, tmp_path)
        one, two = build("headers", **config), build("headers", **config)
        tokens = header_login(one.test_client())
        other = header_login(two.test_client())
        session = (
            two.test_client().get("/auth/me", headers=bearer(tokens["access_token"])).get_json()
        )
        listed = two.test_client().get("/auth/sessions", headers=bearer(other["access_token"]))
        assert len(listed.get_json()["sessions"]) == 2
        ended = two.test_client().delete(
            f"/auth/sessions/{session['session']}", headers=bearer(other["access_token"])
        )
        assert ended.status_code == 200
        assert (
            one.test_client().get("/auth/me", headers=bearer(tokens["access_token"])).status_code
            == 401
        )
