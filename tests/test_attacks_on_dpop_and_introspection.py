"""Attacks on DPoP-bound tokens, the auth blueprint's bound logins, the demo and introspection.

What one property of the DPoP verifier, the blueprint or introspection
holds, tested one request at a time, is in ``test_dpop``,
``test_auth_blueprint`` and ``test_introspection``; here are the attacks
that combine them: a copied token tried in every location and at every
route, one proof raced across instances, a store outage, hostile text.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, jsonify
from flask.testing import FlaskClient

import flask_jwtx
from demo.app import create_app as create_demo

from .dpop_proofs import (
    bound_login,
    bound_token,
    dpop_get,
    jkt,
    new_key,
    proof,
    proof_with_nonce,
    proven,
    public_jwk,
)
from .helpers import auth_app, bearer, closed_after_test, dpop_app


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return new_key()


def _is_live(client: FlaskClient, access: str, key: ec.EllipticCurvePrivateKey) -> bool:
    """Whether the blueprint's ``/auth/me`` still answers the key holder."""
    return (
        client.get("/auth/me", headers=proven(access, "/auth/me", key, "GET")).status_code == 200
    )


# --- A bound token outside the DPoP scheme ---------------------------------------------------


def _every_location_app() -> Flask:
    """A DPoP app reading tokens everywhere, with a rotating refresh and an optional route."""
    app = dpop_app(JWT_TOKEN_LOCATION=["headers", "cookies", "query_string", "json"])

    @app.post("/refresh")
    @flask_jwtx.jwt_required(refresh=True)
    def refresh() -> Any:
        return jsonify(tokens=flask_jwtx.rotate_refresh_token())

    @app.get("/maybe")
    @flask_jwtx.jwt_required(optional=True)
    def maybe() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity())

    return app


