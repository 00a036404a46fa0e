"""Opaque access tokens verified by token introspection (RFC 7662), against a real HTTP server.

The authorization server here is a werkzeug server on loopback whose answers
a test sets; tests/test_oidc_provider.py introspects real oidc-provider tokens.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ec
from flask import jsonify

import flask_jwtx
from flask_jwtx._core.jose.claims import VerifyPolicy
from flask_jwtx._core.keysources.introspection import (
    InactiveTokenError,
    Introspector,
    introspection_spec,
)
from flask_jwtx.exceptions import ConfigurationError

from .dpop_proofs import jkt, new_key, proof
from .introspection_server import (
    CLIENT,
    ISSUER,
    RESOURCE,
    IntrospectionServer,
    build,
    call,
    spec,
    waiting,
)


class TestOpaqueTokens:
    def test_an_active_token_is_accepted_and_its_subject_is_the_client(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """An active token for this resource opens the route; its subject is the client."""
        introspection, endpoint = introspection_server
        introspection.active("opaque-1")
        response = call(build(endpoint), "opaque-1")
        assert response.status_code == 200
        assert response.json == {"sub": "client-1", "client": "client-1"}

    def test_answers_are_cached_but_never_past_exp(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """A second request is answered from the cache; an expired entry is asked again."""
        introspection, endpoint = introspection_server
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
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """cache_ttl 0: a token the server revoked is refused on the next request."""
        introspection, endpoint = introspection_server
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
        self, introspection_server: tuple[IntrospectionServer, str], claims: dict[str, Any]
    ) -> None:
        """Audience, issuer, scope and subject are checked as for a JWT."""
        introspection, endpoint = introspection_server
        introspection.active("opaque-1", **claims)
        assert call(build(endpoint), "opaque-1").status_code in (401, 403)

    @pytest.mark.parametrize("answer", [{"active": "true"}, {"active": 1}, {}])
    def test_anything_but_active_true_is_inactive(
        self, introspection_server: tuple[IntrospectionServer, str], answer: dict[str, Any]
    ) -> None:
        """Only the JSON value true counts as active."""
        introspection, endpoint = introspection_server
        introspection.answers["opaque-1"] = answer
        assert call(build(endpoint), "opaque-1").status_code == 401

    @pytest.mark.parametrize("raw", ["not json", "[true]", '{"active": true, "exp": "soon"}'])
    def test_odd_answers_fail_closed(
        self, introspection_server: tuple[IntrospectionServer, str], raw: str
    ) -> None:
        """No JSON object, or a malformed exp: never accepted, never a 500."""
        introspection, endpoint = introspection_server
        introspection.raw = raw
        assert call(build(endpoint), "opaque-1").status_code in (401, 503)

    def test_a_server_that_is_down_is_a_503(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """The server answering 503, or nothing listening: 503 for the client."""
        introspection, endpoint = introspection_server
        introspection.down = True
        assert call(build(endpoint), "opaque-1").status_code == 503
        assert call(build("http://127.0.0.1:9/introspect"), "opaque-1").status_code == 503

    def test_jwts_are_still_verified_locally(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """A compact JWS never reaches the introspection endpoint."""
        introspection, endpoint = introspection_server
        app = build(endpoint, JWT_RESOURCE=None, JWT_INTROSPECTION=None)
        with app.app_context():
            token = flask_jwtx.create_access_token(
                "alice", additional_claims={"scope": "orders:read", "client_id": "c"}
            )
        app = build(
            endpoint,
            JWT_DECODE_AUDIENCE=None,
            JWT_RESOURCE=None,
            JWT_INTROSPECTION=spec(endpoint, audience=RESOURCE),
        )
        assert call(app, token).status_code == 200
        assert introspection.calls == 0

    def test_a_dpop_bound_opaque_token_needs_its_proof(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """cnf.jkt in the answer binds the token: refused as bearer, accepted with a proof."""
        introspection, endpoint = introspection_server
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


class TestTheAppsClaimRules:
    """Answers meet the claim rules the app sets for JWTs, unless JWT_INTROSPECTION overrides."""

    def test_the_configured_issuer_holds_for_introspected_tokens(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """Without an issuer in JWT_INTROSPECTION, answers must name JWT_DECODE_ISSUER."""
        introspection, endpoint = introspection_server
        app = build(endpoint, JWT_INTROSPECTION=spec(endpoint), JWT_DECODE_ISSUER=ISSUER)
        introspection.active("own-tenant")
        introspection.active("other-tenant", iss="https://other-tenant.test")
        assert call(app, "own-tenant").status_code == 200
        assert call(app, "other-tenant").status_code == 401

    def test_the_introspection_issuer_comes_first(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """An issuer in JWT_INTROSPECTION is the one answers must name, not JWT_DECODE_ISSUER."""
        introspection, endpoint = introspection_server
        app = build(endpoint, JWT_DECODE_ISSUER="https://local.test")
        introspection.active("opaque-1")
        introspection.active("local", iss="https://local.test")
        assert call(app, "opaque-1").status_code == 200
        assert call(app, "local").status_code == 401

    def test_the_decode_audience_holds_without_a_resource(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """Without JWT_RESOURCE, answers must name JWT_DECODE_AUDIENCE."""
        introspection, endpoint = introspection_server
        app = build(endpoint, JWT_RESOURCE=None, JWT_DECODE_AUDIENCE="orders-api")
        introspection.active("mine", aud="orders-api")
        introspection.active("theirs", aud="https://other.test/")
        assert call(app, "mine").status_code == 200
        assert call(app, "theirs").status_code in (401, 422)

    def test_the_decode_leeway_holds(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """JWT_DECODE_LEEWAY lets an answer whose exp has just passed through, as for a JWT."""
        introspection, endpoint = introspection_server
        introspection.active("just-expired", exp=int(time.time()) - 5)
        assert call(build(endpoint), "just-expired").status_code == 401
        assert call(build(endpoint, JWT_DECODE_LEEWAY=60), "just-expired").status_code == 200


class TestAudience:
    """Every answer names an audience this service accepts, unless switched off explicitly."""

    def test_introspection_without_any_audience_fails_at_init_app(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """No JWT_RESOURCE, JWT_DECODE_AUDIENCE nor 'audience': init_app refuses, with the fix."""
        _, endpoint = introspection_server
        with pytest.raises(ConfigurationError, match="JWT_INTROSPECTION") as raised:
            build(endpoint, JWT_RESOURCE=None, JWT_INTROSPECTION=spec(endpoint))
        assert "audience" in str(raised.value)
        assert "verify_audience" in str(raised.value)

    def test_its_own_audience_is_what_answers_must_name(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """JWT_INTROSPECTION's 'audience' comes before JWT_RESOURCE, as a trusted issuer's does."""
        introspection, endpoint = introspection_server
        app = build(endpoint, JWT_INTROSPECTION=spec(endpoint, audience=["https://opaque.test/"]))
        introspection.active("for-opaque-api", aud="https://opaque.test/")
        introspection.active("for-jwt-api")  # aud: JWT_RESOURCE
        assert call(app, "for-opaque-api").status_code == 200
        assert call(app, "for-jwt-api").status_code == 401

    def test_verify_audience_false_is_the_explicit_opt_out(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """'verify_audience': False starts without any audience, and answers name any."""
        introspection, endpoint = introspection_server
        app = build(
            endpoint, JWT_RESOURCE=None, JWT_INTROSPECTION=spec(endpoint, verify_audience=False)
        )
        introspection.active("anywhere", aud="https://other.test/")
        assert call(app, "anywhere").status_code == 200


class TestCookies:
    def test_an_opaque_cookie_token_still_needs_the_csrf_value(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """An opaque cookie token changes state only with the CSRF value its answer names."""
        introspection, endpoint = introspection_server
        app = build(endpoint, JWT_TOKEN_LOCATION=["cookies"], JWT_CSRF_CHECK_FORM=True)
        transfers: list[str] = []

        @app.post("/transfer")
        @flask_jwtx.jwt_required()
        def transfer() -> Any:
            transfers.append("done")
            return jsonify(ok=True)

        introspection.active("victim-opaque")
        introspection.active("with-csrf", csrf="the-csrf-value")
        browser = app.test_client()
        browser.set_cookie("access_token_cookie", "victim-opaque")
        assert browser.get("/orders").status_code == 200  # a safe method needs no CSRF value
        forged = browser.post("/transfer", data={"csrf_token": "made-up"})
        assert forged.status_code == 401, forged.get_json()
        assert transfers == []
        browser.set_cookie("access_token_cookie", "with-csrf")
        assert browser.post("/transfer", data={"csrf_token": "made-up"}).status_code == 401
        assert browser.post("/transfer", data={"csrf_token": "the-csrf-value"}).status_code == 200
        assert transfers == ["done"]


class TestWhatIsSent:
    """Only what could be an access token is sent to the authorization server."""

    def test_an_oversize_opaque_token_is_refused_before_it_is_sent(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """A token over JWT_MAX_TOKEN_BYTES is a 401 and is never sent."""
        introspection, endpoint = introspection_server
        response = call(build(endpoint), "A" * 100_000)
        assert response.status_code == 401
        assert introspection.calls == 0

    @pytest.mark.parametrize(
        "token", ["opaque-\u00e9", 'opaque"1', "opaque:1", "=opaque", "opaque=1", "opaque\\1"]
    )
    def test_a_token_that_is_no_token68_is_refused_before_it_is_sent(
        self, introspection_server: tuple[IntrospectionServer, str], token: str
    ) -> None:
        """Anything but token68 (RFC 6750's b64token) is a 401 and is never sent."""
        introspection, endpoint = introspection_server
        introspection.active(token)
        response = call(build(endpoint), token)
        assert response.status_code == 401
        assert introspection.calls == 0

    def test_a_non_ascii_opaque_token_under_dpop_is_a_401(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """A non-ASCII opaque token presented with a DPoP proof is a 401, never a 500."""
        introspection, endpoint = introspection_server
        key: ec.EllipticCurvePrivateKey = new_key()
        app = build(endpoint, JWT_DPOP="allowed", JWT_REVOCATION_STORE="memory://")
        app.config["TESTING"] = False
        token = "opaque-\u00e9"
        introspection.active(token, cnf={"jkt": jkt(key)})
        response = app.test_client().get(
            "/orders",
            headers={
                "Authorization": f"DPoP {token}",
                "DPoP": proof(key, url="http://localhost/orders", claims={"ath": "x"}),
            },
        )
        assert response.status_code == 401

    def test_a_huge_answer_is_refused_not_read(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """An answer over JWT_JWKS_MAX_BYTES is a 503, and nothing is let in."""
        introspection, endpoint = introspection_server
        introspection.raw = '{"active": true, "pad": "' + "a" * 2_000_000 + '"}'
        assert call(build(endpoint), "opaque-1").status_code == 503


class TestLoadOnTheAuthorizationServer:
    """Refused tokens are remembered briefly, and one token is asked about once at a time."""

    def test_an_inactive_answer_is_remembered_briefly(
        self, introspection_server: tuple[IntrospectionServer, str], clock: time_machine.Traveller
    ) -> None:
        """An unknown token is refused from memory for inactive_cache_ttl seconds, then asked."""
        introspection, endpoint = introspection_server
        app = build(endpoint, JWT_INTROSPECTION=spec(endpoint, inactive_cache_ttl=30))
        assert call(app, "junk").status_code == 401
        assert call(app, "junk").status_code == 401
        assert introspection.calls == 1
        clock.shift(31)
        introspection.active("junk")  # the server changed its mind
        assert call(app, "junk").status_code == 200
        assert introspection.calls == 2

    def test_inactive_answers_are_remembered_by_default(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """Without inactive_cache_ttl, a refused token is still not asked about twice in a row."""
        introspection, endpoint = introspection_server
        app = build(endpoint)
        assert [call(app, "junk").status_code for _ in range(3)] == [401] * 3
        assert introspection.calls == 1

    def test_an_inactive_cache_ttl_of_zero_asks_every_time(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """inactive_cache_ttl 0: every presentation of an unknown token is asked about."""
        introspection, endpoint = introspection_server
        app = build(endpoint, JWT_INTROSPECTION=spec(endpoint, inactive_cache_ttl=0))
        assert call(app, "junk").status_code == 401
        introspection.active("junk")
        assert call(app, "junk").status_code == 200
        assert introspection.calls == 2

    def test_an_unreachable_server_is_not_remembered(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """A 503 is not an answer: once the server is back, the token is asked about again."""
        introspection, endpoint = introspection_server
        app = build(endpoint)
        introspection.active("opaque-1")
        introspection.down = True
        assert call(app, "opaque-1").status_code == 503
        introspection.down = False
        assert call(app, "opaque-1").status_code == 200

    def test_the_memory_of_inactive_answers_is_bounded(
        self, introspection_server: tuple[IntrospectionServer, str]
    ) -> None:
        """Past its size the oldest refused tokens are forgotten, so unique junk cannot grow it."""
        introspection, endpoint = introspection_server
        settings = introspection_spec(spec(endpoint, verify_audience=False))
        assert settings is not None
        introspector = Introspector(settings, timeout=2, cache_size=2)
        policy = VerifyPolicy(algorithms=frozenset({"HS256"}), conventions=None)
        for token in ("junk-1", "junk-2", "junk-3", "junk-3", "junk-2"):
            with pytest.raises(InactiveTokenError):
                introspector.claims(token, policy)
        assert introspection.calls == 3
        with pytest.raises(InactiveTokenError):
            introspector.claims("junk-1", policy)
        assert introspection.calls == 4

    @pytest.mark.parametrize(("token", "status"), [("junk", 401), ("opaque-1", 200)])
    def test_concurrent_requests_for_one_token_share_one_call(
        self, introspection_server: tuple[IntrospectionServer, str], token: str, status: int
    ) -> None:
        """Requests that arrive while a token is being asked about wait for that one answer."""
        introspection, endpoint = introspection_server
        introspection.active("opaque-1")
        app = build(endpoint, JWT_JWKS_TIMEOUT=5)
        introspection.gate = threading.Event()
        statuses: list[int] = []

        def request() -> None:
            statuses.append(call(app, token).status_code)

        first = threading.Thread(target=request)
        first.start()
        assert introspection.entered.wait(5), "the first request reached the server"
        others = [threading.Thread(target=request) for _ in range(3)]
        for thread in others:
            thread.start()
        deadline = time.monotonic() + 5  # a guard only: the loop ends when all three wait
        while introspection.calls == 1 and waiting(app) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        introspection.gate.set()
        for thread in (first, *others):
            thread.join(timeout=10)
        assert statuses == [status] * 4
        assert introspection.calls == 1


@pytest.mark.parametrize(
    "value",
    [
        "https://as.test/introspect",
        {"endpoint": "https://as.test/introspect"},
        {"endpoint": "ftp://as.test", "client_id": "a", "client_secret": "b"},
        {"endpoint": "https://as.test", "client_id": "a", "client_secret": "b", "issuer": 7},
        {"endpoint": "https://as.test", "client_id": "a", "client_secret": "b", "cache_ttl": -1},
        {"endpoint": "https://as.test:99999/", "client_id": "a", "client_secret": "b"},
        {"endpoint": "https://as.test", "client_id": "a", "client_secret": "b", "audience": 7},
        {"endpoint": "https://as.test", "client_id": "a", "client_secret": "b", "audience": [""]},
        {
            "endpoint": "https://as.test",
            "client_id": "a",
            "client_secret": "b",
            "verify_audience": "no",
        },
        {
            "endpoint": "https://as.test",
            "client_id": "a",
            "client_secret": "b",
            "inactive_cache_ttl": -1,
        },
        {"endpoint": "https://as.test", "client_id": "a", "client_secret": "b", "audiance": "x"},
    ],
)
def test_wrong_settings_fail_at_init_app(value: Any) -> None:
    """JWT_INTROSPECTION is validated in init_app."""
    with pytest.raises(ConfigurationError, match="JWT_INTROSPECTION"):
        build("unused", JWT_INTROSPECTION=value)
