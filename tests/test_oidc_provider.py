"""flask-jwtx against a real authorization server: oidc-provider on loopback.

The server (tests/oidc/server.mjs, the npm package ``oidc-provider`` on
Node.js, installed by scripts/test.sh with ``npm ci``) issues RFC 9068 JWT
access tokens through the client credentials grant with resource indicators,
bearer or DPoP-bound. Tests obtain tokens over HTTP as a real client does and
call a Flask app protected by flask-jwtx, which finds the server's keys by
discovery. Hostile requests are built with PyJWT and cryptography.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, jsonify

import flask_jwtx

from .dpop_proofs import new_key, proof, public_jwk
from .helpers import bearer
from .oidc import launch
from .stores import PostgresServer, RedisServer

#: A Node.js server per xdist worker, and real HTTP round trips for every token.
pytestmark = pytest.mark.slow

RESOURCE = "https://api.test/"
OTHER_RESOURCE = "https://other.test/"
OPAQUE_RESOURCE = "https://opaque.test/"
CLIENT_ID = "api-client"
CLIENT_SECRET = "a-client-secret-for-tests-only-0123456789"
#: The orders route at the resource's own origin, which a proof's ``htu`` must name.
ORDERS = "https://api.test/orders"


class Server(NamedTuple):
    issuer: str
    token_endpoint: str
    introspection_endpoint: str


@pytest.fixture(scope="session")
def authorization_server() -> Iterator[Server]:
    """oidc-provider, started once for the session on an ephemeral loopback port."""
    settings = {
        "RESOURCE": RESOURCE,
        "OTHER_RESOURCE": OTHER_RESOURCE,
        "OPAQUE_RESOURCE": OPAQUE_RESOURCE,
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
    }
    try:
        with launch.running(settings) as issuer:
            with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration") as answer:  # noqa: S310
                metadata = json.load(answer)
            yield Server(issuer, metadata["token_endpoint"], metadata["introspection_endpoint"])
    except launch.ServerMissingError as missing:
        pytest.fail(f"{missing} (scripts/test.sh does)")


class Client:
    """An OAuth client of the server: client credentials, optionally with a DPoP key."""

    def __init__(self, server: Server, key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self.server = server
        self.key = key

    def token(self, scope: str = "orders:read", resource: str = RESOURCE) -> dict[str, Any]:
        form = {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": scope,
            "resource": resource,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.key is not None:
            headers["DPoP"] = proof(self.key, method="POST", url=self.server.token_endpoint)
        request = urllib.request.Request(  # noqa: S310 - loopback http
            self.server.token_endpoint,
            data=urllib.parse.urlencode(form).encode(),
            headers=headers,
            method="POST",
        )
        with urllib.request.urlopen(request) as answer:  # noqa: S310
            body: dict[str, Any] = json.load(answer)
        return body


def resource_app(server: Server, **config: Any) -> Flask:
    app = Flask("orders-api")
    app.config.update(
        TESTING=True,
        JWT_RESOURCE=RESOURCE,
        JWT_TRUSTED_ISSUERS=[server.issuer],
        JWT_DPOP="allowed",
        JWT_REVOCATION_STORE="memory://",
        JWT_JWKS_TIMEOUT=5,
    )
    app.config.update(config)
    flask_jwtx.JWTManager(app)

    @app.get("/orders")
    @flask_jwtx.jwt_required(scope="orders:read")
    def orders() -> Any:
        claims = flask_jwtx.get_jwt()
        return jsonify(client=claims["client_id"], bound="cnf" in claims)

    @app.post("/orders")
    @flask_jwtx.jwt_required(scope="orders:write")
    def create_order() -> Any:
        return jsonify(created=True), 201

    return app


def orders_with_bearer(app: Flask, token: str) -> Any:
    """``GET /orders`` with ``token`` as a bearer token."""
    return app.test_client().get("/orders", headers=bearer(token))


def orders_with_dpop(app: Flask, token: str, proof_value: str) -> Any:
    """``GET /orders`` with ``token`` under the DPoP scheme and ``proof_value`` as its proof."""
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof_value}
    return app.test_client().get("/orders", base_url="https://api.test", headers=headers)


def refused(response: Any, error: str) -> None:
    assert response.status_code == 401, response.json
    assert "msg" in (response.json or {})
    assert f'error="{error}"' in ", ".join(response.headers.getlist("WWW-Authenticate"))


class TestBearerTokens:
    def test_a_client_credentials_token_for_this_resource_is_accepted(
        self, authorization_server: Server
    ) -> None:
        """A token obtained with resource= this API, over HTTP, opens the route."""
        answer = Client(authorization_server).token()
        assert answer["token_type"] == "Bearer"
        header = jwt.get_unverified_header(answer["access_token"])
        assert header["typ"] == "at+jwt"
        response = orders_with_bearer(resource_app(authorization_server), answer["access_token"])
        assert response.status_code == 200
        assert response.json == {"client": CLIENT_ID, "bound": False}

    def test_a_missing_scope_is_insufficient_scope(self, authorization_server: Server) -> None:
        """orders:read does not create orders: 403 with the scope the route needs."""
        token = Client(authorization_server).token("orders:read")["access_token"]
        response = (
            resource_app(authorization_server).test_client().post("/orders", headers=bearer(token))
        )
        assert response.status_code == 403
        challenge = response.headers["WWW-Authenticate"]
        assert 'error="insufficient_scope"' in challenge
        assert 'scope="orders:write"' in challenge

    def test_a_token_for_another_resource_is_refused(self, authorization_server: Server) -> None:
        """The same server's token for another API does not open this one (aud)."""
        token = Client(authorization_server).token(resource=OTHER_RESOURCE)["access_token"]
        assert jwt.decode(token, options={"verify_signature": False})["aud"] == OTHER_RESOURCE
        refused(orders_with_bearer(resource_app(authorization_server), token), "invalid_token")

    def test_discovery_naming_another_issuer_is_refused(
        self, authorization_server: Server
    ) -> None:
        """Configured as localhost, the server's metadata says 127.0.0.1: no keys, no access."""
        alias = authorization_server.issuer.replace("127.0.0.1", "localhost")
        app = resource_app(authorization_server, JWT_TRUSTED_ISSUERS=[alias])
        token = Client(authorization_server).token()["access_token"]
        assert (
            orders_with_bearer(app, token).status_code == 401
        )  # its iss is not the configured one
        assert orders_with_bearer(app, _reissued(token, alias)).status_code == 503

    def test_the_metadata_names_the_server(self, authorization_server: Server) -> None:
        """RFC 9728: this API's metadata points clients at the authorization server."""
        app = resource_app(authorization_server)
        document = app.test_client().get("/.well-known/oauth-protected-resource").json or {}
        assert document["resource"] == RESOURCE
        assert document["authorization_servers"] == [authorization_server.issuer]
        assert document["scopes_supported"] == ["orders:read", "orders:write"]