class TestBoundTokensOutsideTheDPoPScheme:
    @pytest.mark.parametrize("where", ["header", "cookie", "query", "json"])
    @pytest.mark.parametrize("path", ["/resource", "/maybe"])
    def test_a_bound_access_token_is_refused_in_every_location(
        self, where: str, path: str, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A bound token in a bearer header, cookie, query or body: 401, on optional routes too."""
        app = _every_location_app()
        token = bound_token(app, key)
        client = app.test_client()
        if where == "header":
            response = client.get(path, headers=bearer(token))
        elif where == "cookie":
            client.set_cookie("access_token_cookie", token)
            response = client.get(path)
        elif where == "query":
            response = client.get(f"{path}?jwt={token}")
        else:
            response = client.open(path, method="GET", json={"access_token": token})
        assert response.status_code == 401, response.get_json()

    def test_a_bound_refresh_token_rotates_only_with_its_proof(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A copied bound refresh token mints nothing from any location; its proof rotates it."""
        app = _every_location_app()
        with app.app_context():
            refresh = flask_jwtx.create_refresh_token(
                "alice", additional_claims={"cnf": {"jkt": jkt(key)}}
            )
            csrf = flask_jwtx.get_csrf_token(refresh)
        client = app.test_client()
        assert client.post("/refresh", headers=bearer(refresh)).status_code == 401
        assert client.post("/refresh", json={"refresh_token": refresh}).status_code == 401
        client.set_cookie("refresh_token_cookie", refresh)
        assert client.post("/refresh", headers={"X-CSRF-TOKEN": csrf}).status_code == 401
        with_proof = app.test_client().post(
            "/refresh", headers=proven(refresh, "/refresh", key, "POST")
        )
        assert with_proof.status_code == 200


# --- Replay ---------------------------------------------------------------------------------


class TestReplay:
    def test_one_proof_sent_concurrently_to_two_instances_wins_once(
        self, shared_store: dict[str, Any], key: ec.EllipticCurvePrivateKey
    ) -> None:
        """Eight simultaneous copies of one proof, over two instances sharing a store: one 200."""
        first, second = dpop_app(**shared_store), dpop_app(**shared_store)
        token = bound_token(first, key)
        for app in (first, second):  # tables created, connections open
            assert dpop_get(app, token, proof(key, token=token)).status_code == 200
        replayed = proof(key, token=token)
        barrier = threading.Barrier(8)
        statuses: list[int] = []

        def send(app: Flask) -> None:
            barrier.wait()
            statuses.append(dpop_get(app, token, replayed).status_code)

        threads = [threading.Thread(target=send, args=((first, second)[i % 2],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200] + [401] * 7

    @pytest.mark.slow  # its own redis-server, stopped and started again
    def test_a_store_outage_refuses_proofs_even_under_the_open_failure_policy(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """Redis down: a proof is a 503 though revocation fails open; once back, it counts once."""
        from .stores import RedisServer

        server = RedisServer()
        try:
            app = dpop_app(JWT_REVOCATION_STORE=server.url, JWT_REVOCATION_FAILURE_POLICY="open")
            app.config["TESTING"] = False
            token = bound_token(app, key)
            server.stop()
            held = proof(key, token=token)
            assert dpop_get(app, token, held).status_code == 503
            server.start()
            assert dpop_get(app, token, held).status_code == 200  # never recorded, still usable
            assert dpop_get(app, token, held).status_code == 401
        finally:
            server.stop()


# --- Challenges ----------------------------------------------------------------------------


def test_hostile_text_in_a_proof_stays_inside_one_quoted_challenge(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    """CR, LF, quotes and backslashes in a proof's jwk never split or end its challenge."""
    app = dpop_app()
    token = bound_token(app, key)
    hostile = {**public_jwk(key), "alg": 'RS256"\r\nSet-Cookie: pwned=1\\'}
    response = dpop_get(app, token, proof(key, token=token, header={"jwk": hostile}))
    assert response.status_code == 401
    values = response.headers.getlist("WWW-Authenticate")
    assert values
    assert all("\r" not in value and "\n" not in value for value in values)
    assert "Set-Cookie" not in response.headers
    description = values[-1].split("error_description=", 1)[1]
    assert description.count('"') == 2
    assert "\\" not in description


# --- The auth blueprint's bound logins --------------------------------------------------------


class TestCopiedTokensAtTheBlueprint:
    def _app(self) -> Flask:
        return auth_app("headers", JWT_REVOCATION_STORE="memory://", JWT_DPOP="allowed")

    def test_a_copied_bound_token_does_nothing_at_any_route(self) -> None:
        """Copies of a bound pair as bearer, in the body or with a thief's proof: all refused."""
        app = self._app()
        client = app.test_client()
        key = new_key()
        tokens = bound_login(client, key)
        access, refresh = tokens["access_token"], tokens["refresh_token"]
        with app.app_context():
            session = flask_jwtx.decode_token(access)["fam"]
        routes = [
            ("POST", "/auth/refresh"),
            ("GET", "/auth/sessions"),
            ("DELETE", f"/auth/sessions/{session}"),
            ("GET", "/auth/me"),
            ("POST", "/auth/logout"),
            ("POST", "/auth/logout/everywhere"),
        ]
        thief = new_key()
        for method, path in routes:
            for token in (access, refresh):
                attempts = [
                    client.open(path, method=method, headers=bearer(token)),
                    client.open(path, method=method, json={"refresh_token": token}),
                    client.open(path, method=method, headers=proven(token, path, thief, method)),
                ]
                for attempt in attempts:
                    assert attempt.status_code in (401, 422), (method, path, attempt.get_json())
        assert _is_live(client, access, key), "a copy ended the session"

    def test_nobody_ends_another_users_session_by_its_id(self) -> None:
        """Bob, with his own bound login, can neither see nor end Alice's session by its id."""
        app = self._app()
        client = app.test_client()
        alice_key, bob_key = new_key(), new_key()
        alice = bound_login(client, alice_key)
        bob = bound_login(client, bob_key, user="bob")
        with app.app_context():
            alice_session = flask_jwtx.decode_token(alice["access_token"])["fam"]
        path = f"/auth/sessions/{alice_session}"
        ended = client.delete(path, headers=proven(bob["access_token"], path, bob_key, "DELETE"))
        assert (ended.status_code, ended.get_json()) == (404, {"msg": "Session not found"})
        listed = client.get(
            "/auth/sessions", headers=proven(bob["access_token"], "/auth/sessions", bob_key, "GET")
        ).get_json()
        assert alice_session not in {s["id"] for s in listed["sessions"]}
        assert _is_live(client, alice["access_token"], alice_key)


# --- The demo -------------------------------------------------------------------------------

#: Every route of the demo that takes a token (``{session}``: the victim's session id).
DEMO_ROUTES = [
    ("POST", "/refresh"),
    ("POST", "/logout"),
    ("POST", "/logout/everywhere"),
    ("GET", "/me"),
    ("POST", "/password"),
    ("POST", "/demo/other-device"),
    ("POST", "/demo/replay"),
    ("GET", "/auth/me"),
    ("GET", "/auth/sessions"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"),
    ("POST", "/auth/logout/everywhere"),
    ("DELETE", "/auth/sessions/{session}"),
    ("GET", "/dpop/me"),
    ("GET", "/dpop/sessions"),
    ("POST", "/dpop/refresh"),
    ("POST", "/dpop/logout"),
    ("POST", "/dpop/logout/everywhere"),
    ("DELETE", "/dpop/sessions/{session}"),
    ("GET", "/dpop/profile"),
]


def test_a_copied_token_of_the_demos_dpop_panel_opens_no_route(tmp_path: Path) -> None:
    """The DPoP panel's pair, copied, fails at every demo route as bearer, body or cookie token."""
    app = closed_after_test(create_demo(str(tmp_path / "demo.sqlite3")))
    app.config["TESTING"] = True
    client = app.test_client()
    key = new_key()
    login = proof_with_nonce(
        client, "POST", "/dpop/login", key, json={"username": "alice", "password": "wonderland"}
    ).get_json()
    access, refresh = login["access_token"], login["refresh_token"]
    with app.app_context():
        session = flask_jwtx.decode_token(access)["fam"]
    for method, route in DEMO_ROUTES:
        path = route.format(session=session)
        for token, cookie in ((access, "access_token_cookie"), (refresh, "refresh_token_cookie")):
            with app.app_context():
                csrf = flask_jwtx.get_csrf_token(token)
            thief = app.test_client()
            thief.set_cookie(cookie, token)
            attempts = [
                client.open(path, method=method, headers=bearer(token)),
                client.open(path, method=method, json={"refresh_token": token}),
                thief.open(path, method=method, headers={"X-CSRF-TOKEN": csrf}),
            ]
            for attempt in attempts:
                if attempt.get_json() == {"logout": True, "session": None}:
                    continue  # a cookie-mode logout given no usable cookie ends nothing: 200
                assert 400 <= attempt.status_code < 500, (method, path, attempt.get_json())
    profile = proof_with_nonce(client, "GET", "/dpop/profile", key, token=access)
    assert profile.status_code == 200, "a copy ended the session"
