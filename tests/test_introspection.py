"""Opaque access tokens verified by token introspection (RFC 7662), against a real HTTP server.

The authorization server here is a werkzeug server on loopback whose answers
a test sets; tests/test_oidc_provider.py introspects real oidc-provider tokens.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, jsonify, request

import flask_jwtx
from flask_jwtx.exceptions import ConfigurationError
from flask_jwtx.testing import serve

from .dpop_proofs import jkt, new_key, proof
from .helpers import SECRET, bearer

RESOURCE = "https://api.test/"
ISSUER = "https://as.test"
CLIENT = ("resource-server", "a secret/with:odd characters")


class IntrospectionServer:
    """An introspection endpoint: checks the caller's credentials, answers what a test set."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.raw: str | None = None
        self.down = False
        self.calls = 0
        self.app = Flask("introspection")
        self.app.add_url_rule("/introspect", "introspect", self.introspect, methods=["POST"])

    def introspect(self) -> Any:
        self.calls += 1
        user = "resource-server"
        password = "a%20secret%2Fwith%3Aodd%20characters"
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return jsonify(error="invalid_client"), 401
        if self.down:
            return "unavailable", 503
        if self.raw is not None:
            return self.raw, 200, {"Content-Type": "application/json"}
        assert request.form["token_type_hint"] == "access_token"
        return jsonify(self.answers.get(request.form["token"], {"active": False}))

    def active(self, token: str, **claims: Any) -> None:
        now = int(time.time())
        self.answers[token] = {
            "active": True,
            "iss": ISSUER,
            "aud": RESOURCE,
            "client_id": "client-1",
            "scope": "orders:read",
            "iat": now,
            "exp": now + 300,
            **claims,
        }


@pytest.fixture
def server() -> Iterator[tuple[IntrospectionServer, str]]:
    introspection = IntrospectionServer()
    with serve(introspection.app) as base:
        yield introspection, f"{base}/introspect"


def build(endpoint: str, **config: Any) -> Flask:
    app = Flask("api")
    app.config.update(
        TESTING=True,
        JWT_SECRET_KEY=SECRET,
        JWT_RESOURCE=RESOURCE,
        JWT_INTROSPECTION={
            "endpoint": endpoint,
            "client_id": CLIENT[0],
            "client_secret": CLIENT[1],
            "issuer": ISSUER,
        },
        JWT_JWKS_TIMEOUT=2,
    )
    app.config.update(config)
    flask_jwtx.JWTManager(app)

    @app.get("/orders")
    @flask_jwtx.jwt_required(scope="orders:read")
    def orders() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity(), client=flask_jwtx.get_jwt()["client_id"])

    return app


def call(app: Flask, token: str) -> Any:
    return app.test_client().get("/orders", headers=bearer(token))