def _reissued(token: str, issuer: str) -> str:
    """``token`` with another ``iss`` and the same header (its signature no longer fits).

    The resource server must fetch that issuer's keys before it can tell: the
    request shows that discovery refused the metadata (503), not the signature.
    """
    header_segment, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["iss"] = issuer
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header_segment}.{payload}.{signature}"


@pytest.fixture
def bound(authorization_server: Server) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A DPoP key and the access token the server bound to it."""
    key = new_key()
    answer = Client(authorization_server, key).token()
    assert answer["token_type"] == "DPoP"
    return key, answer["access_token"]


Mutation = Callable[[ec.EllipticCurvePrivateKey, str], str]


def _hmac_proof(key: ec.EllipticCurvePrivateKey, token: str) -> str:
    claims = {"jti": str(uuid.uuid4()), "htm": "GET", "htu": ORDERS, "iat": int(time.time())}
    jwk = {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}
    return jwt.encode(claims, "s" * 32, "HS256", headers={"typ": "dpop+jwt", "jwk": jwk})


def _unsigned_proof(key: ec.EllipticCurvePrivateKey, token: str) -> str:
    claims = {"jti": str(uuid.uuid4()), "htm": "GET", "htu": ORDERS, "iat": int(time.time())}
    headers = {"typ": "dpop+jwt", "jwk": public_jwk(key)}
    return jwt.encode(claims, "", "none", headers=headers)


HOSTILE: dict[str, tuple[Mutation, str]] = {
    "wrong htm": (lambda k, t: proof(k, token=t, url=ORDERS, method="POST"), "invalid_dpop_proof"),
    "wrong htu": (
        lambda k, t: proof(k, token=t, url="https://api.test/other"),
        "invalid_dpop_proof",
    ),
    "htu of another origin": (
        lambda k, t: proof(k, token=t, url="https://other.test/orders"),
        "invalid_dpop_proof",
    ),
    "stale iat": (
        lambda k, t: proof(k, token=t, url=ORDERS, iat=time.time() - 300),
        "invalid_dpop_proof",
    ),
    "future iat": (
        lambda k, t: proof(k, token=t, url=ORDERS, iat=time.time() + 300),
        "invalid_dpop_proof",
    ),
    "ath of another token": (
        lambda k, t: proof(k, token=t + "x", url=ORDERS),
        "invalid_dpop_proof",
    ),
    "key not the bound one": (
        lambda k, t: proof(new_key(), token=t, url=ORDERS),
        "invalid_token",
    ),
    "HMAC proof": (_hmac_proof, "invalid_dpop_proof"),
    "none proof": (_unsigned_proof, "invalid_dpop_proof"),
    "private key in jwk": (
        lambda k, t: proof(
            k,
            token=t,
            url=ORDERS,
            header={"jwk": jwt.algorithms.ECAlgorithm.to_jwk(k, as_dict=True)},
        ),
        "invalid_dpop_proof",
    ),
}


class TestDPoPBoundTokens:
    def test_a_bound_token_with_its_proof_is_accepted(
        self, authorization_server: Server, bound: tuple[ec.EllipticCurvePrivateKey, str]
    ) -> None:
        """The server's DPoP-bound token, with a proof of the client's key, opens the route."""
        key, token = bound
        claims = jwt.decode(token, options={"verify_signature": False})
        assert "jkt" in claims["cnf"]
        response = orders_with_dpop(
            resource_app(authorization_server), token, proof(key, token=token, url=ORDERS)
        )
        assert response.status_code == 200
        assert response.json == {"client": CLIENT_ID, "bound": True}

    def test_the_bound_token_as_a_bearer_token_is_refused(
        self, authorization_server: Server, bound: tuple[ec.EllipticCurvePrivateKey, str]
    ) -> None:
        """Downgrade: without its proof, the bound token is refused."""
        refused(orders_with_bearer(resource_app(authorization_server), bound[1]), "invalid_token")

    @pytest.mark.parametrize("case", sorted(HOSTILE))
    def test_hostile_proofs_are_refused(
        self,
        authorization_server: Server,
        bound: tuple[ec.EllipticCurvePrivateKey, str],
        case: str,
    ) -> None:
        """Each forged or misdirected proof is a 401 with the matching DPoP error."""
        key, token = bound
        mutate, error = HOSTILE[case]
        refused(
            orders_with_dpop(resource_app(authorization_server), token, mutate(key, token)), error
        )

    @pytest.mark.parametrize("kind", ["redis", "postgresql"])
    def test_a_replayed_proof_is_refused_by_another_instance(
        self,
        authorization_server: Server,
        bound: tuple[ec.EllipticCurvePrivateKey, str],
        kind: str,
        request: pytest.FixtureRequest,
    ) -> None:
        """Two instances sharing a store: a proof captured on one is refused on the other."""
        if kind == "redis":
            redis_server: RedisServer = request.getfixturevalue("redis_server")
            redis_server.flush()
            url = redis_server.url
        else:
            postgres_server: PostgresServer = request.getfixturevalue("postgres_server")
            url = postgres_server.url
        config = {
            "JWT_REVOCATION_STORE": url,
            "JWT_REVOCATION_TABLE": f"oidc_{uuid.uuid4().hex[:10]}",
        }
        first = resource_app(authorization_server, **config)
        second = resource_app(authorization_server, **config)
        key, token = bound
        captured = proof(key, token=token, url=ORDERS)
        try:
            assert orders_with_dpop(first, token, captured).status_code == 200
            refused(orders_with_dpop(second, token, captured), "invalid_dpop_proof")
            assert (
                orders_with_dpop(second, token, proof(key, token=token, url=ORDERS)).status_code
                == 200
            )
        finally:
            for app in (first, second):
                app.extensions["flask-jwtx"].manager.close(app)


class TestOpaqueTokens:
    """The server issues opaque tokens for one API: it verifies them by introspection."""

    def introspecting_app(self, server: Server) -> Flask:
        return resource_app(
            server,
            JWT_RESOURCE=OPAQUE_RESOURCE,
            JWT_INTROSPECTION={
                "endpoint": server.introspection_endpoint,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "issuer": server.issuer,
            },
        )

    def test_an_opaque_token_is_introspected_and_accepted(
        self, authorization_server: Server
    ) -> None:
        """An opaque token for this API: the server says active, the route opens."""
        token = Client(authorization_server).token(resource=OPAQUE_RESOURCE)["access_token"]
        assert token.count(".") != 2  # not a JWT
        response = orders_with_bearer(self.introspecting_app(authorization_server), token)
        assert response.status_code == 200
        assert response.json == {"client": CLIENT_ID, "bound": False}

    def test_the_apps_issuer_holds_for_answers(self, authorization_server: Server) -> None:
        """With no issuer in JWT_INTROSPECTION, the real answers must name JWT_DECODE_ISSUER."""
        token = Client(authorization_server).token(resource=OPAQUE_RESOURCE)["access_token"]
        settings = {
            "endpoint": authorization_server.introspection_endpoint,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }

        def app(issuer: str) -> Flask:
            return resource_app(
                authorization_server,
                JWT_RESOURCE=OPAQUE_RESOURCE,
                JWT_INTROSPECTION=settings,
                JWT_DECODE_ISSUER=issuer,
            )

        assert orders_with_bearer(app(authorization_server.issuer), token).status_code == 200
        refused(orders_with_bearer(app("https://another-tenant.test"), token), "invalid_token")

    def test_an_unknown_opaque_token_is_refused(self, authorization_server: Server) -> None:
        """A made-up token: inactive, 401 invalid_token."""
        app = self.introspecting_app(authorization_server)
        refused(orders_with_bearer(app, "made-up-token-value"), "invalid_token")

    def test_a_jwt_for_another_resource_is_still_refused(
        self, authorization_server: Server
    ) -> None:
        """JWTs are verified locally: this API's audience is the opaque resource."""
        token = Client(authorization_server).token()["access_token"]
        refused(
            orders_with_bearer(self.introspecting_app(authorization_server), token),
            "invalid_token",
        )
