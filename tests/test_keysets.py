"""Key sets: kid selection, rotation, publishing, and the RFC 7638 thumbprint."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx import tokens
from flask_jwtx._core.jose.keyset import PRIVATE_MEMBERS, Key, KeySet, thumbprint
from flask_jwtx.exceptions import ConfigurationError, InvalidKeyError

from .helpers import KEYS as KEYS_DIR
from .helpers import SECRET, bearer, read_key

RSA1 = Key.from_pem(algorithm="RS256", private_key=read_key("rsa_private.pem"), kid="rsa-1")
RSA2 = Key.from_pem(algorithm="RS256", private_key=read_key("rsa2_private.pem"), kid="rsa-2")
EC = Key.from_pem(algorithm="ES256", private_key=read_key("ec256_private.pem"), kid="ec-1")
EC_THUMBPRINT = Key.from_pem(algorithm="ES256", public_key=read_key("ec256_public.pem")).kid


def app_with(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, **config)
    flask_jwtx.JWTManager(app)

    @app.get("/protected")
    @flask_jwtx.jwt_required()
    def protected() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity(), kid=flask_jwtx.get_jwt_header()["kid"])

    return app


def call(app: Flask, token: str) -> tuple[int, Any]:
    response = app.test_client().get("/protected", headers=bearer(token))
    return response.status_code, response.get_json()


def mint(app: Flask, identity: str = "alice") -> str:
    with app.app_context():
        return flask_jwtx.create_access_token(identity)


def test_rfc7638_thumbprint_test_vector() -> None:
    """The example key and thumbprint of RFC 7638 section 3.1."""
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6"
        "tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65Y"
        "GjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt"
        "-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKg"
        "w",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


class TestKeys:
    def test_from_pem_derives_the_public_part_and_a_thumbprint_kid(self) -> None:
        key = Key.from_pem(algorithm="RS256", private_key=read_key("rsa_private.pem"))
        assert key.can_sign
        assert key.jwk is not None
        assert key.kid == thumbprint(key.jwk)
        public_only = Key.from_pem(algorithm="RS256", public_key=read_key("rsa_public.pem"))
        assert (public_only.kid, public_only.can_sign) == (key.kid, False)

    def test_from_jwk_round_trip(self) -> None:
        private_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC.signing.key))  # type: ignore[union-attr]
        key = Key.from_jwk({**private_jwk, "kid": "k", "alg": "ES256"})
        assert (key.kid, key.algorithm, key.can_sign) == ("k", "ES256", True)
        public = Key.from_jwk(
            {k: v for k, v in private_jwk.items() if k != "d"}, algorithm="ES256"
        )
        assert not public.can_sign

    def test_a_jwk_is_bound_to_one_algorithm(self) -> None:
        assert RSA1.jwk is not None
        with pytest.raises(InvalidKeyError, match="no 'alg'"):
            Key.from_jwk({k: v for k, v in RSA1.jwk.items() if k != "alg"})
        with pytest.raises(InvalidKeyError, match="differs"):
            Key.from_jwk(dict(RSA1.jwk), algorithm="PS256")
        with pytest.raises(InvalidKeyError):
            Key.from_jwk({**RSA1.jwk, "alg": "ES256"})

    def test_secret_keys_need_a_kid_and_are_never_published(self) -> None:
        with pytest.raises(TypeError):
            Key.from_secret(SECRET)  # type: ignore[call-arg]
        key = Key.from_secret(SECRET, kid="hmac-1")
        assert KeySet([key]).public_jwks() == {"keys": []}

    @pytest.mark.parametrize("kid", ["", "x" * 300, 5])
    def test_bad_kids(self, kid: Any) -> None:
        with pytest.raises(InvalidKeyError):
            Key.from_pem(algorithm="RS256", public_key=read_key("rsa_public.pem"), kid=kid)

    def test_key_set_rules(self) -> None:
        with pytest.raises(InvalidKeyError, match="share the kid"):
            KeySet([RSA1, RSA1])
        public_only = Key.from_pem(algorithm="RS256", public_key=read_key("rsa_public.pem"))
        assert KeySet([public_only, RSA2]).signing_kid == "rsa-2"
        with pytest.raises(InvalidKeyError, match="can sign"):
            KeySet([public_only, RSA2], signing_kid=public_only.kid)

    def test_from_file_and_env(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        document = json.dumps({"keys": [dict(RSA1.jwk or {}, kid="f1")]})
        path = tmp_path / "jwks.json"
        path.write_text(document)
        assert KeySet.from_file(path).get("f1") is not None
        monkeypatch.setenv("APP_JWKS", document)
        assert KeySet.from_env("APP_JWKS").get("f1") is not None
        monkeypatch.delenv("APP_JWKS")
        with pytest.raises(ConfigurationError, match="APP_JWKS"):
            KeySet.from_env("APP_JWKS")


class TestKeyFromText:
    def test_pem_files_private_and_public(self, tmp_path: Path) -> None:
        private = Key.from_file(KEYS_DIR / "ec256_private.pem", algorithm="ES256")
        public = Key.from_file(KEYS_DIR / "ec256_public.pem", algorithm="ES256")
        assert (private.can_sign, public.can_sign) == (True, False)
        assert private.kid == public.kid == EC_THUMBPRINT

    def test_jwk_text_and_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        assert RSA1.jwk is not None
        monkeypatch.setenv("SIGNING_KEY", json.dumps(dict(RSA1.jwk)))
        key = Key.from_env("SIGNING_KEY", kid="from-env")
        assert (key.kid, key.algorithm) == ("from-env", "RS256")
        monkeypatch.setenv("PEM_KEY", read_key("rsa_private.pem"))
        assert Key.from_env("PEM_KEY", algorithm="RS256", kid="p").can_sign
        monkeypatch.delenv("PEM_KEY")
        with pytest.raises(ConfigurationError, match="PEM_KEY"):
            Key.from_env("PEM_KEY", algorithm="RS256")

    def test_pem_needs_an_algorithm(self) -> None:
        with pytest.raises(InvalidKeyError, match="algorithm="):
            Key.from_text(read_key("rsa_public.pem"))


class TestKeySetApps:
    def test_tokens_carry_the_signing_kid_and_verify_by_it(self) -> None:
        app = app_with(JWT_KEYS=KeySet([RSA1, RSA2, EC], signing_kid="rsa-2"))
        token = mint(app)
        assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": "rsa-2"}
        assert call(app, token) == (200, {"sub": "alice", "kid": "rsa-2"})

    def test_signing_kid_from_config(self) -> None:
        app = app_with(JWT_KEYS=[RSA1, EC], JWT_SIGNING_KID="ec-1")
        assert jwt.get_unverified_header(mint(app))["kid"] == "ec-1"
        with pytest.raises(ConfigurationError, match="JWT_SIGNING_KID"):
            app_with(JWT_KEYS=[RSA1], JWT_SIGNING_KID="nope")

    def test_retired_keys_verify_until_removed(self) -> None:
        old = app_with(JWT_KEYS=[RSA1])
        old_token = mint(old)
        retired = Key.from_pem(
            algorithm="RS256", public_key=read_key("rsa_public.pem"), kid="rsa-1"
        )
        rotated = app_with(JWT_KEYS=KeySet([RSA2, retired]))
        assert call(rotated, old_token)[0] == 200
        assert jwt.get_unverified_header(mint(rotated))["kid"] == "rsa-2"
        removed = app_with(JWT_KEYS=[RSA2])
        assert call(removed, old_token) == (422, {"msg": "No key matches the token's kid and alg"})

    def test_unknown_or_missing_kid_is_refused_without_trying_other_keys(self) -> None:
        app = app_with(JWT_KEYS=[RSA1, RSA2])
        forged_kid = jwt.encode(
            {"sub": "a"}, read_key("rsa_private.pem"), algorithm="RS256", headers={"kid": "rsa-2"}
        )
        assert call(app, forged_kid)[0] == 422, "signed by rsa-1 but claims rsa-2"
        no_kid = jwt.encode({"sub": "a"}, read_key("rsa_private.pem"), algorithm="RS256")
        assert call(app, no_kid) == (
            422,
            {"msg": "The token has no 'kid' header; this service selects keys by kid"},
        )

    def test_kid_is_bound_to_its_algorithm(self) -> None:
        app = app_with(JWT_KEYS=[RSA1])
        other_alg = jwt.encode(
            {"sub": "a"}, read_key("rsa_private.pem"), algorithm="PS256", headers={"kid": "rsa-1"}
        )
        assert call(app, other_alg)[0] == 422

    @pytest.mark.parametrize("kid", ["../../etc/passwd", "x" * 5000, "' OR 1=1 --", "\u0000"])
    def test_kid_is_untrusted_input(self, kid: str) -> None:
        app = app_with(JWT_KEYS=[RSA1], JWT_MAX_TOKEN_BYTES=100_000)
        token = jwt.encode(
            {"sub": "a"}, read_key("rsa_private.pem"), algorithm="RS256", headers={"kid": kid}
        )
        assert call(app, token)[0] == 422

    def test_key_material_in_the_header_is_ignored(self) -> None:
        app = app_with(JWT_KEYS=[RSA1])
        assert RSA2.jwk is not None
        token = jwt.encode(
            {"sub": "a"},
            read_key("rsa2_private.pem"),
            algorithm="RS256",
            headers={
                "kid": "rsa-1",
                "jwk": dict(RSA2.jwk),
                "jku": "http://127.0.0.1:1/jwks",
                "x5u": "http://127.0.0.1:1/c",
                "x5c": ["MIIB"],
            },
        )
        assert call(app, token) == (422, {"msg": "Signature verification failed"})

    def test_jwks_json_text_config(self) -> None:
        private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA1.signing.key))  # type: ignore[union-attr]
        app = app_with(JWT_KEYS=json.dumps({"keys": [{**private, "kid": "t", "alg": "RS256"}]}))
        assert call(app, mint(app))[0] == 200

    @pytest.mark.parametrize(
        "value",
        [
            42,
            "not json",
            {"keys": "x"},
            [{"kty": "RSA"}],
            {"keys": [{"kty": "RSA", "alg": ["RS256"], "n": "AQAB", "e": "AQAB"}]},
            {"keys": [{"kty": "EC", "alg": "ES256", "crv": {}, "x": 1, "y": None}]},
        ],
    )
    def test_bad_key_sets_fail_at_startup(self, value: Any) -> None:
        with pytest.raises(ConfigurationError, match="JWT_KEYS"):
            app_with(JWT_KEYS=value)


def _ec_key_with_a_short_x(curve: ec.EllipticCurve) -> ec.EllipticCurvePrivateKey:
    """The first private key (d = 1, 2, ...) whose public x has a leading zero byte."""
    size = (curve.key_size + 7) // 8
    for d in range(1, 2000):
        key = ec.derive_private_key(d, curve)
        if key.public_key().public_numbers().x < 1 << (8 * (size - 1)):
            return key
    raise AssertionError("no such key in range")  # pragma: no cover - half of P-521's qualify


class TestEcJwksHaveFullLengthCoordinates:
    @pytest.mark.parametrize(
        ("algorithm", "curve"), [("ES512", ec.SECP521R1()), ("ES256", ec.SECP256R1())]
    )
    def test_x_keeps_its_leading_zero_byte_and_the_kid_is_the_rfc_thumbprint(
        self, algorithm: str, curve: ec.EllipticCurve
    ) -> None:
        """RFC 7518 6.2.1.2 lengths, whatever PyJWT writes (2.8 drops the zeros), so kids agree."""
        private = _ec_key_with_a_short_x(curve)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        key = Key.from_pem(algorithm=algorithm, private_key=pem)
        assert key.jwk is not None
        size = (curve.key_size + 7) // 8
        numbers = private.public_key().public_numbers()
        expected = {
            "kty": "EC",
            "crv": key.jwk["crv"],
            "x": tokens.b64url_encode(numbers.x.to_bytes(size, "big")),
            "y": tokens.b64url_encode(numbers.y.to_bytes(size, "big")),
        }
        assert {name: key.jwk[name] for name in expected} == expected
        assert key.kid == thumbprint(expected)
        # What we publish loads in PyJWT, which refuses short coordinates.
        assert jwt.PyJWK({**expected, "alg": algorithm}).key.public_numbers() == numbers


class TestConfiguredKeysAreHeldToTheRemoteRules:
    """What a remote JWKS skips, configuration refuses, at start-up, by name."""

    def test_a_duplicate_kid_in_a_configured_jwks_is_refused(self) -> None:
        assert RSA1.jwk is not None
        assert RSA2.jwk is not None
        document = {"keys": [dict(RSA1.jwk, kid="same"), dict(RSA2.jwk, kid="same")]}
        with pytest.raises(ConfigurationError, match="share the kid 'same'"):
            app_with(JWT_KEYS=document)

    def test_an_rsa_key_under_2048_bits_is_refused(self) -> None:
        weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
        pem = weak.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with pytest.raises(InvalidKeyError, match="1024 bits is too weak"):
            Key.from_pem(algorithm="RS256", private_key=pem, kid="weak")
        jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(weak.public_key(), as_dict=True)}
        with pytest.raises(ConfigurationError, match=r"JWT_KEYS.*1024 bits"):
            app_with(JWT_KEYS=[{**jwk, "alg": "PS256", "kid": "weak"}])

    @pytest.mark.parametrize(
        ("pem", "algorithm"),
        [("ec384_public.pem", "ES256"), ("ec256_public.pem", "ES384")],
    )
    def test_an_ec_key_off_its_algorithms_curve_is_refused(self, pem: str, algorithm: str) -> None:
        public = Key.from_pem(
            algorithm="ES384" if algorithm == "ES256" else "ES256", public_key=read_key(pem)
        )
        assert public.jwk is not None
        mislabelled = {**public.jwk, "alg": algorithm, "kid": "mislabelled"}
        with pytest.raises(InvalidKeyError, match=f"{algorithm} needs a key on"):
            Key.from_jwk(mislabelled)
        with pytest.raises(ConfigurationError, match="JWT_KEYS"):
            app_with(JWT_KEYS={"keys": [mislabelled]})
        with pytest.raises(InvalidKeyError):
            Key.from_pem(algorithm=algorithm, public_key=read_key(pem))


class TestPlainKeyPair:
    def test_tokens_carry_the_thumbprint_and_old_tokens_still_verify(self) -> None:
        app = app_with(
            JWT_ALGORITHM="RS256",
            JWT_PRIVATE_KEY=read_key("rsa_private.pem"),
            JWT_PUBLIC_KEY=read_key("rsa_public.pem"),
        )
        expected = Key.from_pem(algorithm="RS256", public_key=read_key("rsa_public.pem")).kid
        assert jwt.get_unverified_header(mint(app))["kid"] == expected
        without_kid = jwt.encode({"sub": "a"}, read_key("rsa_private.pem"), algorithm="RS256")
        with app.app_context():
            assert flask_jwtx.decode_token(without_kid)["sub"] == "a"

    def test_hmac_tokens_get_no_kid(self) -> None:
        app = app_with(JWT_SECRET_KEY=SECRET)
        assert "kid" not in jwt.get_unverified_header(mint(app))


class TestPublishing:
    def published(self, **config: Any) -> Any:
        app = app_with(JWT_JWKS_PATH="/.well-known/jwks.json", JWT_JWKS_MAX_AGE=120, **config)
        response = app.test_client().get("/.well-known/jwks.json")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=120"
        return response.get_json()

    def test_public_keys_with_kid_alg_use(self) -> None:
        hmac = Key.from_secret(SECRET, kid="hmac")
        document = self.published(JWT_KEYS=[RSA1, EC, hmac])
        assert [(k["kid"], k["alg"], k["use"], k["kty"]) for k in document["keys"]] == [
            ("rsa-1", "RS256", "sig", "RSA"),
            ("ec-1", "ES256", "sig", "EC"),
        ]

    def test_no_private_member_ever_leaves(self) -> None:
        document = self.published(JWT_KEYS=[RSA1, RSA2, EC, Key.from_secret(SECRET, kid="h")])
        for key in document["keys"]:
            assert not PRIVATE_MEMBERS & set(key), key
        assert SECRET not in json.dumps(document)

    def test_published_keys_verify_our_tokens(self) -> None:
        app = app_with(JWT_KEYS=[RSA1], JWT_JWKS_PATH="/jwks")
        document = app.test_client().get("/jwks").get_json()
        verifier = jwt.PyJWKSet.from_dict(document)["rsa-1"]
        assert jwt.decode(mint(app), verifier.key, algorithms=["RS256"])["sub"] == "alice"

    def test_plain_key_pair_is_published_too(self) -> None:
        document = self.published(
            JWT_ALGORITHM="ES256",
            JWT_PRIVATE_KEY=read_key("ec256_private.pem"),
            JWT_PUBLIC_KEY=read_key("ec256_public.pem"),
        )
        assert [k["alg"] for k in document["keys"]] == ["ES256"]

    def test_bad_path_fails_at_startup(self) -> None:
        with pytest.raises(ConfigurationError, match="JWT_JWKS_PATH"):
            app_with(JWT_KEYS=[RSA1], JWT_JWKS_PATH="jwks.json")


class TestKeySetLoader:
    """Rotation without a restart: the loader is asked again after its refresh interval."""

    def test_rotation(self) -> None:
        current = {"keys": KeySet([RSA1])}
        manager = flask_jwtx.JWTManager()
        manager.key_set_loader(lambda: current["keys"])
        app = Flask(__name__)
        app.config.update(JWT_KEY_SET_REFRESH=0.05, JWT_JWKS_MIN_REFRESH_INTERVAL=0.05)
        manager.init_app(app)

        @app.get("/protected")
        @flask_jwtx.jwt_required()
        def protected() -> str:
            return "ok"

        first = mint(app)
        assert jwt.get_unverified_header(first)["kid"] == "rsa-1"
        retired = Key.from_pem(
            algorithm="RS256", public_key=read_key("rsa_public.pem"), kid="rsa-1"
        )
        current["keys"] = KeySet([RSA2, retired])
        time.sleep(0.06)
        second = mint(app)
        assert jwt.get_unverified_header(second)["kid"] == "rsa-2"
        assert call(app, first)[0] == 200
        assert call(app, second)[0] == 200

    def test_unknown_kid_triggers_a_bounded_reload(self) -> None:
        calls = []
        keys = {"set": KeySet([RSA1])}

        def loader() -> KeySet:
            calls.append(1)
            return keys["set"]

        manager = flask_jwtx.JWTManager()
        manager.key_set_loader(loader)
        app = Flask(__name__)
        app.config.update(JWT_KEY_SET_REFRESH=3600, JWT_JWKS_MIN_REFRESH_INTERVAL=0.3)
        manager.init_app(app)
        private = read_key("rsa2_private.pem")
        rotated = jwt.encode({"sub": "a"}, private, algorithm="RS256", headers={"kid": "rsa-2"})
        unknown = jwt.encode({"sub": "a"}, private, algorithm="RS256", headers={"kid": "nope"})

        with app.app_context():
            flask_jwtx.create_access_token("a")
            assert len(calls) == 1
            keys["set"] = KeySet([RSA1, RSA2])
            time.sleep(0.31)
            assert flask_jwtx.decode_token(rotated)["sub"] == "a"
            assert len(calls) == 2, "the unknown kid reloaded the set once"
            for _ in range(20):
                with pytest.raises(flask_jwtx.exceptions.InvalidAlgorithmError):
                    flask_jwtx.decode_token(unknown)
        assert len(calls) == 2, "unknown kids within the interval do not reload"

    def test_a_broken_set_from_the_loader_keeps_the_cached_one_serving(self) -> None:
        """A rotation script that writes a bad set must not make every request a 500."""
        keys: dict[str, object] = {"set": KeySet([RSA1])}
        manager = flask_jwtx.JWTManager()
        manager.key_set_loader(lambda: keys["set"])
        app = Flask(__name__)
        app.config.update(TESTING=False, JWT_KEY_SET_REFRESH=0.05)
        app.config["JWT_JWKS_MIN_REFRESH_INTERVAL"] = 0.05
        manager.init_app(app)

        @app.get("/protected")
        @flask_jwtx.jwt_required()
        def protected() -> str:
            return "ok"

        token = mint(app)
        keys["set"] = {"keys": "not a list"}
        time.sleep(0.06)
        assert call(app, token)[0] == 200, "the cached set keeps serving"

    def test_a_broken_first_set_is_a_503_not_a_500(self) -> None:
        manager = flask_jwtx.JWTManager()
        manager.key_set_loader(lambda: 42)
        app = Flask(__name__)
        app.config.update(TESTING=False)
        manager.init_app(app)

        @app.get("/protected")
        @flask_jwtx.jwt_required()
        def protected() -> str:
            return "ok"

        forged = jwt.encode(
            {"sub": "a"}, read_key("rsa_private.pem"), algorithm="RS256", headers={"kid": "rsa-1"}
        )
        assert call(app, forged)[0] == 503
