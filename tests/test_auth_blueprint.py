"""The ready-made auth endpoints, in header mode and in cookie mode, on real stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import time_machine
from flask import Flask, Request, jsonify
from flask.testing import FlaskClient

import flask_jwtx
from flask_jwtx import create_auth_blueprint
from flask_jwtx.exceptions import ConfigurationError

from .dpop_proofs import bound_login, jkt, new_key, proof, proven
from .helpers import USERS, bearer, check_password
from .helpers import auth_app as build
from .stores import store_config


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return store_config(request.param, request, tmp_path)


def header_login(client: FlaskClient, user: str = "alice") -> dict[str, Any]:
    response = client.post("/auth/login", json={"username": user, "password": USERS[user]})
    assert response.status_code == 200
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


class TestHeaderMode:
    def test_wrong_password_is_a_401_in_flask_jwt_extendeds_format(
        self, store: dict[str, Any]
    ) -> None:
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


# --- Logging out once the access token has expired ---------------------------------

#: Past the default 15-minute access lifetime, well within the 30-day refresh one.
IDLE = timedelta(minutes=16)
TOKEN_COOKIES = ("access_token_cookie", "refresh_token_cookie")
ALL_COOKIES = (*TOKEN_COOKIES, "csrf_access_token", "csrf_refresh_token")


def later(delta: timedelta = IDLE) -> Any:
    """The clock moved ``delta`` on (and frozen there) while the block runs."""
    return time_machine.travel(datetime.now(UTC) + delta, tick=False)


def cookie_login(client: FlaskClient, user: str = "alice") -> dict[str, str]:
    """Log in in cookie mode; the cookies the browser now holds, by name."""
    response = client.post("/auth/login", json={"username": user, "password": USERS[user]})
    assert response.status_code == 200
    held = {name: client.get_cookie(name) for name in ALL_COOKIES}
    return {name: cookie.value for name, cookie in held.items() if cookie is not None}


def csrf(held: dict[str, str], kind: str) -> dict[str, str]:
    return {"X-CSRF-TOKEN": held[f"csrf_{kind}_token"]}


def cleared(response: Any) -> set[str]:
    """The cookies this response expires."""
    names = set()
    for line in response.headers.getlist("Set-Cookie"):
        name, _, rest = line.partition("=")
        if "Expires=Thu, 01 Jan 1970" in rest:
            names.add(name)
    return names


def live_sessions(app: Flask, identity: str = "alice") -> list[str]:
    with app.app_context():
        return [s.id for s in flask_jwtx.list_sessions(identity)]


def refresh_with(app: Flask, held: dict[str, str]) -> int:
    """What /auth/refresh answers a browser holding only ``held``'s refresh cookie."""
    client = app.test_client()
    client.set_cookie("refresh_token_cookie", held["refresh_token_cookie"])
    return client.post("/auth/refresh", headers=csrf(held, "refresh")).status_code


def forged_like(app: Flask, token: str) -> str:
    """The same claims as ``token``, unexpired, signed with a key the app does not hold."""
    with app.app_context():
        claims = flask_jwtx.decode_token(token, allow_expired=True)
    claims["exp"] = int(datetime.now(UTC).timestamp()) + 3600
    return jwt.encode(claims, "another-secret-of-at-least-32-bytes!!", algorithm="HS256")


