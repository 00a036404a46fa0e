"""A resource server behind an authorization server: RFC 9068 tokens, discovery, RFC 9728.

The authorization server here is a real HTTP server on loopback (werkzeug,
threaded) serving its metadata and JWKS; tokens are signed with its key as
it would sign them. tests/test_oidc_provider.py does the same against a real
OAuth server (oidc-provider).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import jwt
import pytest
from flask import Flask, jsonify
from flask.views import MethodView

import flask_jwtx
from flask_jwtx._core.jose.keyset import Key, KeySet
from flask_jwtx._core.keysources.discovery import DiscoveredKeys
from flask_jwtx._core.oauth.dpop import DEFAULT_ALGORITHMS
from flask_jwtx.exceptions import ConfigurationError, KeySourceUnavailableError
from flask_jwtx.testing import serve

from .helpers import bearer, read_key
from .tls import Certificate, https_server, trusting

SIGNING = Key.from_pem(algorithm="RS256", private_key=read_key("rsa_private.pem"), kid="as-1")
RESOURCE = "https://api.test/v1"
METADATA_PATH = "/.well-known/oauth-protected-resource/v1"


class AuthorizationServer:
    """Metadata and JWKS of an issuer; a test changes what the metadata says."""

    def __init__(self) -> None:
        self.base = ""
        self.path = ""  # the issuer's path (a tenant), for RFC 8414's path insertion
        self.oidc = True  # serve OpenID Connect discovery (else only RFC 8414)
        self.named_issuer: str | None = None  # what the metadata claims, when not the truth
        self.jwks_uri: Any = "default"
        self.raw: str | None = None  # a body to answer metadata requests with instead
        self.app = Flask("authorization-server")
        self.app.add_url_rule("/<path:path>", "any", self.route)

    @property
    def issuer(self) -> str:
        return self.base + self.path

    def metadata(self) -> dict[str, Any]:
        jwks_uri = f"{self.base}/jwks" if self.jwks_uri == "default" else self.jwks_uri
        document: dict[str, Any] = {"issuer": self.named_issuer or self.issuer}
        if jwks_uri is not None:
            document["jwks_uri"] = jwks_uri
        return document

    def route(self, path: str) -> Any:
        oidc = f"{self.path.lstrip('/')}/.well-known/openid-configuration".lstrip("/")
        oauth = f".well-known/oauth-authorization-server{self.path}"
        if path == "jwks":
            return jsonify(KeySet([SIGNING]).public_jwks())
        if (path == oidc and self.oidc) or path == oauth:
            if self.raw is not None:
                return self.raw, 200, {"Content-Type": "application/json"}
            return jsonify(self.metadata())
        return "not found", 404

    def token(
        self, *, typ: str | None = "at+jwt", drop: tuple[str, ...] = (), **claims: Any
    ) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "client-1",
            "aud": RESOURCE,
            "client_id": "client-1",
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            "scope": "orders:read",
        }
        body.update(claims)
        for name in drop:
            body.pop(name)
        headers: dict[str, Any] = {"kid": SIGNING.kid}
        if typ is not None:
            headers["typ"] = typ
        assert SIGNING.signing is not None
        return jwt.encode(body, SIGNING.signing.key, "RS256", headers=headers)


@pytest.fixture
def server() -> Iterator[AuthorizationServer]:
    authorization_server = AuthorizationServer()
    with serve(authorization_server.app) as base:
        authorization_server.base = base
        yield authorization_server


class Orders(MethodView):
    decorators: ClassVar[list[Any]] = [flask_jwtx.jwt_required(scope="orders:write")]

    def post(self) -> Any:
        return jsonify(created=True)


def resource_app(issuers: list[Any], **config: Any) -> Flask:
    app = Flask("resource")
    app.config.update(
        TESTING=True,
        JWT_RESOURCE=RESOURCE,
        JWT_TRUSTED_ISSUERS=issuers,
        JWT_JWKS_TIMEOUT=2,
        JWT_JWKS_MIN_REFRESH_INTERVAL=0.1,
    )
    app.config.update(config)
    flask_jwtx.JWTManager(app)

    @app.get("/orders")
    @flask_jwtx.jwt_required(scope="orders:read")
    def orders() -> Any:
        return jsonify(client=flask_jwtx.get_jwt().get("client_id"))

    app.add_url_rule("/orders/new", view_func=Orders.as_view("new_order"))
    return app


def call(app: Flask, token: str, path: str = "/orders") -> Any:
    return app.test_client().get(path, headers=bearer(token))


def refused(response: Any, status: int = 401, error: str = "invalid_token") -> str:
    assert response.status_code == status, response.json
    challenge: str = response.headers["WWW-Authenticate"]
    assert f'error="{error}"' in challenge
    return challenge


class TestAccessTokenProfile:
    """RFC 9068 for every trusted issuer of a resource server."""

    def test_a_conforming_access_token_is_accepted(self, server: AuthorizationServer) -> None:
        """at+jwt, aud naming JWT_RESOURCE, every required claim: accepted."""
        app = resource_app([{"issuer": server.issuer, "jwks_url": f"{server.base}/jwks"}])
        response = call(app, server.token())
        assert response.status_code == 200
        assert response.json == {"client": "client-1"}

    @pytest.mark.parametrize("typ", ["application/at+jwt", "AT+JWT"])
    def test_the_typ_may_be_spelt_as_a_media_type(
        self, server: AuthorizationServer, typ: str
    ) -> None:
        """RFC 7515: typ is a media type, with or without 'application/', any case."""
        app = resource_app([{"issuer": server.issuer, "jwks_url": f"{server.base}/jwks"}])
        assert call(app, server.token(typ=typ)).status_code == 200

    @pytest.mark.parametrize("typ", ["JWT", None, "id_token+jwt"])
    def test_other_token_types_are_refused(
        self, server: AuthorizationServer, typ: str | None
    ) -> None:
        """An ID token, or any JWT not labelled at+jwt, is not an access token."""
        app = resource_app([{"issuer": server.issuer, "jwks_url": f"{server.base}/jwks"}])
        refused(call(app, server.token(typ=typ)))

    @pytest.mark.parametrize("claim", ["iss", "exp", "sub", "client_id", "iat", "jti", "aud"])
    def test_every_required_claim_is_required(
        self, server: AuthorizationServer, claim: str
    ) -> None:
        """A token missing any RFC 9068 claim is refused."""
        app = resource_app([{"issuer": server.issuer, "jwks_url": f"{server.base}/jwks"}])
        refused(call(app, server.token(drop=(claim,))))

    def test_a_token_for_another_resource_is_refused(self, server: AuthorizationServer) -> None:
        """aud must name JWT_RESOURCE."""
        app = resource_app([{"issuer": server.issuer, "jwks_url": f"{server.base}/jwks"}])
        refused(call(app, server.token(aud="https://other.test/")))

    def test_the_scope_claim_feeds_the_route_scopes(self, server: AuthorizationServer) -> None:
        """jwt_required(scope=...) reads the token's scope; a missing one is insufficient_scope."""
        app = resource_app([{"issuer": server.issuer, "jwks_url": f"{server.base}/jwks"}])
        response = app.test_client().post("/orders/new", headers=bearer(server.token()))
        challenge = refused(response, 403, "insufficient_scope")
        assert 'scope="orders:write"' in challenge
        writer = server.token(scope="orders:read orders:write")
        response = app.test_client().post("/orders/new", headers=bearer(writer))
        assert response.status_code == 200

    def test_the_profile_can_be_switched_off_or_its_typ_changed(
        self, server: AuthorizationServer
    ) -> None:
        """'profile': None for issuers outside RFC 9068; 'typ' for other labels."""
        jwks = f"{server.base}/jwks"
        plain = resource_app([{"issuer": server.issuer, "jwks_url": jwks, "profile": None}])
        assert call(plain, server.token(typ="JWT", drop=("client_id",))).status_code == 200
        custom = resource_app([{"issuer": server.issuer, "jwks_url": jwks, "typ": ["jwt"]}])
        assert call(custom, server.token(typ="JWT")).status_code == 200
        refused(call(custom, server.token()))
        anything = resource_app([{"issuer": server.issuer, "jwks_url": jwks, "typ": None}])
        assert call(anything, server.token(typ=None)).status_code == 200

    @pytest.mark.parametrize(
        ("entry", "message"),
        [
            ({"profile": "rfc1234"}, "Use 'rfc9068' or None"),
            ({"typ": []}, "Use a string, a list, or None"),
            ({"typ": 7}, "Use a string, a list, or None"),
        ],
    )
    def test_wrong_profile_settings_fail_at_init_app(
        self, entry: dict[str, Any], message: str
    ) -> None:
        """A profile or typ that means nothing is a ConfigurationError."""
        issuer = {"issuer": "https://as.test", "jwks_url": "https://as.test/jwks", **entry}
        with pytest.raises(ConfigurationError, match=message):
            resource_app([issuer])


