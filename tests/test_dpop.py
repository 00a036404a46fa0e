"""DPoP on the resource side (RFC 9449): bound tokens, proofs, replay, nonces, challenges."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx._core.oauth.dpop import (
    DPoPPolicy,
    NonceSource,
    Proof,
    normalize_uri,
    replay_record,
    verify_proof,
)
from flask_jwtx._core.revocation.policy import CLOCK_MARGIN, record_key
from flask_jwtx._core.revocation.replica import Replica
from flask_jwtx.exceptions import ConfigurationError

from .dpop_proofs import ath, bound_token, dpop_get, jkt, new_key, proof, public_jwk
from .helpers import SECRET, bearer, closed_after_test, make_app
from .helpers import dpop_app as build

if TYPE_CHECKING:  # the minimum-versions environment has no store servers
    from .stores import RedisServer

URL = "http://localhost/resource"
NONCE_SECRET = "n" * 40


def challenges(response: Any) -> list[str]:
    return list(response.headers.getlist("WWW-Authenticate"))


@pytest.fixture
def app() -> Flask:
    return build()


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return new_key()


class TestAcceptedRequests:
    def test_a_bound_token_with_a_valid_proof_reaches_the_view(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A DPoP-bound token under the DPoP scheme, with a proof of its key, is accepted."""
        token = bound_token(app, key)
        response = dpop_get(app, token, proof(key, token=token))
        assert response.status_code == 200
        assert response.json == {"sub": "alice"}

    @pytest.mark.parametrize(
        "htu",
        [
            "HTTP://LOCALHOST:80/resource",
            "http://localhost/resource?page=2#top",
            "http://localhost/./other/../resource",
            "http://localhost/%72esource",
        ],
    )
    def test_htu_is_compared_normalised_and_without_query(
        self, app: Flask, key: ec.EllipticCurvePrivateKey, htu: str
    ) -> None:
        """Case, default port, dot segments, escapes and the query do not matter."""
        token = bound_token(app, key)
        assert dpop_get(app, token, proof(key, token=token, url=htu)).status_code == 200

    @pytest.mark.parametrize("alg", ["RS256", "PS256", "EdDSA"])
    def test_other_asymmetric_algorithms_are_accepted(self, app: Flask, alg: str) -> None:
        """RSA, RSA-PSS and Ed25519 proof keys work as well as P-256."""
        key: Any = (
            ed25519.Ed25519PrivateKey.generate()
            if alg == "EdDSA"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        token = bound_token(app, None, cnf={"jkt": jkt(key)})
        assert dpop_get(app, token, proof(key, token=token, alg=alg)).status_code == 200

    def test_the_query_string_reaches_the_view_with_a_proof_for_its_path(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A request with a query is proven by a proof naming its path alone."""
        token = bound_token(app, key)
        response = app.test_client().get(
            "/resource?x=1",
            headers={"Authorization": f"DPoP {token}", "DPoP": proof(key, token=token)},
        )
        assert response.status_code == 200

    def test_behind_a_proxy_the_public_url_counts_with_proxyfix(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """htu is the URL Flask sees: the public one with ProxyFix, the internal one without."""
        from werkzeug.middleware.proxy_fix import ProxyFix

        token = bound_token(app, key)
        public = "https://api.example/resource"
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example"}

        def send(htu: str) -> Any:
            headers = {"Authorization": f"DPoP {token}", "DPoP": proof(key, token=token, url=htu)}
            return app.test_client().get("/resource", headers={**headers, **forwarded})

        assert send(public).status_code == 401  # no ProxyFix: Flask sees http://localhost
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # type: ignore[method-assign]
        assert send(public).status_code == 200
        assert send(URL).status_code == 401

    def test_bearer_tokens_still_work_where_dpop_is_allowed(self, app: Flask) -> None:
        """'allowed' keeps unbound bearer tokens working."""
        token = bound_token(app, None)
        response = app.test_client().get("/resource", headers=bearer(token))
        assert response.status_code == 200


def _refused(response: Any, error: str = "invalid_dpop_proof") -> None:
    assert response.status_code == 401, response.json
    assert "msg" in response.json
    dpop = [c for c in challenges(response) if c.startswith("DPoP ")]
    assert dpop, challenges(response)
    assert f'error="{error}"' in dpop[0]


class TestRefusedProofs:
    def test_a_proof_is_accepted_only_once(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """The same proof sent twice is refused the second time."""
        token = bound_token(app, key)
        replayed = proof(key, token=token)
        assert dpop_get(app, token, replayed).status_code == 200
        _refused(dpop_get(app, token, replayed))

    def test_wrong_method(self, app: Flask, key: ec.EllipticCurvePrivateKey) -> None:
        """A proof made for POST does not prove a GET."""
        token = bound_token(app, key)
        _refused(dpop_get(app, token, proof(key, token=token, method="POST")))

    @pytest.mark.parametrize(
        "htu",
        [
            "http://localhost/other",
            "https://localhost/resource",
            "http://localhost:8080/resource",
            "http://evil.example/resource",
            "http://user@localhost/resource",
            "/resource",
            "ftp://localhost/resource",
            "http://localhost:99999/resource",
        ],
    )
    def test_wrong_url(self, app: Flask, key: ec.EllipticCurvePrivateKey, htu: str) -> None:
        """A proof for another URL (or no usable URL) is refused."""
        token = bound_token(app, key)
        _refused(dpop_get(app, token, proof(key, token=token, url=htu)))

    @pytest.mark.parametrize("offset", [-61, 61, -3600])
    def test_iat_outside_the_window(
        self, app: Flask, key: ec.EllipticCurvePrivateKey, offset: int
    ) -> None:
        """A stale proof, or one from the future, is refused (window: 60 s either way)."""
        token = bound_token(app, key)
        _refused(dpop_get(app, token, proof(key, token=token, iat=time.time() + offset)))

    def test_iat_must_be_a_number(self, app: Flask, key: ec.EllipticCurvePrivateKey) -> None:
        """A string iat is refused, not coerced."""
        token = bound_token(app, key)
        bad = proof(key, token=token, claims={"iat": str(int(time.time()))})
        _refused(dpop_get(app, token, bad))

    def test_ath_must_hash_this_token(self, app: Flask, key: ec.EllipticCurvePrivateKey) -> None:
        """A proof made for another access token does not prove this one."""
        token = bound_token(app, key)
        other = bound_token(app, key, extra="x")
        _refused(dpop_get(app, token, proof(key, token=other)))
        _refused(dpop_get(app, token, proof(key)))  # no ath at all

    def test_proof_key_must_be_the_bound_key(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A stolen token with a proof from the thief's own key is refused (cnf.jkt)."""
        token = bound_token(app, key)
        thief = new_key()
        _refused(dpop_get(app, token, proof(thief, token=token)), "invalid_token")

    def test_hmac_proof_is_refused(self, app: Flask, key: ec.EllipticCurvePrivateKey) -> None:
        """A proof signed with a shared secret proves nothing and is refused."""
        token = bound_token(app, key)
        secret = "s" * 32
        jwk = {"kty": "oct", "k": "c3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3M"}
        claims = {"jti": "1", "htm": "GET", "htu": URL, "iat": int(time.time())}
        forged = jwt.encode(claims, secret, "HS256", headers={"typ": "dpop+jwt", "jwk": jwk})
        _refused(dpop_get(app, token, forged))

    def test_unsigned_proof_is_refused(self, app: Flask, key: ec.EllipticCurvePrivateKey) -> None:
        """alg none is refused."""
        token = bound_token(app, key)
        claims = {"jti": "1", "htm": "GET", "htu": URL, "iat": int(time.time())}
        header = {"typ": "dpop+jwt", "jwk": public_jwk(key)}
        unsigned = jwt.encode(claims, "", "none", headers=header)
        _refused(dpop_get(app, token, unsigned))

    def test_private_key_in_jwk_is_refused(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A proof whose jwk holds the private key ('d') is refused."""
        token = bound_token(app, key)
        private = jwt.algorithms.ECAlgorithm.to_jwk(key, as_dict=True)
        _refused(dpop_get(app, token, proof(key, token=token, header={"jwk": private})))

    @pytest.mark.parametrize("typ", ["JWT", "DPOP+JWT", None])
    def test_typ_must_be_dpop_jwt(
        self, app: Flask, key: ec.EllipticCurvePrivateKey, typ: str | None
    ) -> None:
        """Only typ dpop+jwt is a proof (a token of another kind cannot be replayed as one)."""
        token = bound_token(app, key)
        _refused(dpop_get(app, token, proof(key, token=token, header={"typ": typ})))

    def test_jwk_not_matching_the_signature_is_refused(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A proof signed by one key but naming another in jwk fails its signature."""
        token = bound_token(app, key)
        forged = proof(new_key(), token=token, header={"jwk": public_jwk(key)})
        _refused(dpop_get(app, token, forged))

    def test_algorithm_outside_the_allow_list_is_refused(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """JWT_DPOP_ALGORITHMS limits which algorithms a proof may use."""
        app = build(JWT_DPOP_ALGORITHMS=["PS256"])
        token = bound_token(app, key)
        _refused(dpop_get(app, token, proof(key, token=token)))

    @pytest.mark.parametrize(
        "value", ["", "not-a-jwt", "a.b.c", "x" * 20000, "e30.e30.", "eyJhbGciOiJFUzI1NiJ9.e30.AA"]
    )
    def test_malformed_proofs_are_401_never_500(
        self, app: Flask, key: ec.EllipticCurvePrivateKey, value: str
    ) -> None:
        """Whatever the DPoP header holds, the answer is a 401 with a DPoP challenge."""
        token = bound_token(app, key)
        _refused(dpop_get(app, token, value))

    def test_missing_or_repeated_proof_header(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """Exactly one DPoP header is required."""
        token = bound_token(app, key)
        _refused(dpop_get(app, token, None))
        response = app.test_client().get(
            "/resource",
            headers=[
                ("Authorization", f"DPoP {token}"),
                ("DPoP", proof(key, token=token)),
                ("DPoP", proof(key, token=token)),
            ],
        )
        _refused(response)


class TestBinding:
    def test_a_bound_token_presented_as_bearer_is_refused(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """Downgrade: a DPoP-bound token without its proof is refused."""
        token = bound_token(app, key)
        response = app.test_client().get("/resource", headers=bearer(token))
        _refused(response, "invalid_token")

    def test_a_bound_token_is_refused_as_bearer_even_with_dpop_off(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """An app that never turned DPoP on still refuses to accept a stolen bound token."""
        app = make_app()

        @app.get("/resource")
        @flask_jwtx.jwt_required()
        def resource() -> Any:
            return jsonify(ok=True)

        token = bound_token(app, key)
        response = app.test_client().get("/resource", headers=bearer(token))
        assert response.status_code == 401

    def test_an_unbound_token_under_the_dpop_scheme_is_refused(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A bearer token with a proof is not a bound token."""
        token = bound_token(app, None)
        _refused(dpop_get(app, token, proof(key, token=token)), "invalid_token")

    def test_a_route_requiring_dpop_refuses_bearer_tokens(self, app: Flask) -> None:
        """jwt_required(dpop='required') refuses an unbound bearer token, with a DPoP challenge."""
        token = bound_token(app, None)
        response = app.test_client().get("/strict", headers=bearer(token))
        _refused(response, "invalid_token")
        assert not [c for c in challenges(response) if c.startswith("Bearer")]

    def test_a_route_requiring_dpop_accepts_a_proven_token(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """The same route accepts a bound token with its proof."""
        token = bound_token(app, key)
        url = "http://localhost/strict"
        assert dpop_get(app, token, proof(key, token=token, url=url), "/strict").status_code == 200

    def test_a_route_can_turn_dpop_on_in_an_app_that_has_it_off(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """The per-route mode overrides JWT_DPOP='off'."""
        app = build(JWT_DPOP="off")
        token = bound_token(app, key)
        url = "http://localhost/strict"
        assert dpop_get(app, token, proof(key, token=token, url=url), "/strict").status_code == 200
        # ...while the app's other routes do not read the DPoP scheme.
        assert dpop_get(app, token, proof(key, token=token)).status_code == 401

    def test_an_app_requiring_dpop_asks_for_it_when_no_token_is_sent(self) -> None:
        """JWT_DPOP='required': a request without a token gets a DPoP challenge, no Bearer."""
        app = build(JWT_DPOP="required")
        response = app.test_client().get("/resource")
        assert response.status_code == 401
        assert [c.split()[0] for c in challenges(response)] == ["DPoP"]
        assert "algs=" in challenges(response)[0]
        assert "error=" not in challenges(response)[0]


#: Confirmations (RFC 7800 ``cnf``) other than DPoP's ``jkt`` alone.
OTHER_CONFIRMATIONS = [
    pytest.param({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}, id="mtls"),
    pytest.param({"kid": "client-key-1"}, id="kid"),
    pytest.param("jwk-as-a-string", id="not-an-object"),
    pytest.param(None, id="null"),
    pytest.param({}, id="empty"),
]


class TestConfirmationMethods:
    @pytest.mark.parametrize("mode", ["off", "allowed"])
    @pytest.mark.parametrize("cnf", OTHER_CONFIRMATIONS)
    def test_a_token_confirmed_another_way_is_no_bearer_token(self, cnf: Any, mode: str) -> None:
        """A token with any cnf but jkt (mutual TLS, kid, no object) is no bearer token: 401."""
        app = build(JWT_DPOP=mode)
        token = bound_token(app, None, cnf=cnf)
        _refused(app.test_client().get("/resource", headers=bearer(token)), "invalid_token")

    def test_a_token_confirmed_by_a_jwk_is_refused_with_or_without_a_proof(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """cnf.jwk binds the token to a key by a method this service does not check: refused."""
        token = bound_token(app, None, cnf={"jwk": public_jwk(key)})
        _refused(app.test_client().get("/resource", headers=bearer(token)), "invalid_token")
        _refused(dpop_get(app, token, proof(key, token=token)), "invalid_token")

    @pytest.mark.parametrize("cnf", OTHER_CONFIRMATIONS)
    def test_under_the_dpop_scheme_only_jkt_binds(
        self, app: Flask, key: ec.EllipticCurvePrivateKey, cnf: Any
    ) -> None:
        """A token confirmed another way is refused under the DPoP scheme, proof or not."""
        token = bound_token(app, None, cnf=cnf)
        _refused(dpop_get(app, token, proof(key, token=token)), "invalid_token")

    def test_jkt_beside_another_confirmation_is_refused_even_with_its_proof(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A token bound to a key and to a certificate cannot be checked whole: refused."""
        cnf = {"jkt": jkt(key), "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}
        token = bound_token(app, None, cnf=cnf)
        _refused(dpop_get(app, token, proof(key, token=token)), "invalid_token")
        _refused(app.test_client().get("/resource", headers=bearer(token)), "invalid_token")


class TestTheRequestUrl:
    def test_a_proof_for_another_origin_is_refused_whatever_the_host_header(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """With JWT_RESOURCE, htu must name the resource's origin, even if Host names htu's."""
        app = build(JWT_RESOURCE="https://api.example/")
        token = bound_token(app, key, aud=["https://api.example/", "https://other.example/"])
        foreign = proof(key, token=token, url="https://other.example/resource")
        replayed = app.test_client().get(
            "/resource",
            base_url="https://other.example",
            headers={"Authorization": f"DPoP {token}", "DPoP": foreign},
        )
        _refused(replayed)
        own = proof(key, token=token, url="https://api.example/resource")
        accepted = app.test_client().get(
            "/resource",
            base_url="https://api.example",
            headers={"Authorization": f"DPoP {token}", "DPoP": own},
        )
        assert accepted.status_code == 200

    @pytest.mark.parametrize(
        "path",
        [
            "/files/a%2F..%2F..%2Fresource",
            "/files/a/../../resource",
            "/files/a/%2E%2E/%2E%2E/resource",
        ],
    )
    def test_dot_segments_in_the_request_path_match_no_proof(
        self, app: Flask, key: ec.EllipticCurvePrivateKey, path: str
    ) -> None:
        """A proof for DELETE /resource is refused at a /files/ path whose dots lead there."""
        deleted: list[str] = []

        @app.delete("/files/<path:name>")
        @flask_jwtx.jwt_required()
        def delete_file(name: str) -> Any:
            deleted.append(name)
            return jsonify(deleted=name)

        token = bound_token(app, key)
        for htu in (URL, f"http://localhost{path}"):
            signed = proof(key, method="DELETE", url=htu, token=token)
            response = app.test_client().delete(
                path, headers={"Authorization": f"DPoP {token}", "DPoP": signed}
            )
            _refused(response)
        assert deleted == []

    def test_a_route_limited_to_cookies_reads_no_dpop_credential(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """jwt_required(locations=['cookies']) ignores an Authorization: DPoP token: 401."""

        @app.get("/cookie-only")
        @flask_jwtx.jwt_required(locations=["cookies"])
        def cookie_only() -> Any:
            return jsonify(where=flask_jwtx.get_jwt_request_location())

        token = bound_token(app, key)
        signed = proof(key, token=token, url="http://localhost/cookie-only")
        response = app.test_client().get(
            "/cookie-only", headers={"Authorization": f"DPoP {token}", "DPoP": signed}
        )
        assert response.status_code == 401
        assert response.json == {"msg": 'Missing cookie "access_token_cookie"'}


class OpaqueTokens(flask_jwtx.JWTManager):
    """Takes the opaque tokens it was told of, as an introspecting subclass takes active ones."""

    def __init__(self, app: Flask, tokens: dict[str, dict[str, Any]]) -> None:
        self.tokens = tokens
        super().__init__(app)

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        return self.tokens[encoded_token]


class TestTheCredential:
    @pytest.mark.parametrize("credential", ["opaque-\u00e9", "a\tb", "a;b", "=abc", "a=b"])
    def test_a_credential_that_is_no_token68_is_refused_before_anything_reads_it(
        self, key: ec.EllipticCurvePrivateKey, credential: str
    ) -> None:
        """Non-ASCII or non-token68 text under the DPoP scheme is a 401, never a 500."""
        app = Flask(__name__)
        app.config.update(
            JWT_SECRET_KEY=SECRET, JWT_DPOP="allowed", JWT_REVOCATION_STORE="memory://"
        )
        bound = {"sub": "alice", "type": "access", "cnf": {"jkt": jkt(key)}}
        OpaqueTokens(app, {credential: bound})

        @app.get("/resource")
        @flask_jwtx.jwt_required()
        def resource() -> Any:
            return jsonify(ok=True)

        signed = proof(key, claims={"ath": "x"})
        response = app.test_client().get(
            "/resource", headers={"Authorization": f"DPoP {credential}", "DPoP": signed}
        )
        _refused(response, "invalid_token")


class TestNonces:
    @pytest.fixture
    def app(self) -> Flask:
        return build(JWT_DPOP_NONCE_SECRET=NONCE_SECRET)

    def test_a_proof_without_nonce_gets_one(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """use_dpop_nonce, with a DPoP-Nonce header the retry succeeds with."""
        token = bound_token(app, key)
        first = dpop_get(app, token, proof(key, token=token))
        _refused(first, "use_dpop_nonce")
        nonce = first.headers["DPoP-Nonce"]
        second = dpop_get(app, token, proof(key, token=token, nonce=nonce))
        assert second.status_code == 200
        assert second.headers["DPoP-Nonce"]

    def test_forged_and_stale_nonces_are_refused(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A nonce not issued here, or older than the window, is not fresh."""
        token = bound_token(app, key)
        here = "http://localhost/"
        stale = NonceSource(NONCE_SECRET.encode(), 60).issue(time.time() - 120, here)
        forged = NonceSource(b"x" * 40, 60).issue(time.time(), here)
        for nonce in (stale, forged, "A" * 32, "short"):
            _refused(dpop_get(app, token, proof(key, token=token, nonce=nonce)), "use_dpop_nonce")

    def test_every_instance_accepts_another_instances_nonce(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """Nonces are stateless: an instance with the same secret accepts them."""
        other = build(JWT_DPOP_NONCE_SECRET=NONCE_SECRET)
        token = bound_token(app, key)
        nonce = dpop_get(app, token, proof(key, token=token)).headers["DPoP-Nonce"]
        assert dpop_get(other, token, proof(key, token=token, nonce=nonce)).status_code == 200

    def test_a_nonce_is_good_only_for_the_service_it_was_issued_for(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """Services sharing the secret refuse each other's nonces (per JWT_RESOURCE or origin)."""

        def send(app: Flask, origin: str, nonce: str | None) -> Any:
            token = bound_token(app, key)
            signed = proof(key, token=token, url=f"{origin}/resource", nonce=nonce)
            return app.test_client().get(
                "/resource",
                base_url=origin,
                headers={"Authorization": f"DPoP {token}", "DPoP": signed},
            )

        orders = build(JWT_DPOP_NONCE_SECRET=NONCE_SECRET, JWT_RESOURCE="https://orders.example/")
        billing = build(
            JWT_DPOP_NONCE_SECRET=NONCE_SECRET, JWT_RESOURCE="https://billing.example/"
        )
        nonce = send(orders, "https://orders.example", None).headers["DPoP-Nonce"]
        assert send(orders, "https://orders.example", nonce).status_code == 200
        _refused(send(billing, "https://billing.example", nonce), "use_dpop_nonce")

        shared = build(JWT_DPOP_NONCE_SECRET=NONCE_SECRET)  # no JWT_RESOURCE: the request origin
        nonce = send(shared, "http://orders.localhost", None).headers["DPoP-Nonce"]
        assert send(shared, "http://orders.localhost", nonce).status_code == 200
        _refused(send(shared, "http://billing.localhost", nonce), "use_dpop_nonce")


class TestOddInputs:
    def test_a_proof_key_too_weak_for_its_algorithm_is_refused(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A P-384 key labelled ES256 is refused, as configured keys are."""
        wrong_curve = ec.generate_private_key(ec.SECP384R1())
        token = bound_token(app, None, cnf={"jkt": jkt(wrong_curve)})
        header = {"alg": "ES256", "typ": "dpop+jwt", "jwk": public_jwk(wrong_curve)}
        claims = {"jti": "1", "htm": "GET", "htu": URL, "iat": int(time.time()), "ath": ath(token)}
        signing_input = ".".join(
            jwt.utils.base64url_encode(json.dumps(part).encode()).decode()
            for part in (header, claims)
        )
        signer = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA384)
        signature = signer.sign(signing_input.encode(), wrong_curve)
        forged = f"{signing_input}.{jwt.utils.base64url_encode(signature).decode()}"
        _refused(dpop_get(app, token, forged))

    def test_a_proof_whose_payload_is_no_object_is_refused(
        self, app: Flask, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A correctly signed payload that is a JSON list is not a proof."""
        token = bound_token(app, key)
        signed = jwt.api_jws.encode(
            b"[1]", key, "ES256", headers={"typ": "dpop+jwt", "jwk": public_jwk(key)}
        )
        _refused(dpop_get(app, token, signed))

    def test_a_huge_jti_is_refused(self, app: Flask, key: ec.EllipticCurvePrivateKey) -> None:
        """A jti longer than 256 characters is refused before anything is stored."""
        token = bound_token(app, key)
        _refused(dpop_get(app, token, proof(key, token=token, claims={"jti": "j" * 257})))

    @pytest.mark.parametrize("jkt_value", [7, "", None, ["a"]])
    def test_a_malformed_cnf_jkt_is_refused(
        self, app: Flask, key: ec.EllipticCurvePrivateKey, jkt_value: Any
    ) -> None:
        """cnf.jkt that is no thumbprint string binds to nothing: refused either way."""
        token = bound_token(app, None, cnf={"jkt": jkt_value})
        _refused(dpop_get(app, token, proof(key, token=token)), "invalid_token")
        response = app.test_client().get("/resource", headers=bearer(token))
        assert response.status_code == 401

    def test_a_garbled_dpop_authorization_header_is_a_bad_request(self, app: Flask) -> None:
        """'DPoP a b' is not a credential."""
        response = app.test_client().get("/resource", headers={"Authorization": "DPoP a b"})
        assert response.status_code == 422
        assert response.json == {
            "msg": "Bad Authorization header. Expected 'Authorization: DPoP <JWT>'"
        }


# --- Replay across instances, on every shared store -------------------------------------


class TestReplayAcrossInstances:
    def test_a_proof_used_on_one_instance_is_refused_on_another(
        self, shared_store: dict[str, Any], key: ec.EllipticCurvePrivateKey
    ) -> None:
        """Two app instances on one store: a proof is accepted once between them."""
        first, second = build(**shared_store), build(**shared_store)
        try:
            token = bound_token(first, key)
            replayed = proof(key, token=token)
            assert dpop_get(first, token, replayed).status_code == 200
            _refused(dpop_get(second, token, replayed))
            assert dpop_get(second, token, proof(key, token=token)).status_code == 200
        finally:
            for app in (first, second):
                app.extensions["flask-jwtx"].manager.close(app)

    def test_with_a_replica_the_replay_cache_is_the_stores(
        self, redis_server: RedisServer, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A local replica never answers for proofs: the second instance asks the store."""
        redis_server.flush()
        config = {
            "JWT_REVOCATION_STORE": redis_server.url,
            "JWT_REVOCATION_REPLICA": True,
            "JWT_REVOCATION_REPLICA_MAX_STALENESS": 5.0,
        }
        first, second = build(**config), build(**config)
        try:
            token = bound_token(first, key)
            replayed = proof(key, token=token)
            assert dpop_get(first, token, replayed).status_code == 200
            _refused(dpop_get(second, token, replayed))
            for app in (first, second):
                replica = app.extensions["flask-jwtx"].settings.get().revocation_store
                assert isinstance(replica, Replica)
                assert len(replica) == 0  # no proof record was kept locally
        finally:
            for app in (first, second):
                app.extensions["flask-jwtx"].manager.close(app)

    def test_a_used_proof_stays_refused_on_an_instance_whose_clock_is_behind(
        self, redis_server: RedisServer, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """Once Redis drops a proof's record, an instance 30 s late still refuses the proof."""
        import redis
        import time_machine

        redis_server.flush()
        config = {"JWT_REVOCATION_STORE": redis_server.url}
        first, second = closed_after_test(build(**config)), closed_after_test(build(**config))
        token = bound_token(first, key)
        issued = int(time.time())
        captured = proof(key, token=token, iat=issued, claims={"jti": "captured-1"})
        with time_machine.travel(issued, tick=False):
            assert dpop_get(first, token, captured).status_code == 200
        name = "jwtx:" + record_key("dpop", jkt(key), "captured-1")
        raw = redis.Redis(unix_socket_path=redis_server.socket)
        try:
            lives = raw.pttl(name) / 1000
            raw.delete(name)  # what Redis does once ``lives`` seconds have passed
        finally:
            raw.close()
        behind = 30.0  # the second instance's clock, within the margin records allow for
        with time_machine.travel(issued + lives - behind, tick=False):
            _refused(dpop_get(second, token, captured))


@pytest.mark.parametrize("offset", [-60, 0, 60])
def test_a_replay_record_lasts_while_any_instance_could_accept_its_proof(offset: int) -> None:
    """The record outlives iat + window + the instances' clock margin, for past or future iat."""
    policy = DPoPPolicy(iat_window=60.0)
    now = 1_700_000_000.0
    used = Proof({}, {"jti": "j", "iat": now + offset}, "thumbprint")
    record = replay_record(used, policy, now)
    assert record.expires_at is not None
    assert record.expires_at > now + offset + policy.iat_window + CLOCK_MARGIN
    assert record.expires_at > now + policy.iat_window + CLOCK_MARGIN


# --- Settings -------------------------------------------------------------------------


class TestSettings:
    @pytest.mark.parametrize(
        ("config", "message"),
        [
            ({"JWT_DPOP": "sometimes"}, "Use one of 'off', 'allowed', 'required'"),
            ({"JWT_DPOP": "allowed", "JWT_REVOCATION_STORE": None}, "no store"),
            ({"JWT_DPOP_ALGORITHMS": ["HS256"]}, "asymmetric"),
            ({"JWT_DPOP_ALGORITHMS": ["none"]}, "asymmetric"),
            ({"JWT_DPOP_ALGORITHMS": []}, "asymmetric"),
            ({"JWT_DPOP_IAT_WINDOW": 0}, "positive"),
            ({"JWT_DPOP_IAT_WINDOW": True}, "positive"),
            ({"JWT_DPOP_NONCE_SECRET": "short"}, "32 bytes"),
            ({"JWT_RESOURCE": "not a url"}, "absolute https URL"),
            ({"JWT_RESOURCE": "https://api.example/?x=1"}, "absolute https URL"),
            ({"JWT_RESOURCE": "https://api.example:99999/"}, "absolute https URL"),
            ({"JWT_RESOURCE": 42}, "absolute https URL"),
            ({"JWT_WWW_AUTHENTICATE": "yes"}, "Use True, False"),
        ],
    )
    def test_wrong_values_fail_at_init_app(self, config: dict[str, Any], message: str) -> None:
        """Each wrong value is a ConfigurationError naming the fix."""
        settings: dict[str, Any] = {"JWT_DPOP": "allowed", "JWT_REVOCATION_STORE": "memory://"}
        settings.update(config)
        with pytest.raises(ConfigurationError, match=message):
            make_app(**settings)

    def test_without_cryptography_dpop_fails_where_it_is_turned_on(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An HMAC-only installation refuses JWT_DPOP and dpop= at once, naming the extra."""
        from flask_jwtx._core.oauth import resource_policy

        monkeypatch.setattr(resource_policy, "HAS_CRYPTOGRAPHY", False)
        with pytest.raises(ConfigurationError, match="asymmetric_crypto"):
            make_app(JWT_DPOP="allowed", JWT_REVOCATION_STORE="memory://")
        with pytest.raises(ConfigurationError, match="asymmetric_crypto"):
            flask_jwtx.jwt_required(dpop="required")
        assert make_app(JWT_DPOP="off") is not None  # nothing changes for apps without DPoP

    def test_an_unknown_route_mode_fails_when_declared(self) -> None:
        """jwt_required(dpop='maybe') is refused where the route is declared."""
        with pytest.raises(ConfigurationError, match="dpop"):
            flask_jwtx.jwt_required(dpop="maybe")

    def test_a_route_mode_without_a_store_fails_before_any_request_is_served(self) -> None:
        """dpop= on a route of an app without a store: ConfigurationError at init_app or first."""
        app = build(JWT_DPOP="off", JWT_REVOCATION_STORE=None)  # routes declared after init_app
        app.config["PROPAGATE_EXCEPTIONS"] = True
        with pytest.raises(ConfigurationError, match=r"'strict'.*JWT_REVOCATION_STORE"):
            app.test_client().get("/resource")  # any route: the app does not serve at all

        early = Flask(__name__)
        early.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)

        @early.get("/strict")
        @flask_jwtx.jwt_required(dpop="allowed")
        def strict() -> Any:
            return jsonify(ok=True)

        with pytest.raises(ConfigurationError, match=r"'strict'.*JWT_REVOCATION_STORE"):
            flask_jwtx.JWTManager(early)  # declared before init_app: refused there

    def test_required_dpop_where_no_header_is_read_fails_before_any_request_is_served(
        self,
    ) -> None:
        """DPoP required on a route reading only cookies (or an app reading none) cannot work."""
        app = build()

        @app.get("/cookie-strict")
        @flask_jwtx.jwt_required(locations=["cookies"], dpop="required")
        def cookie_strict() -> Any:
            return jsonify(ok=True)

        with pytest.raises(ConfigurationError, match=r"'cookie_strict'.*'headers'"):
            app.test_client().get("/resource")
        cookies_only = build(JWT_DPOP="required", JWT_TOKEN_LOCATION=["cookies"])
        with pytest.raises(ConfigurationError, match="'resource', 'scoped', 'strict'"):
            cookies_only.test_client().get("/resource")


# --- Challenges (RFC 6750 section 3) --------------------------------------------------


class TestChallenges:
    def test_off_by_default(self) -> None:
        """An app that sets nothing gets no WWW-Authenticate and its usual statuses."""
        app = build(JWT_DPOP="off")  # a store: the /strict route turns DPoP on
        client = app.test_client()
        assert challenges(client.get("/resource")) == []
        response = client.get("/resource", headers={"Authorization": "Bearer x.y.z"})
        assert response.status_code == 422
        assert challenges(response) == []

    def test_opt_in_challenges(self) -> None:
        """JWT_WWW_AUTHENTICATE: no token, a bad token, a missing scope."""
        app = build(JWT_DPOP="off", JWT_WWW_AUTHENTICATE=True)
        client = app.test_client()
        assert challenges(client.get("/resource")) == ["Bearer"]
        bad = client.get("/resource", headers={"Authorization": "Bearer x.y.z"})
        assert bad.status_code == 422  # status kept outside resource-server mode
        assert challenges(bad)[0].startswith('Bearer error="invalid_token", error_description=')
        token = bound_token(app, None, scope="read")
        scoped = client.get("/scoped", headers=bearer(token))
        assert scoped.status_code == 403
        assert scoped.json == {"msg": "Missing required scope: write"}
        assert 'error="insufficient_scope"' in challenges(scoped)[0]
        assert 'scope="read write"' in challenges(scoped)[0]

    def test_resource_server_mode(self) -> None:
        """JWT_RESOURCE: challenges on, 401 for invalid tokens, resource_metadata named."""
        app = build(JWT_RESOURCE="https://api.example/v1")
        client = app.test_client()
        bad = client.get("/resource", headers={"Authorization": "Bearer x.y.z"})
        assert bad.status_code == 401
        assert "msg" in (bad.json or {})
        bearer_challenge, dpop_challenge = challenges(bad)
        metadata = (
            'resource_metadata="https://api.example/.well-known/oauth-protected-resource/v1"'
        )
        assert bearer_challenge.startswith('Bearer error="invalid_token"')
        assert metadata in bearer_challenge
        assert dpop_challenge.startswith('DPoP algs="ES256 ES384')
        malformed = client.get("/resource", headers={"Authorization": "Token abc"})
        assert malformed.status_code == 401  # no Bearer credential: "missing"
        assert challenges(malformed)[0] == f"Bearer {metadata}"
        garbled = client.get("/resource", headers={"Authorization": "Bearer a b"})
        assert garbled.status_code == 400
        assert 'error="invalid_request"' in challenges(garbled)[0]

    def test_error_descriptions_are_safe_quoted_strings(self) -> None:
        """Quotes and backslashes in a message never break the challenge's syntax."""
        app = build(JWT_DPOP="off", JWT_WWW_AUTHENTICATE=True)
        token = jwt.encode({"sub": "a", "aud": 'x"\\y'}, SECRET, "HS256")
        app.config["JWT_DECODE_AUDIENCE"] = "api"
        response = app.test_client().get("/resource", headers=bearer(token))
        value = challenges(response)[0]
        inner = value.split("error_description=", 1)[1]
        assert inner.count('"') == 2
        assert "\\" not in inner


# --- The Flask-free core --------------------------------------------------------------


def test_normalize_uri_keeps_what_matters() -> None:
    """Paths, hosts and ports that differ stay different after normalisation."""
    assert normalize_uri("https://A.example:443/x/") == "https://a.example/x/"
    assert normalize_uri("https://a.example") == "https://a.example/"
    assert normalize_uri("http://[::1]:5000/p%2fq") == "http://[::1]:5000/p%2Fq"
    assert normalize_uri("https://a.example/x") != normalize_uri("https://a.example/X")
    assert normalize_uri("https://a.example/x/..") == "https://a.example/"
    assert normalize_uri("https://a.example/x/..", dot_segments=False) == "https://a.example/x/.."
    assert normalize_uri("https://é.example/") is None
    assert normalize_uri(None) is None


def test_verify_proof_needs_a_jwk_object(key: ec.EllipticCurvePrivateKey) -> None:
    """A proof without a jwk (or with a non-object one) has nothing to verify with."""
    from flask_jwtx._core.oauth.dpop import InvalidDPoPProofError

    for jwk in (None, "key", ["a"]):
        value = proof(key, header={"jwk": jwk})
        with pytest.raises(InvalidDPoPProofError, match="jwk"):
            verify_proof(
                value,
                method="GET",
                url=URL,
                access_token="t",
                policy=DPoPPolicy(),
                now=time.time(),
            )


# --- DPoP on our own issuing side -------------------------------------------------------


def issuing_app(**config: Any) -> Flask:
    """An app that logs clients in and binds their tokens to the key of their DPoP proof."""
    app = build(**config)

    @app.post("/login")
    def login() -> Any:
        from flask_jwtx._core.web.resource_server import dpop_binding

        binding = dpop_binding()
        token = flask_jwtx.create_access_token("alice", additional_claims=binding)
        return jsonify(access_token=token, token_type="DPoP")

    return app


class TestIssuingBoundTokens:
    LOGIN = "http://localhost/login"

    def test_a_login_with_a_proof_mints_a_token_bound_to_its_key(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """The minted token carries cnf.jkt: it works with proofs of that key, never as bearer."""
        app = issuing_app()
        client = app.test_client()
        answer = client.post("/login", headers={"DPoP": proof(key, method="POST", url=self.LOGIN)})
        assert answer.status_code == 200
        token = (answer.json or {})["access_token"]
        assert jwt.decode(token, options={"verify_signature": False})["cnf"] == {"jkt": jkt(key)}
        assert dpop_get(app, token, proof(key, token=token)).status_code == 200
        as_bearer = client.get("/resource", headers=bearer(token))
        assert as_bearer.status_code == 401
        _refused(dpop_get(app, token, proof(new_key(), token=token)), "invalid_token")

    def test_a_login_without_a_valid_proof_is_refused(
        self, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """No proof, a proof for another URL, or a replayed one: 401 with a DPoP challenge."""
        app = issuing_app()
        client = app.test_client()
        _refused(client.post("/login"))
        _refused(client.post("/login", headers={"DPoP": proof(key, method="POST")}))
        once = proof(key, method="POST", url=self.LOGIN)
        assert client.post("/login", headers={"DPoP": once}).status_code == 200
        _refused(client.post("/login", headers={"DPoP": once}))

    def test_nonces_apply_to_token_requests_too(self, key: ec.EllipticCurvePrivateKey) -> None:
        """With nonces on, the first login gets use_dpop_nonce and a nonce to retry with."""
        app = issuing_app(JWT_DPOP_NONCE_SECRET=NONCE_SECRET)
        client = app.test_client()
        first = client.post("/login", headers={"DPoP": proof(key, method="POST", url=self.LOGIN)})
        _refused(first, "use_dpop_nonce")
        nonce = first.headers["DPoP-Nonce"]
        retry = proof(key, method="POST", url=self.LOGIN, nonce=nonce)
        second = client.post("/login", headers={"DPoP": retry})
        assert second.status_code == 200
        assert second.headers["DPoP-Nonce"]