class TestCookieLogoutOnceTheAccessTokenExpired:
    """Cookie-mode logout ends the session when the access token has expired."""

    def test_an_expired_access_cookie_ends_its_session(self, store: dict[str, Any]) -> None:
        """An expired but genuine access cookie, with its CSRF value, ends the session."""
        app = build("cookies", **store)
        client = app.test_client()
        held = cookie_login(client)
        [session] = live_sessions(app)
        with later():
            out = client.post("/auth/logout", headers=csrf(held, "access"))
            assert (out.status_code, out.json) == (200, {"logout": True, "session": session})
            assert cleared(out) == set(ALL_COOKIES)
            assert live_sessions(app) == []
            assert refresh_with(app, held) == 401, "the refresh cookie mints nothing more"

    def test_the_refresh_cookie_alone_ends_its_session(self, store: dict[str, Any]) -> None:
        """The refresh cookie with the refresh CSRF value ends the session."""
        app = build("cookies", **store)
        client = app.test_client()
        held = cookie_login(client)
        [session] = live_sessions(app)
        client.delete_cookie("access_token_cookie")
        with later():
            out = client.post("/auth/logout", headers=csrf(held, "refresh"))
            assert (out.status_code, out.json) == (200, {"logout": True, "session": session})
            assert cleared(out) == set(ALL_COOKIES)
            assert live_sessions(app) == []
            assert refresh_with(app, held) == 401

    def test_the_refresh_cookie_needs_its_own_csrf_value(self, store: dict[str, Any]) -> None:
        """Without the refresh CSRF value nothing is ended, but the cookies are cleared."""
        app = build("cookies", **store)
        client = app.test_client()
        held = cookie_login(client)
        client.delete_cookie("access_token_cookie")
        with later():
            bare = client.post("/auth/logout")
            assert (bare.status_code, bare.json) == (401, {"msg": "Missing CSRF token"})
            assert cleared(bare) == set(ALL_COOKIES)
            client.set_cookie("refresh_token_cookie", held["refresh_token_cookie"])
            wrong = client.post("/auth/logout", headers=csrf(held, "access"))
            assert wrong.status_code == 401
            assert wrong.json == {"msg": "CSRF double submit tokens do not match"}
            assert len(live_sessions(app)) == 1
            assert refresh_with(app, held) == 200

    def test_with_nothing_presented_the_cookies_are_cleared(self, store: dict[str, Any]) -> None:
        """A browser holding no token cookie is answered 200 with every cookie cleared."""
        out = build("cookies", **store).test_client().post("/auth/logout")
        assert (out.status_code, out.json) == (200, {"logout": True, "session": None})
        assert cleared(out) == set(ALL_COOKIES)

    def test_a_forged_token_ends_nothing(self, store: dict[str, Any]) -> None:
        """A token that does not verify ends no session, whatever its claims say."""
        app = build("cookies", **store)
        held = cookie_login(app.test_client())
        for path in ("/auth/logout", "/auth/logout/everywhere"):
            attacker = app.test_client()
            attacker.set_cookie(
                "access_token_cookie", forged_like(app, held["access_token_cookie"])
            )
            out = attacker.post(path, headers=csrf(held, "access"))
            assert (out.status_code, out.json) == (422, {"msg": "Signature verification failed"})
            assert cleared(out) == set(ALL_COOKIES)
            assert len(live_sessions(app)) == 1
        assert refresh_with(app, held) == 200

    def test_an_expired_token_outside_a_live_session_proves_nothing(
        self, store: dict[str, Any]
    ) -> None:
        """Once expired, a token of an ended session, or of none, ends nothing."""
        app = build("cookies", **store)
        old = app.test_client()
        ended = cookie_login(old)
        assert old.post("/auth/logout", headers=csrf(ended, "access")).status_code == 200
        with app.test_request_context():
            loose = flask_jwtx.create_access_token("alice")  # a token of no session
            presented = [
                (ended["access_token_cookie"], ended["csrf_access_token"]),
                (loose, flask_jwtx.get_csrf_token(loose)),
            ]
        # Long after: even the records ending that session have lapsed.
        with later(timedelta(days=45)):
            cookie_login(app.test_client())  # alice's live session, which must survive
            for token, value in presented:
                client = app.test_client()
                client.set_cookie("access_token_cookie", token)
                out = client.post("/auth/logout/everywhere", headers={"X-CSRF-TOKEN": value})
                assert (out.status_code, out.json) == (401, {"msg": "Token has expired"})
            assert len(live_sessions(app)) == 1