class TestDiscovery:
    """An issuer named by its URL alone."""

    def test_openid_connect_discovery(self, server: AuthorizationServer) -> None:
        """The issuer's openid-configuration names its jwks_uri."""
        app = resource_app([server.issuer])
        assert call(app, server.token()).status_code == 200

    def test_rfc8414_metadata_with_path_insertion(self, server: AuthorizationServer) -> None:
        """Without OpenID Connect, /.well-known/oauth-authorization-server/<path> is read."""
        server.path, server.oidc = "/tenant-a", False
        app = resource_app([{"issuer": server.issuer}])
        assert call(app, server.token()).status_code == 200

    def test_metadata_naming_another_issuer_is_refused(self, server: AuthorizationServer) -> None:
        """A document whose issuer differs from the configured one: no keys (503), no token."""
        server.named_issuer = "https://attacker.test"
        app = resource_app([server.issuer])
        response = call(app, server.token())
        assert response.status_code == 503
        assert response.json == {"msg": "Token keys are unavailable"}

    @pytest.mark.parametrize("jwks_uri", [None, "ftp://x/jwks", 42, "http://[::1"])
    def test_metadata_without_a_usable_jwks_uri_fails_closed(
        self, server: AuthorizationServer, jwks_uri: Any
    ) -> None:
        """No usable jwks_uri: 503, never a 500, never an accepted token."""
        server.jwks_uri = jwks_uri
        app = resource_app([server.issuer])
        assert call(app, server.token()).status_code == 503

    @pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"issuer"', "{" * 100000])
    def test_metadata_that_is_no_json_object_fails_closed(
        self, server: AuthorizationServer, raw: str
    ) -> None:
        """Whatever the metadata endpoint answers, the outcome is keys or a 503."""
        server.raw = raw
        app = resource_app([server.issuer])
        assert call(app, server.token()).status_code == 503

    def test_an_unreachable_issuer_fails_closed(self, server: AuthorizationServer) -> None:
        """Nothing answers at the issuer: 503."""
        app = resource_app(["http://127.0.0.1:9/"], JWT_JWKS_TIMEOUT=0.5)
        token = server.token(iss="http://127.0.0.1:9/")
        response = call(app, token)
        assert response.status_code == 503
        assert "WWW-Authenticate" not in response.headers

    @pytest.mark.parametrize("scheme", ["https", "http"])
    def test_an_https_issuer_cannot_send_us_to_plain_http_for_its_keys(
        self, server: AuthorizationServer, certificate: Certificate, scheme: str
    ) -> None:
        """Metadata read over TLS may name an https jwks_uri, never a plain http one."""
        places: dict[str, str] = {}
        metadata = Flask("tls-issuer")
        metadata.add_url_rule(
            "/.well-known/openid-configuration",
            "metadata",
            lambda: jsonify(issuer=places["issuer"], jwks_uri=places[scheme]),
        )
        metadata.add_url_rule("/jwks", "jwks", lambda: jsonify(KeySet([SIGNING]).public_jwks()))
        with https_server(certificate, metadata) as issuer:
            places.update(issuer=issuer, https=f"{issuer}/jwks", http=f"{server.base}/jwks")
            discovered = DiscoveredKeys(issuer, timeout=5, ssl_context=trusting(certificate))
            if scheme == "https":
                assert [key.kid for key in discovered()] == ["as-1"]
            else:
                with pytest.raises(KeySourceUnavailableError, match="not https"):
                    discovered()

    def test_a_bad_issuer_url_fails_at_init_app(self) -> None:
        """An issuer to discover must be an http(s) URL without query."""
        for issuer in ("ftp://as.test", "https://as.test/?tenant=1"):
            with pytest.raises(ConfigurationError, match="JWT_TRUSTED_ISSUERS"):
                resource_app([issuer])


