"""Attacks on trusted issuers, the session secret, keys, store records and error bodies.

Revocation lifetimes and zero-grace rotation are in ``test_revocation_lifetimes``;
remote JWKS deadlines and key hygiene in ``test_jwks_remote``.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import date
from typing import Any

import jwt
import pytest
from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx import tokens
from flask_jwtx._core.jose.keyset import Key, KeySet
from flask_jwtx.exceptions import ConfigurationError
from flask_jwtx.testing import serve

from .crafted_tokens import b64url
from .helpers import SECRET, bearer, read_key, write_non_ascii_json
from .jwks_issuer import EC, ISSUER, OLD, JWKSServer, get, token
from .jwks_issuer import resource_app as single_issuer_app


def hs256(claims: dict[str, Any], key: str, header: dict[str, Any] | None = None) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers=header)


# --- Trusted issuers keep the audience ----------------------------------------------------


@pytest.fixture
def issuer_server(jwks_server: tuple[JWKSServer, str]) -> str:
    """The JWKS URL of a real issuer on loopback that publishes an RSA and an EC key."""
    server, url = jwks_server
    server.keys = KeySet([OLD, EC])
    return url


def trusting(url: str, entry: dict[str, Any] | None = None, **config: Any) -> Flask:
    settings: dict[str, Any] = {
        "JWT_JWKS_URL": None,
        "JWT_DECODE_ISSUER": None,
        "JWT_DECODE_AUDIENCE": "api",
        "JWT_TRUSTED_ISSUERS": [
            {"issuer": ISSUER, "jwks_url": url, "algorithms": ["RS256"], **(entry or {})}
        ],
    }
    settings.update(config)
    return single_issuer_app("unused", **settings)


class TestTrustedIssuersKeepTheAudience:
    def test_an_issuer_without_its_own_audience_inherits_the_global_one(
        self, issuer_server: str
    ) -> None:
        app = trusting(issuer_server)
        assert get(app, token(OLD, aud="api"))[0] == 200
        assert get(app, token(OLD, aud="billing")) == (422, {"msg": "Audience doesn't match"})
        assert get(app, token(OLD, aud=None))[0] == 422
        no_aud = token(OLD)
        assert get(app, jwt_without(no_aud, "aud"))[0] == 422

    def test_an_issuers_own_audience_wins(self, issuer_server: str) -> None:
        app = trusting(issuer_server, {"audience": "billing"})
        assert get(app, token(OLD, aud="billing"))[0] == 200
        assert get(app, token(OLD, aud="api"))[0] == 422

    def test_no_audience_anywhere_is_refused_at_startup(self, issuer_server: str) -> None:
        with pytest.raises(ConfigurationError, match="without an audience"):
            trusting(issuer_server, JWT_DECODE_AUDIENCE=None)

    def test_an_explicit_opt_out_is_honoured(self, issuer_server: str) -> None:
        app = trusting(issuer_server, {"verify_audience": False}, JWT_DECODE_AUDIENCE=None)
        assert get(app, token(OLD, aud="anything"))[0] == 200

    def test_the_audience_is_judged_only_after_the_signature(self, issuer_server: str) -> None:
        # The audience is a claim check: a forged token learns nothing about it.
        app = trusting(issuer_server)
        forged = token(OLD, aud="billing").rsplit(".", 1)[0] + ".c2ln"
        assert get(app, forged) == (422, {"msg": "Signature verification failed"})

    def test_each_issuer_holds_its_tokens_to_its_own_audience(self, issuer_server: str) -> None:
        app = trusting(issuer_server, {"audience": "billing"})
        app.config["JWT_TRUSTED_ISSUERS"] = [
            *app.config["JWT_TRUSTED_ISSUERS"],
            {"issuer": "https://other.test", "jwks_url": issuer_server},  # inherits "api"
        ]
        assert get(app, token(OLD, aud="billing"))[0] == 200
        assert get(app, token(OLD, aud="api")) == (422, {"msg": "Audience doesn't match"})
        other = token(OLD, aud="api", iss="https://other.test")
        assert get(app, other)[0] == 200

    @pytest.mark.parametrize("iss", [["https://issuer.test"], {"a": 1}, 7, None, True])
    def test_an_iss_that_is_not_a_string_is_refused_not_500(
        self, issuer_server: str, iss: Any
    ) -> None:
        app = trusting(issuer_server)
        assert OLD.signing is not None
        claims = {"sub": "a", "aud": "api", "iss": iss, "exp": time.time() + 60}
        signed = tokens.encode(claims, OLD.signing, headers={"kid": "old"})
        status, body = get(app, signed)
        assert (status, body) == (422, {"msg": "Untrusted issuer"})
        header = b64url(json.dumps({"alg": "RS256", "kid": "old"}).encode())
        payload = b64url(json.dumps({"sub": "a", "iss": iss}).encode())
        assert get(app, f"{header}.{payload}.c2ln")[0] == 422, "unsigned, too"


def jwt_without(encoded: str, claim: str) -> str:
    """Re-sign ``encoded`` (an OLD-signed token) without ``claim``."""
    claims = jwt.decode(encoded, options={"verify_signature": False})
    claims.pop(claim, None)
    assert OLD.signing is not None
    return jwt.encode(claims, OLD.signing.key, algorithm="RS256", headers={"kid": OLD.kid})


# --- Flask's SECRET_KEY is not a verification key nobody configured ----------------------


def asymmetric_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        SECRET_KEY="the-session-secret-that-signs-every-cookie-0123456789",
        JWT_ALGORITHM="RS256",
        JWT_PRIVATE_KEY=read_key("rsa_private.pem"),
        JWT_PUBLIC_KEY=read_key("rsa_public.pem"),
        JWT_DECODE_ALGORITHMS=["RS256", "HS256"],
    )
    app.config.update(config)
    flask_jwtx.JWTManager(app)

    @app.get("/data")
    @flask_jwtx.jwt_required()
    def data() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity())

    return app


class TestTheSessionSecretNeverVerifiesTokens:
    def test_an_hs256_token_signed_with_secret_key_is_refused(self) -> None:
        app = asymmetric_app()
        forged = hs256({"sub": "admin"}, app.config["SECRET_KEY"])
        assert get(app, forged) == (422, {"msg": "The specified alg value is not allowed"})
        with app.app_context():
            assert get(app, flask_jwtx.create_access_token("alice"))[0] == 200

    def test_an_explicit_jwt_secret_key_still_serves_the_extra_algorithm(self) -> None:
        app = asymmetric_app(JWT_SECRET_KEY=SECRET)
        assert get(app, hs256({"sub": "svc"}, SECRET))[0] == 200
        assert get(app, hs256({"sub": "svc"}, app.config["SECRET_KEY"]))[0] == 422

    def test_a_symmetric_app_still_falls_back_to_secret_key_as_flask_jwt_extended_does(
        self,
    ) -> None:
        app = Flask(__name__)
        app.config.update(SECRET_KEY=SECRET)
        flask_jwtx.JWTManager(app)

        @app.get("/data")
        @flask_jwtx.jwt_required()
        def data() -> Any:
            return jsonify(ok=True)

        assert get(app, hs256({"sub": "a"}, SECRET))[0] == 200


# --- Nothing answers 500 --------------------------------------------------------------------


def plain_app(**config: Any) -> Flask:
    app = Flask(__name__)
    write_non_ascii_json(app)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET, **config)
    flask_jwtx.JWTManager(app)

    @app.route("/data", methods=["GET", "POST"])
    @flask_jwtx.jwt_required()
    def data() -> Any:
        return jsonify(ok=True)

    return app


class TestNoUntrustedValueReachesTheBodyRaw:
    @pytest.mark.parametrize("name", ["\udc80", "x\ud800y", "\x00", "<script>", "a" * 5000])
    def test_a_hostile_crit_name(self, name: str) -> None:
        app = plain_app()
        header = json.dumps({"alg": "HS256", "crit": [name]}).encode()
        encoded = f"{b64url(header)}.{b64url(b'{}')}.c2ln"
        status, body = get(app, encoded)
        assert status == 422
        assert body["msg"].startswith("Unsupported critical extension: ")
        assert len(body["msg"]) < 120
        assert body["msg"].isascii()
        assert body["msg"].isprintable()

    def test_a_lone_surrogate_in_a_signed_identity(self) -> None:
        """The user-lookup error quotes the identity (as Flask-JWT-Extended does): escaped here."""
        app = plain_app()
        manager = app.extensions["flask-jwtx"].manager
        manager.user_lookup_loader(lambda _h, _c: None)
        encoded = hs256({"sub": "\udc80"}, SECRET)
        status, body = get(app, encoded)
        assert status == 401
        assert body["msg"] == "Error loading the user \\udc80"


class TestHostileBodies:
    def test_deeply_nested_json_body(self) -> None:
        app = plain_app(JWT_TOKEN_LOCATION=["json"])
        body = "[" * 100_000 + "]" * 100_000
        response = app.test_client().post(
            "/data", data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401
        assert response.get_json() == {"msg": 'Missing "access_token" key in json data.'}


class TestJWKSPublicationSettingsAreValidatedAtStartup:
    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("JWT_JWKS_MAX_AGE", "five minutes"),
            ("JWT_JWKS_MAX_AGE", -1),
            ("JWT_JWKS_MAX_AGE", 1.5),
            ("JWT_JWKS_PATH", "jwks.json"),
            ("JWT_JWKS_PATH", 7),
        ],
    )
    def test_bad_values_fail_in_init_app(self, key: str, value: Any) -> None:
        app = Flask(__name__)
        app.config.update(
            JWT_ALGORITHM="RS256",
            JWT_PRIVATE_KEY=read_key("rsa_private.pem"),
            JWT_PUBLIC_KEY=read_key("rsa_public.pem"),
            JWT_JWKS_PATH="/jwks",
        )
        app.config[key] = value
        with pytest.raises(ConfigurationError, match=key):
            flask_jwtx.JWTManager(app)

    def test_max_age_is_served(self) -> None:
        app = Flask(__name__)
        app.config.update(
            JWT_ALGORITHM="RS256",
            JWT_PRIVATE_KEY=read_key("rsa_private.pem"),
            JWT_PUBLIC_KEY=read_key("rsa_public.pem"),
            JWT_JWKS_PATH="/jwks",
            JWT_JWKS_MAX_AGE=42,
        )
        flask_jwtx.JWTManager(app)
        response = app.test_client().get("/jwks")
        assert response.headers["Cache-Control"] == "public, max-age=42"


class TestPinnedBySecurityDocs:
    """Claims in docs/security.md that had no test of their own."""

    def test_a_jwks_url_without_an_audience_warns_at_startup(
        self, issuer_server: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        single_issuer_app(issuer_server, JWT_DECODE_AUDIENCE=None)
        assert "JWT_JWKS_URL is set without JWT_DECODE_AUDIENCE" in caplog.text

    def test_a_cookie_token_without_a_csrf_claim_is_refused_on_a_state_changing_request(
        self,
    ) -> None:
        app = plain_app(JWT_TOKEN_LOCATION=["cookies"])
        no_csrf = hs256({"sub": "a", "type": "access"}, SECRET)
        client = app.test_client()
        client.set_cookie("access_token_cookie", no_csrf)
        response = client.post("/data", headers={"X-CSRF-TOKEN": "anything"})
        assert response.status_code == 422
        assert response.get_json() == {"msg": "Missing claim: csrf"}


# --- Found by an attacker's review of the fixes above --------------------------------------


class TestStoreKeysHoldAnyIdentity:
    """Store keys are digests: any identity, of any length or content, on every store."""

    @pytest.mark.parametrize("policy", ["closed", "open"])
    @pytest.mark.parametrize("identity", ["u" * 1000, "bob\x00", "\udc80", "a:b:c"])
    def test_logout_everywhere_on_postgresql(
        self, postgres_server: Any, policy: str, identity: str
    ) -> None:
        table = f"revocations_{uuid.uuid4().hex[:12]}"
        app = revocation_app(
            JWT_REVOCATION_STORE=postgres_server.url,
            JWT_REVOCATION_TABLE=table,
            JWT_REVOCATION_FAILURE_POLICY=policy,
        )
        with app.app_context():
            token = flask_jwtx.create_access_token(identity)
            assert get(app, token, "/me")[0] == 200
            flask_jwtx.revoke_all(identity)
            assert get(app, token, "/me") == (401, {"msg": "Token has been revoked"})
            other = flask_jwtx.create_access_token(identity + "x")
            flask_jwtx.revoke_token(other)
            assert get(app, other, "/me")[0] == 401
        app.extensions["flask-jwtx"].manager.close(app)

    def test_identities_of_different_json_types_do_not_share_a_record(self) -> None:
        app = revocation_app(JWT_VERIFY_SUB=False)
        with app.app_context():
            as_int = flask_jwtx.create_access_token(42)
            as_list = flask_jwtx.create_access_token([42])
            flask_jwtx.revoke_all("42")
        assert get(app, as_int, "/me")[0] == 200
        assert get(app, as_list, "/me")[0] == 200

    def test_revoke_all_uses_the_identity_as_the_token_carries_it(self) -> None:
        """A date goes into 'sub' as the JSON provider writes it, not as str() does."""
        app = revocation_app()
        born = date(2026, 1, 2)
        with app.app_context():
            token = flask_jwtx.create_access_token(born)
            flask_jwtx.revoke_all(born)
        assert get(app, token, "/me")[0] == 401

    def test_an_int_id_logs_out_tokens_made_with_its_string(self) -> None:
        app = revocation_app()
        with app.app_context():
            token = flask_jwtx.create_access_token("42")
            flask_jwtx.revoke_all(42)
        assert get(app, token, "/me")[0] == 401


class TestIssuersDoNotShareRecords:
    def test_one_issuers_user_cannot_revoke_anothers(self, issuer_server: str) -> None:
        other_key = Key.from_pem(
            algorithm="RS256", private_key=read_key("rsa2_private.pem"), kid="b"
        )
        server = JWKSServer()
        server.keys = KeySet([other_key])
        with serve(server.app) as other_base:
            app = trusting(
                issuer_server,
                JWT_REVOCATION_STORE="memory://",
                JWT_TRUSTED_ISSUERS=[
                    {"issuer": ISSUER, "jwks_url": issuer_server},
                    {"issuer": "https://b.test", "jwks_url": f"{other_base}/jwks"},
                ],
            )
            attacker = token(OLD, aud="api", sub="1001", jti="1")
            victim = token(other_key, iss="https://b.test", aud="api", sub="1001", jti="1")
            with app.app_context():
                flask_jwtx.revoke_token(attacker)
                with pytest.raises(TypeError, match="issuer="):
                    flask_jwtx.revoke_all("1001")
                flask_jwtx.revoke_all("1001", issuer=ISSUER)
            assert get(app, attacker)[0] == 401
            assert get(app, victim)[0] == 200
            with app.app_context():
                flask_jwtx.revoke_all("1001", issuer="https://b.test")
            assert get(app, victim)[0] == 401

    def test_a_decode_key_loader_does_not_bypass_the_issuers_audience(
        self, issuer_server: str
    ) -> None:
        app = trusting(issuer_server)
        assert OLD.verifying is not None
        app.extensions["flask-jwtx"].manager.decode_key_loader(
            lambda _h, _c: read_key("rsa_public.pem")
        )
        assert get(app, token(OLD, aud="api"))[0] == 200
        assert get(app, token(OLD, aud="billing")) == (422, {"msg": "Audience doesn't match"})
        assert get(app, token(OLD, aud="api", iss="https://evil.test"))[0] == 422


class TestRotationDecidesItsOwnClaims:
    @pytest.mark.parametrize("claim", ["exp", "jti", "fam", "type", "sub"])
    def test_reserved_claims_cannot_be_carried_over(self, claim: str) -> None:
        app = revocation_app(JWT_REFRESH_TOKEN_ROTATION=True)

        @app.post("/rotate")
        @flask_jwtx.jwt_required(refresh=True)
        def rotate() -> Any:
            flask_jwtx.rotate_refresh_token(additional_claims={claim: 1})
            return jsonify(ok=True)

        with app.app_context():
            refresh = flask_jwtx.create_refresh_token("alice")
        with pytest.raises(ValueError, match=claim):
            app.test_client().post("/rotate", headers=bearer(refresh))


def test_a_csrf_claim_with_a_lone_surrogate_is_refused_not_500() -> None:
    app = plain_app(JWT_TOKEN_LOCATION=["cookies"])
    app.testing = False
    client = app.test_client()
    client.set_cookie("access_token_cookie", hs256({"sub": "a", "csrf": "\ud800"}, SECRET))
    response = client.post("/data", headers={"X-CSRF-TOKEN": "x"})
    assert response.status_code == 401
    assert response.get_json() == {"msg": "CSRF double submit tokens do not match"}


def revocation_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE="memory://")
    app.config.update(config)
    flask_jwtx.JWTManager(app)

    @app.get("/me")
    @flask_jwtx.jwt_required()
    def me() -> Any:
        return jsonify(ok=True)

    return app


class TestARetiredKeyDoesNotLiveForever:
    def test_a_set_that_cannot_be_refreshed_stops_serving_after_max_stale(self) -> None:
        server = JWKSServer()
        with serve(server.app) as base:
            app = single_issuer_app(
                f"{base}/jwks",
                JWT_JWKS_CACHE_TTL=0.5,
                JWT_JWKS_MAX_STALE=1.0,
                JWT_JWKS_MIN_REFRESH_INTERVAL=0.05,
            )
            leaked = token(OLD)
            assert get(app, leaked)[0] == 200
            server.mode = "down"  # whoever can block our fetches...
            # Wide margins around the 1.5 s bound (TTL + MAX_STALE): CI is busy.
            time.sleep(0.6)
            assert get(app, leaked)[0] == 200, "within max_stale the cached set serves"
            time.sleep(1.2)
            assert get(app, leaked) == (503, {"msg": "Token keys are unavailable"})
            server.mode = "ok"
            time.sleep(0.06)
            assert get(app, leaked)[0] == 200, "a successful fetch serves again"

    def test_max_stale_none_keeps_serving(self) -> None:
        server = JWKSServer()
        with serve(server.app) as base:
            app = single_issuer_app(
                f"{base}/jwks",
                JWT_JWKS_CACHE_TTL=0.1,
                JWT_JWKS_MAX_STALE=None,
                JWT_JWKS_MIN_REFRESH_INTERVAL=0.05,
            )
            assert get(app, token(OLD))[0] == 200
            server.mode = "down"
            time.sleep(0.4)
            assert get(app, token(OLD))[0] == 200