class TestCookieLogoutEverywhereOnceTheAccessTokenExpired:
    """Logout everywhere needs an identity: a genuine expired access or refresh cookie gives it."""

    def test_an_expired_access_cookie_ends_every_session(self, store: dict[str, Any]) -> None:
        """An expired access cookie ends all of its identity's sessions, not others'."""
        app = build("cookies", **store)
        client = app.test_client()
        held = cookie_login(client)
        phone = cookie_login(app.test_client())
        cookie_login(app.test_client(), "bob")
        with later():
            out = client.post("/auth/logout/everywhere", headers=csrf(held, "access"))
            assert (out.status_code, out.json) == (200, {"logout": True, "sessions_ended": 2})
            assert cleared(out) == set(ALL_COOKIES)
            assert live_sessions(app) == []
            assert refresh_with(app, phone) == 401
            assert len(live_sessions(app, "bob")) == 1

    def test_the_refresh_cookie_alone_ends_every_session(self, store: dict[str, Any]) -> None:
        """The refresh cookie with its CSRF value is identity enough."""
        app = build("cookies", **store)
        client = app.test_client()
        held = cookie_login(client)
        phone = cookie_login(app.test_client())
        client.delete_cookie("access_token_cookie")
        with later():
            out = client.post("/auth/logout/everywhere", headers=csrf(held, "refresh"))
            assert (out.status_code, out.json) == (200, {"logout": True, "sessions_ended": 2})
            assert refresh_with(app, phone) == 401

    def test_nothing_presented_is_a_401_with_the_cookies_cleared(
        self, store: dict[str, Any]
    ) -> None:
        """Without any token there is no identity to log out: 401, cookies cleared."""
        out = build("cookies", **store).test_client().post("/auth/logout/everywhere")
        assert (out.status_code, out.json) == (
            401,
            {"msg": 'Missing cookie "access_token_cookie"'},
        )
        assert cleared(out) == set(ALL_COOKIES)


class TestHeaderLogoutOnceTheAccessTokenExpired:
    """Header mode: the Authorization header's token of either kind, or refresh_token in JSON."""

    def test_an_expired_access_token_ends_its_session(self, store: dict[str, Any]) -> None:
        """An expired but genuine access token in the header ends its session."""
        app = build("headers", **store)
        client = app.test_client()
        tokens = header_login(client)
        [session] = live_sessions(app)
        with later():
            out = client.post("/auth/logout", headers=bearer(tokens["access_token"]))
            assert (out.status_code, out.json) == (200, {"logout": True, "session": session})
            assert live_sessions(app) == []
            refused = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"]))
            assert refused.status_code == 401

    def test_the_refresh_token_in_the_header_or_the_body(self, store: dict[str, Any]) -> None:
        """The refresh token ends its session from the header or as JSON refresh_token."""
        app = build("headers", **store)
        client = app.test_client()
        first, second = header_login(client), header_login(client)
        with later():
            by_header = client.post("/auth/logout", headers=bearer(first["refresh_token"]))
            by_body = client.post("/auth/logout", json={"refresh_token": second["refresh_token"]})
            assert [by_header.status_code, by_body.status_code] == [200, 200]
            assert live_sessions(app) == []

    def test_logout_everywhere_with_an_expired_access_token(self, store: dict[str, Any]) -> None:
        """An expired but genuine access token logs its identity out everywhere."""
        app = build("headers", **store)
        client = app.test_client()
        tokens, other = header_login(client), header_login(client)
        with later():
            out = client.post("/auth/logout/everywhere", headers=bearer(tokens["access_token"]))
            assert out.json == {"logout": True, "sessions_ended": 2}
            refused = client.post("/auth/refresh", headers=bearer(other["refresh_token"]))
            assert refused.status_code == 401

    def test_forged_or_absent_tokens_end_nothing(self, store: dict[str, Any]) -> None:
        """A forged token is 422 and no token 401; no session ends either way."""
        app = build("headers", **store)
        client = app.test_client()
        tokens = header_login(client)
        forged = forged_like(app, tokens["refresh_token"])
        for path in ("/auth/logout", "/auth/logout/everywhere"):
            assert client.post(path, headers=bearer(forged)).status_code == 422
            assert client.post(path, json={"refresh_token": forged}).status_code == 422
            none = client.post(path)
            assert (none.status_code, none.json) == (401, {"msg": "Missing Authorization Header"})
        assert len(live_sessions(app)) == 1


# --- Login CSRF: a cross-site page cannot log a browser in --------------------------


def form_or_json_login(request: Request) -> str | None:
    """A login callback reading a form post as readily as JSON (common, and the risk)."""
    body = request.get_json(silent=True) or request.form
    name = body.get("username")
    return name if isinstance(name, str) and USERS.get(name) == body.get("password") else None


ALICE = {"username": "alice", "password": "wonderland"}