class TestMetadata:
    """RFC 9728 protected resource metadata."""

    def test_the_document_describes_the_resource(self, server: AuthorizationServer) -> None:
        """resource, authorization servers, scopes from the routes, methods, DPoP."""
        app = resource_app([server.issuer], JWT_DPOP="allowed", JWT_REVOCATION_STORE="memory://")
        response = app.test_client().get(METADATA_PATH)
        assert response.status_code == 200
        assert response.json == {
            "resource": RESOURCE,
            "authorization_servers": [server.issuer],
            "scopes_supported": ["orders:read", "orders:write"],
            "bearer_methods_supported": ["header"],
            "dpop_signing_alg_values_supported": sorted(DEFAULT_ALGORITHMS),
            "dpop_bound_access_tokens_required": False,
        }

    def test_required_dpop_is_announced(self) -> None:
        """JWT_DPOP='required' says dpop_bound_access_tokens_required."""
        app = resource_app(
            [{"issuer": "https://as.test", "jwks_url": "https://as.test/jwks"}],
            JWT_DPOP="required",
            JWT_DPOP_ALGORITHMS=["ES256"],
            JWT_REVOCATION_STORE="memory://",
            JWT_TOKEN_LOCATION=["headers", "query_string"],
        )
        document: dict[str, Any] = app.test_client().get(METADATA_PATH).json or {}
        assert document["dpop_bound_access_tokens_required"] is True
        assert document["dpop_signing_alg_values_supported"] == ["ES256"]
        assert document["bearer_methods_supported"] == ["header", "query"]

    def test_refusals_point_at_the_metadata(self) -> None:
        """A request without a token learns where the metadata is."""
        app = resource_app([{"issuer": "https://as.test", "jwks_url": "https://as.test/jwks"}])
        response = app.test_client().get("/orders")
        assert response.status_code == 401
        expected = f'Bearer resource_metadata="https://api.test{METADATA_PATH}"'
        assert response.headers["WWW-Authenticate"] == expected

    def test_a_resource_at_the_root_and_a_local_issuer(self) -> None:
        """Metadata without a path suffix; the local JWT_DECODE_ISSUER as the server."""
        app = Flask("root")
        app.config.update(
            JWT_SECRET_KEY="s" * 40,
            JWT_RESOURCE="https://api.test",
            JWT_DECODE_ISSUER="https://login.test",
        )
        flask_jwtx.JWTManager(app)
        document: dict[str, Any] = (
            app.test_client().get("/.well-known/oauth-protected-resource").json or {}
        )
        assert document["authorization_servers"] == ["https://login.test"]
        assert "scopes_supported" not in document
        assert "dpop_signing_alg_values_supported" not in document

    def test_no_metadata_without_a_resource(self) -> None:
        """Apps that are no resource server serve nothing new."""
        app = Flask("plain")
        app.config.update(JWT_SECRET_KEY="s" * 40)
        flask_jwtx.JWTManager(app)
        assert app.test_client().get("/.well-known/oauth-protected-resource").status_code == 404