class TestOpaqueTokens:
    def test_an_active_token_is_accepted_and_its_subject_is_the_client(
        self, server: tuple[IntrospectionServer, str]
    ) -> None:
        """An active token for this resource opens the route; its subject is the client."""
        introspection, endpoint = server
        introspection.active("opaque-1")
        response = call(build(endpoint), "opaque-1")
        assert response.status_code == 200
        assert response.json == {"sub": "client-1", "client": "client-1"}

    def test_answers_are_cached_but_never_past_exp(
        self, server: tuple[IntrospectionServer, str]
    ) -> None:
        """A second request is answered from the cache; an expired entry is asked again."""
        introspection, endpoint = server
        app = build(endpoint)
        introspection.active("opaque-1")
        assert call(app, "opaque-1").status_code == 200
        assert call(app, "opaque-1").status_code == 200
        assert introspection.calls == 1
        introspection.active("short", exp=int(time.time()) - 1)
        assert call(app, "short").status_code == 401  # expired: asked, refused, not cached
        assert call(app, "short").status_code == 401
        assert introspection.calls == 3

    def test_a_cache_ttl_of_zero_asks_every_time(
        self, server: tuple[IntrospectionServer, str]
    ) -> None:
        """cache_ttl 0: a token the server revoked is refused on the next request."""
        introspection, endpoint = server
        settings = {"endpoint": endpoint, "client_id": CLIENT[0], "client_secret": CLIENT[1]}
        app = build(endpoint, JWT_INTROSPECTION={**settings, "cache_ttl": 0})
        introspection.active("opaque-1")
        assert call(app, "opaque-1").status_code == 200
        introspection.answers.clear()  # revoked at the server
        response = call(app, "opaque-1")
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]

    @pytest.mark.parametrize(
        "claims",
        [
            {"aud": "https://other.test/"},
            {"iss": "https://evil.test"},
            {"scope": "orders:write"},
            {"sub": 42},
        ],
    )
    def test_the_answer_is_held_to_the_claim_checks(
        self, server: tuple[IntrospectionServer, str], claims: dict[str, Any]
    ) -> None:
        """Audience, issuer, scope and subject are checked as for a JWT."""
        introspection, endpoint = server
        introspection.active("opaque-1", **claims)
        assert call(build(endpoint), "opaque-1").status_code in (401, 403)

    @pytest.mark.parametrize("answer", [{"active": "true"}, {"active": 1}, {}])
    def test_anything_but_active_true_is_inactive(
        self, server: tuple[IntrospectionServer, str], answer: dict[str, Any]
    ) -> None:
        """Only the JSON value true counts as active."""
        introspection, endpoint = server
        introspection.answers["opaque-1"] = answer
        assert call(build(endpoint), "opaque-1").status_code == 401

    @pytest.mark.parametrize("raw", ["not json", "[true]", '{"active": true, "exp": "soon"}'])
    def test_odd_answers_fail_closed(
        self, server: tuple[IntrospectionServer, str], raw: str
    ) -> None:
        """No JSON object, or a malformed exp: never accepted, never a 500."""
        introspection, endpoint = server
        introspection.raw = raw
        assert call(build(endpoint), "opaque-1").status_code in (401, 503)

    def test_a_server_that_is_down_is_a_503(self, server: tuple[IntrospectionServer, str]) -> None:
        """The server answering 503, or nothing listening: 503 for the client."""
        introspection, endpoint = server
        introspection.down = True
        assert call(build(endpoint), "opaque-1").status_code == 503
        assert call(build("http://127.0.0.1:9/introspect"), "opaque-1").status_code == 503

    def test_jwts_are_still_verified_locally(
        self, server: tuple[IntrospectionServer, str]
    ) -> None:
        """A compact JWS never reaches the introspection endpoint."""
        introspection, endpoint = server
        app = build(endpoint, JWT_RESOURCE=None, JWT_INTROSPECTION=None)
        with app.app_context():
            token = flask_jwtx.create_access_token(
                "alice", additional_claims={"scope": "orders:read", "client_id": "c"}
            )
        app = build(endpoint, JWT_DECODE_AUDIENCE=None, JWT_RESOURCE=None)
        assert call(app, token).status_code == 200
        assert introspection.calls == 0

    def test_a_dpop_bound_opaque_token_needs_its_proof(
        self, server: tuple[IntrospectionServer, str]
    ) -> None:
        """cnf.jkt in the answer binds the token: refused as bearer, accepted with a proof."""
        introspection, endpoint = server
        key: ec.EllipticCurvePrivateKey = new_key()
        introspection.active("bound-1", cnf={"jkt": jkt(key)})
        app = build(endpoint, JWT_DPOP="allowed", JWT_REVOCATION_STORE="memory://")
        assert call(app, "bound-1").status_code == 401
        headers = {
            "Authorization": "DPoP bound-1",
            "DPoP": proof(key, token="bound-1", url="https://api.test/orders"),  # JWT_RESOURCE's
        }
        response = app.test_client().get("/orders", base_url="https://api.test", headers=headers)
        assert response.status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "https://as.test/introspect",
        {"endpoint": "https://as.test/introspect"},
        {"endpoint": "ftp://as.test", "client_id": "a", "client_secret": "b"},
        {"endpoint": "https://as.test", "client_id": "a", "client_secret": "b", "issuer": 7},
        {"endpoint": "https://as.test", "client_id": "a", "client_secret": "b", "cache_ttl": -1},
        {"endpoint": "https://as.test:99999/", "client_id": "a", "client_secret": "b"},
    ],
)
def test_wrong_settings_fail_at_init_app(value: Any) -> None:
    """JWT_INTROSPECTION is validated in init_app."""
    with pytest.raises(ConfigurationError, match="JWT_INTROSPECTION"):
        build("unused", JWT_INTROSPECTION=value)