class TestCookieLoginRefusesCrossSiteRequests:
    """In cookie mode, login refuses what a cross-site HTML form can send."""

    @pytest.mark.parametrize(
        "body",
        [
            {"data": ALICE},
            {"data": {**ALICE, "x": (b"", "f.txt")}},
            {
                "data": '{"username": "alice", "password": "wonderland"}',
                "content_type": "text/plain",
            },
        ],
        ids=["urlencoded", "multipart", "text-plain"],
    )
    def test_a_form_post_is_a_415_and_sets_no_cookie(
        self, store: dict[str, Any], body: dict[str, Any]
    ) -> None:
        """urlencoded, multipart and text/plain bodies never reach the login callback."""
        client = build("cookies", form_or_json_login, **store).test_client()
        out = client.post("/auth/login", **body)
        assert out.status_code == 415
        assert out.json == {"msg": "Login takes a JSON body here (Content-Type: application/json)"}
        assert out.headers.getlist("Set-Cookie") == []

    @pytest.mark.parametrize(
        "headers",
        [
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site", "Origin": "https://sibling.localhost"},
        ],
        ids=["foreign-origin", "null-origin", "cross-site", "same-site"],
    )
    def test_a_request_the_browser_marks_cross_site_is_a_403(
        self, store: dict[str, Any], headers: dict[str, str]
    ) -> None:
        """A foreign Origin, or Sec-Fetch-Site other than same-origin, is refused."""
        app = build("cookies", form_or_json_login, **store)
        client = app.test_client()
        out = client.post("/auth/login", json=ALICE, headers=headers)
        assert (out.status_code, out.json) == (403, {"msg": "Cross-site login refused"})
        assert out.headers.getlist("Set-Cookie") == []
        held = cookie_login(client)
        for path in ("/auth/logout", "/auth/logout/everywhere"):
            refused = client.post(path, headers={**headers, **csrf(held, "access")})
            assert (refused.status_code, refused.json) == (
                403,
                {"msg": "Cross-site logout refused"},
            )
            assert refused.headers.getlist("Set-Cookie") == []
        assert len(live_sessions(app)) == 1

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Origin": "http://localhost"},
            {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
            {"Sec-Fetch-Site": "same-origin", "Origin": "https://rewritten-by-a-proxy"},
        ],
        ids=["no-browser-headers", "own-origin", "same-origin", "same-origin-behind-a-proxy"],
    )
    def test_the_apps_own_page_logs_in(
        self, store: dict[str, Any], headers: dict[str, str]
    ) -> None:
        """JSON from our own origin (or from a client that is not a browser) logs in."""
        client = build("cookies", form_or_json_login, **store).test_client()
        out = client.post("/auth/login", json=ALICE, headers=headers)
        assert (out.status_code, out.json) == (200, {"login": True})

    def test_trusted_origins_may_log_in(self, store: dict[str, Any]) -> None:
        """An origin listed in trusted_origins is let through, others are not."""
        app = build("cookies", trusted_origins=("https://app.example.com",), **store)
        client = app.test_client()
        sibling = {"Sec-Fetch-Site": "same-site", "Origin": "https://app.example.com"}
        assert client.post("/auth/login", json=ALICE, headers=sibling).status_code == 200
        other = {"Sec-Fetch-Site": "same-site", "Origin": "https://other.example.com"}
        assert client.post("/auth/login", json=ALICE, headers=other).status_code == 403

    @pytest.mark.parametrize(
        "origins",
        ["https://app.example.com", ["app.example.com"], ["https://app.example.com/login"]],
    )
    def test_trusted_origins_are_checked_when_the_blueprint_is_made(self, origins: Any) -> None:
        """A string, a bare host or a URL with a path is refused at once."""
        with pytest.raises((TypeError, ValueError), match="trusted_origins"):
            create_auth_blueprint(check_password, mode="cookies", trusted_origins=origins)

    def test_header_mode_takes_any_body(self, store: dict[str, Any]) -> None:
        """Header mode sets no cookie, so a login there cannot be forged into a browser."""
        client = build("headers", form_or_json_login, **store).test_client()
        out = client.post("/auth/login", data=ALICE, headers={"Origin": "https://evil.example"})
        assert out.status_code == 200
        assert out.headers.getlist("Set-Cookie") == []


