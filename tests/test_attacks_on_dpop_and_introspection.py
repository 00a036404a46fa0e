"""Attacks on DPoP-bound tokens, the auth blueprint's bound logins, the demo and introspection.

What one property of the DPoP verifier, the blueprint or introspection
holds, tested one request at a time, is in ``test_dpop``,
``test_auth_blueprint`` and ``test_introspection``; here are the attacks
that combine them (a copied token tried in every location and at every
route, one proof raced across instances, a store outage, hostile text, a
stalled introspection server) and the attacks on round 3's fixes: checks
the startup cannot see, and the request URL and ``JWT_RESOURCE`` as the
``htu`` check reads them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, run_wsgi_app

import flask_jwtx
from demo.app import create_app as create_demo
from flask_jwtx.exceptions import ConfigurationError

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
from .helpers import auth_app, bearer, closed_after_test, dpop_app, make_app
from .introspection_server import IntrospectionServer, call
from .introspection_server import build as introspecting_app


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


# --- The fixes' own edges ----------------------------------------------------------------


def _wrapped_without_wraps(view: Any) -> Any:
    """A decorator written without functools.wraps: jwt_required is hidden from startup."""

    def hidden(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    hidden.__name__ = view.__name__
    return hidden


class TestChecksTheStartupCannotSee:
    """DPoP on without a store is refused on every request, where init_app cannot see it."""

    def _storeless(self) -> Flask:
        app = make_app()  # DPoP off, no revocation store
        app.config["PROPAGATE_EXCEPTIONS"] = True

        @app.get("/called")
        def called() -> Any:
            flask_jwtx.verify_jwt_in_request(dpop="allowed")
            return jsonify(ok=True)

        @app.get("/hidden")
        @_wrapped_without_wraps
        @flask_jwtx.jwt_required(dpop="allowed")
        def hidden() -> Any:
            return jsonify(ok=True)

        @app.get("/plain")
        @flask_jwtx.jwt_required()
        def plain() -> Any:
            return jsonify(ok=True)

        return closed_after_test(app)

    @pytest.mark.parametrize("path", ["/called", "/hidden"])
    def test_dpop_without_a_store_fails_for_bearer_requests_too(
        self, path: str, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """dpop= with no store is a ConfigurationError for any request, not a 500 for DPoP only."""
        app = self._storeless()
        client = app.test_client()
        assert client.get("/plain", headers=bearer(bound_token(app, None))).status_code == 200
        with pytest.raises(ConfigurationError, match=r"JWT_REVOCATION_STORE"):
            client.get(path, headers=bearer(bound_token(app, None)))
        token = bound_token(app, key)
        signed = proof(key, token=token, url=f"http://localhost{path}")
        with pytest.raises(ConfigurationError, match=r"JWT_REVOCATION_STORE"):
            client.get(path, headers={"Authorization": f"DPoP {token}", "DPoP": signed})

    def test_a_blueprint_registered_after_init_app_is_checked_and_served(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """Routes a blueprint adds after init_app pass the checks when they can work."""
        app = dpop_app(JWT_DPOP="off")
        late = Blueprint("late", __name__)

        @late.get("/late")
        @flask_jwtx.jwt_required(dpop="required")
        def late_view() -> Any:
            return jsonify(ok=True)

        @late.get("/inside")
        def inside() -> Any:
            flask_jwtx.verify_jwt_in_request(dpop="required")
            return jsonify(ok=True)

        app.register_blueprint(late)
        token = bound_token(app, key)
        for path in ("/late", "/inside"):
            signed = proof(key, token=token, url=f"http://localhost{path}")
            assert dpop_get(app, token, signed, path).status_code == 200
            assert app.test_client().get(path, headers=bearer(token)).status_code == 401


class TestTheResourcesOrigin:
    @pytest.mark.parametrize(
        "resource", ["https://API.example:443", "https://api.example", "HTTPS://api.example/v1/"]
    )
    def test_case_and_default_port_do_not_change_the_origin(
        self, resource: str, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """JWT_RESOURCE and htu name one origin whatever their case, default port or path."""
        app = dpop_app(JWT_RESOURCE=resource)
        token = bound_token(app, key, aud=resource)
        signed = proof(key, token=token, url="https://api.example/resource")
        response = app.test_client().get(
            "/resource",
            base_url="https://api.example",
            headers={"Authorization": f"DPoP {token}", "DPoP": signed},
        )
        assert response.status_code == 200, response.get_json()

    @pytest.mark.parametrize(
        "resource", ["https://b\u00fccher.example/", "https://user@api.example/"]
    )
    def test_a_resource_the_origin_check_cannot_read_fails_at_init_app(
        self, resource: str
    ) -> None:
        """A JWT_RESOURCE with a non-ASCII host or user information is refused at init_app."""
        with pytest.raises(ConfigurationError, match=r"JWT_RESOURCE.*ASCII"):
            make_app(JWT_RESOURCE=resource)

    @pytest.mark.parametrize(
        ("path", "htu"),
        [
            ("/caf\u00e9", "http://localhost/caf%C3%A9"),
            ("/caf%C3%A9", "http://localhost/caf%c3%a9"),
            ("/%E2%9C%93/x", "http://localhost/%E2%9C%93/x"),
        ],
    )
    def test_a_path_outside_ascii_is_proven_by_its_percent_encoded_htu(
        self, path: str, htu: str, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A request to a non-ASCII path is accepted with a proof naming its URI form."""
        app = dpop_app()

        @app.get("/<name>")
        @app.get("/<name>/x")
        @flask_jwtx.jwt_required()
        def named(name: str) -> Any:
            return jsonify(name=name)

        token = bound_token(app, key)
        signed = proof(key, token=token, url=htu)
        response = app.test_client().get(
            path, headers={"Authorization": f"DPoP {token}", "DPoP": signed}
        )
        assert response.status_code == 200, response.get_json()

    @pytest.mark.parametrize("nonces", [False, True])
    @pytest.mark.parametrize("host", ["xn--zz", "xn--a.example", "xn--ls8h.xn--zz"])
    def test_a_host_that_is_no_valid_punycode_is_a_401_never_a_500(
        self, host: str, nonces: bool, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A Host whose xn-- label does not decode gets a 401 for its proof, not a 500."""
        config = {"JWT_DPOP_NONCE_SECRET": "n" * 40} if nonces else {}
        app = dpop_app(**config)
        app.config["TESTING"] = False  # errors become the 500 a client would see
        token = bound_token(app, key)
        signed = proof(key, token=token, url=f"http://{host}/resource")
        headers = {"Host": host, "Authorization": f"DPoP {token}", "DPoP": signed}
        # Werkzeug's test client builds the URL itself and fails on such a
        # host before the app is called: the app is called directly.
        environ = EnvironBuilder(path="/resource", headers=list(headers.items())).get_environ()
        _, status, _ = run_wsgi_app(app, environ, buffered=True)
        assert status.startswith("401"), status

    def test_an_internationalised_host_works_in_its_ascii_form(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """The A-label form of an internationalised host is this resource's origin for DPoP."""
        resource = "https://xn--bcher-kva.example/"
        app = dpop_app(JWT_RESOURCE=resource)
        token = bound_token(app, key, aud=resource)
        signed = proof(key, token=token, url=f"{resource}resource")
        response = app.test_client().get(
            "/resource",
            base_url="https://xn--bcher-kva.example",
            headers={"Authorization": f"DPoP {token}", "DPoP": signed},
        )
        assert response.status_code == 200, response.get_json()


# --- Introspection under load ---------------------------------------------------------------


def test_requests_waiting_on_a_stalled_introspection_fail_closed_together(
    introspection_server: tuple[IntrospectionServer, str],
) -> None:
    """While the server stalls past the deadline, the asking request and its waiters get 503."""
    introspection, endpoint = introspection_server
    app = introspecting_app(endpoint, JWT_JWKS_TIMEOUT=1)
    introspection.active("opaque-1")
    introspection.gate = threading.Event()  # the server holds every call until the test ends
    statuses: list[int] = []

    def ask() -> None:
        statuses.append(call(app, "opaque-1").status_code)

    first = threading.Thread(target=ask)
    try:
        first.start()
        assert introspection.entered.wait(5), "the first request reached the server"
        others = [threading.Thread(target=ask) for _ in range(3)]
        for thread in others:
            thread.start()
        for thread in (first, *others):
            thread.join(timeout=10)
        assert not any(thread.is_alive() for thread in (first, *others)), "a request hung"
    finally:
        introspection.gate.set()
    assert statuses == [503] * 4
    assert introspection.calls <= 2  # late arrivals may ask again, never one call per request


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