class TestDPoPBoundLogins:
    """Header mode: a login with a DPoP proof gets tokens bound to the proof's key (RFC 9449)."""

    def _app(self) -> Flask:
        return build("headers", JWT_REVOCATION_STORE="memory://", JWT_DPOP="allowed")

    def test_login_refresh_and_use_stay_bound_to_the_key(self) -> None:
        """Bound at login, kept through rotation, refused as Bearer and from another key."""
        app = self._app()
        client = app.test_client()
        key = new_key()
        login = client.post(
            "/auth/login",
            json={"username": "alice", "password": USERS["alice"]},
            headers={"DPoP": proof(key, method="POST", url="http://localhost/auth/login")},
        ).get_json()
        assert login["token_type"] == "DPoP"
        for token in (login["access_token"], login["refresh_token"]):
            assert claims_in(app, token)["cnf"] == {"jkt": jkt(key)}

        def use(token: str, path: str, method: str, proof_key: Any) -> Any:
            url = f"http://localhost{path}"
            headers = {
                "Authorization": f"DPoP {token}",
                "DPoP": proof(proof_key, method=method, url=url, token=token),
            }
            return client.open(path, method=method, headers=headers)

        access = login["access_token"]
        assert use(access, "/auth/me", "GET", key).status_code == 200
        assert client.get("/auth/me", headers=bearer(access)).status_code == 401
        assert use(access, "/auth/me", "GET", new_key()).status_code == 401
        rotated = use(login["refresh_token"], "/auth/refresh", "POST", key).get_json()
        for token in (rotated["access_token"], rotated["refresh_token"]):
            assert claims_in(app, token)["cnf"] == {"jkt": jkt(key)}
        assert use(rotated["access_token"], "/auth/me", "GET", key).status_code == 200

    def test_a_login_without_a_proof_stays_a_bearer_login(self) -> None:
        app = self._app()
        body = header_login(app.test_client())
        assert "token_type" not in body
        assert "cnf" not in claims_in(app, body["access_token"])

    def test_a_bad_login_proof_is_refused(self) -> None:
        """A proof for another URL binds nothing and mints nothing: 401."""
        app = self._app()
        response = app.test_client().post(
            "/auth/login",
            json={"username": "alice", "password": USERS["alice"]},
            headers={"DPoP": proof(new_key(), method="POST", url="http://localhost/elsewhere")},
        )
        assert response.status_code == 401
        assert "access_token" not in (response.get_json() or {})

    def _bound_login(self, client: FlaskClient, key: Any) -> dict[str, Any]:
        response = client.post(
            "/auth/login",
            json={"username": "alice", "password": USERS["alice"]},
            headers={"DPoP": proof(key, method="POST", url="http://localhost/auth/login")},
        )
        assert response.status_code == 200
        body: dict[str, Any] = response.get_json()
        return body

    @staticmethod
    def _with_proof(token: str, path: str, key: Any, method: str = "POST") -> dict[str, str]:
        url = f"http://localhost{path}"
        return {
            "Authorization": f"DPoP {token}",
            "DPoP": proof(key, method=method, url=url, token=token),
        }

    def _session_is_live(self, client: FlaskClient, token: str, key: Any) -> bool:
        me = client.get("/auth/me", headers=self._with_proof(token, "/auth/me", key, "GET"))
        return me.status_code == 200

    def test_a_copied_bound_token_cannot_log_the_session_out(self) -> None:
        """Logout refuses bound tokens without their proof: as bearer tokens or in the body."""
        client = self._app().test_client()
        key = new_key()
        tokens = self._bound_login(client, key)
        access, refresh = tokens["access_token"], tokens["refresh_token"]
        for path in ("/auth/logout", "/auth/logout/everywhere"):
            for token in (access, refresh):
                as_bearer = client.post(path, headers=bearer(token))
                assert (as_bearer.status_code, as_bearer.get_json()) == (
                    401,
                    {"msg": "A DPoP-bound token must be presented with a DPoP proof"},
                )
            in_body = client.post(path, json={"refresh_token": refresh})
            assert in_body.status_code == 401
        stranger = client.post(
            "/auth/logout", headers=self._with_proof(access, "/auth/logout", new_key())
        )
        assert (stranger.status_code, stranger.get_json()) == (
            401,
            {"msg": "DPoP proof key does not match the token's 'cnf.jkt'"},
        )
        assert self._session_is_live(client, access, key), "no copy ended the session"

    def test_logout_with_a_proof_of_the_key_ends_the_session(self) -> None:
        """The key holder logs out under the DPoP scheme, with the access or the refresh token."""
        client = self._app().test_client()
        key = new_key()
        first = self._bound_login(client, key)
        out = client.post(
            "/auth/logout", headers=self._with_proof(first["access_token"], "/auth/logout", key)
        )
        session = claims_in(client.application, first["access_token"])["fam"]
        assert (out.status_code, out.get_json()) == (200, {"logout": True, "session": session})
        assert not self._session_is_live(client, first["access_token"], key)

        second = self._bound_login(client, key)
        other = self._bound_login(client, key)
        everywhere = client.post(
            "/auth/logout/everywhere",
            headers=self._with_proof(second["refresh_token"], "/auth/logout/everywhere", key),
        )
        assert (everywhere.status_code, everywhere.get_json()["sessions_ended"]) == (200, 2)
        assert not self._session_is_live(client, other["access_token"], key)

    def test_a_logout_proof_is_used_once(self) -> None:
        """A logout proof replayed is refused like any other (its ``jti`` is spent)."""
        client = self._app().test_client()
        key = new_key()
        tokens = self._bound_login(client, key)
        headers = self._with_proof(tokens["access_token"], "/auth/logout", key)
        assert client.post("/auth/logout", headers=headers).status_code == 200
        again = client.post("/auth/logout", headers=headers)
        assert (again.status_code, again.get_json()) == (
            401,
            {"msg": "DPoP proof has already been used"},
        )


class TestWhereDPoPIsRequired:
    """``JWT_DPOP = "required"``: every endpoint of the blueprint applies it, as routes do."""

    def _app(self, login: Any = check_password) -> Flask:
        return build("headers", login, JWT_REVOCATION_STORE="memory://", JWT_DPOP="required")

    def test_the_logouts_refuse_an_unbound_bearer_token(self) -> None:
        """A leaked bearer token ends no session, the bound ones included: 401 at both logouts."""
        app = self._app()
        client = app.test_client()
        key = new_key()
        bound = bound_login(client, key)
        with app.app_context():
            leaked = flask_jwtx.create_access_token("alice")
        assert client.get("/auth/me", headers=bearer(leaked)).status_code == 401
        for path in ("/auth/logout", "/auth/logout/everywhere"):
            response = client.post(path, headers=bearer(leaked))
            assert (response.status_code, response.get_json()) == (
                401,
                {"msg": "This resource requires a DPoP-bound token and a DPoP proof"},
            )
            in_body = client.post(path, json={"refresh_token": bound["refresh_token"]})
            assert in_body.status_code == 401
        me = client.get("/auth/me", headers=proven(bound["access_token"], "/auth/me", key, "GET"))
        assert me.status_code == 200, "the bound session was ended"
        out = client.post(
            "/auth/logout", headers=proven(bound["access_token"], "/auth/logout", key, "POST")
        )
        assert out.status_code == 200  # the key holder still logs out

    def test_a_login_without_a_proof_mints_nothing(self) -> None:
        """No proof: 401 invalid_dpop_proof with a DPoP challenge, no tokens, no session."""
        checked: list[str] = []

        def login(request: Request) -> str | None:
            checked.append("password")
            return check_password(request)

        app = self._app(login)
        response = app.test_client().post(
            "/auth/login", json={"username": "alice", "password": USERS["alice"]}
        )
        assert (response.status_code, response.get_json()) == (
            401,
            {"msg": "Exactly one DPoP header with a proof is required"},
        )
        assert 'error="invalid_dpop_proof"' in response.headers["WWW-Authenticate"]
        assert response.headers["WWW-Authenticate"].startswith("DPoP ")
        assert checked == [], "the password check ran for a login that could get no tokens"
        with app.app_context():
            assert flask_jwtx.list_sessions("alice") == []
        assert "token_type" in bound_login(app.test_client(), new_key())

    def test_a_cookie_mode_blueprint_does_not_start(self) -> None:
        """Cookies never travel under the DPoP scheme: a ConfigurationError naming the fix."""
        app = build("cookies", JWT_REVOCATION_STORE="memory://", JWT_DPOP="required")
        with pytest.raises(ConfigurationError, match="mode='headers'"):
            app.test_client().post("/auth/login", json={"username": "alice"})
        allowed = build("cookies", JWT_REVOCATION_STORE="memory://", JWT_DPOP="allowed")
        assert header_login(allowed.test_client()) == {"login": True}


def claims_in(app: Flask, token: str) -> dict[str, Any]:
    with app.app_context():
        return flask_jwtx.decode_token(token)
