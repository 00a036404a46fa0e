"""The Flask-free token core: interoperable with PyJWT, strict on malformed input."""

from __future__ import annotations

import json
import time
from datetime import UTC
from typing import Any

import jwt
import pytest

from flask_jwtx import exceptions as exc
from flask_jwtx import tokens
from flask_jwtx._core.jose.keys import PreparedKey, prepare_key

from .crafted_tokens import HS256, b64url, signed
from .helpers import SECRET, algorithms, needs_cryptography, read_key

POLICY = tokens.VerifyPolicy(algorithms=frozenset({"HS256"}))

ASYMMETRIC = {
    "RS256": ("rsa_private.pem", "rsa_public.pem"),
    "RS384": ("rsa_private.pem", "rsa_public.pem"),
    "RS512": ("rsa_private.pem", "rsa_public.pem"),
    "PS256": ("rsa_private.pem", "rsa_public.pem"),
    "PS384": ("rsa_private.pem", "rsa_public.pem"),
    "PS512": ("rsa_private.pem", "rsa_public.pem"),
    "ES256": ("ec256_private.pem", "ec256_public.pem"),
    "ES384": ("ec384_private.pem", "ec384_public.pem"),
    "ES512": ("ec521_private.pem", "ec521_public.pem"),
    "EdDSA": ("ed25519_private.pem", "ed25519_public.pem"),
}


def claims(**override: Any) -> dict[str, Any]:
    now = int(time.time())
    body: dict[str, Any] = {"sub": "alice", "iat": now, "nbf": now, "exp": now + 60}
    body.update(override)
    return {k: v for k, v in body.items() if v is not None}


def lookup(key: PreparedKey) -> tokens.KeyLookup:
    return lambda _alg, _header, _token: key


def decode(token: str | bytes, policy: tokens.VerifyPolicy = POLICY, **kw: Any) -> dict[str, Any]:
    return tokens.decode(token, policy, lookup(HS256), **kw)[1]


HEADER = b'{"alg":"HS256","typ":"JWT"}'


class TestInteroperability:
    @pytest.mark.parametrize("algorithm", algorithms(*sorted(ASYMMETRIC)))
    def test_tokens_we_sign_verify_with_pyjwt_and_back(self, algorithm: str) -> None:
        private_name, public_name = ASYMMETRIC[algorithm]
        private, public = read_key(private_name), read_key(public_name)
        ours = tokens.encode(claims(), prepare_key(algorithm, private))
        assert jwt.decode(ours, public, algorithms=[algorithm])["sub"] == "alice"
        theirs = jwt.encode(claims(), private, algorithm=algorithm)
        policy = tokens.VerifyPolicy(algorithms=frozenset({algorithm}))
        header, body = tokens.decode(theirs, policy, lookup(prepare_key(algorithm, public)))
        assert (header["alg"], body["sub"]) == (algorithm, "alice")

    @pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
    def test_hmac_signatures_equal_pyjwt_byte_for_byte(self, algorithm: str) -> None:
        body = claims()
        ours = tokens.encode(dict(body), prepare_key(algorithm, SECRET))
        theirs = jwt.encode(body, SECRET, algorithm=algorithm)
        assert ours.split(".")[2] == theirs.split(".")[2]

    def test_a_tampered_payload_is_refused(self) -> None:
        token = tokens.encode(claims(), HS256)
        head, _, sig = token.split(".")
        forged = f"{head}.{b64url(json.dumps(claims(sub='mallory')).encode())}.{sig}"
        with pytest.raises(exc.InvalidSignatureError, match="Signature verification failed"):
            decode(forged)

    @needs_cryptography
    def test_a_signature_from_the_wrong_key_pair_is_refused(self) -> None:
        token = tokens.encode(claims(), prepare_key("RS256", read_key("rsa2_private.pem")))
        policy = tokens.VerifyPolicy(algorithms=frozenset({"RS256"}))
        with pytest.raises(exc.InvalidSignatureError):
            tokens.decode(token, policy, lookup(prepare_key("RS256", read_key("rsa_public.pem"))))


class TestAlgorithmAllowList:
    def test_alg_none_is_refused_even_if_listed(self) -> None:
        unsigned = jwt.encode(claims(), None, algorithm="none")  # type: ignore[arg-type]
        policy = tokens.VerifyPolicy(algorithms=frozenset({"HS256", "none"}))
        with pytest.raises(exc.InvalidAlgorithmError):
            tokens.decode(unsigned, policy, lookup(HS256))

    def test_an_algorithm_outside_the_list_is_refused(self) -> None:
        with pytest.raises(exc.InvalidAlgorithmError, match="not allowed"):
            decode(jwt.encode(claims(), SECRET, algorithm="HS512"))

    def test_a_missing_alg_is_refused(self) -> None:
        with pytest.raises(exc.InvalidAlgorithmError, match="not specified"):
            decode(signed(b'{"typ":"JWT"}', json.dumps(claims()).encode()))

    def test_public_key_used_as_hmac_secret_is_refused(self) -> None:
        """Algorithm confusion: an RSA public key must never become an HMAC secret."""
        with pytest.raises(exc.InvalidKeyError):
            prepare_key("HS256", read_key("rsa_public.pem"))

    def test_an_rsa_key_cannot_serve_an_ec_algorithm(self) -> None:
        with pytest.raises(exc.InvalidKeyError):
            prepare_key("ES256", read_key("rsa_public.pem"))

    def test_unknown_critical_extension_is_refused(self) -> None:
        header = b'{"alg":"HS256","crit":["exp-ext"],"exp-ext":1}'
        with pytest.raises(exc.DecodeError, match="Unsupported critical extension"):
            decode(signed(header, json.dumps(claims()).encode()))

    def test_key_material_in_the_header_is_ignored(self) -> None:
        """A jwk header naming the attacker's key changes nothing: our key decides."""
        attacker = jwt.algorithms.HMACAlgorithm.to_jwk(b"attacker-secret-attacker-secret!!")
        header = json.dumps(
            {"alg": "HS256", "jwk": json.loads(attacker), "jku": "https://evil.example/jwks"}
        ).encode()
        payload = b64url(json.dumps(claims()).encode())
        signing_input = f"{b64url(header)}.{payload}"
        evil_sig = prepare_key("HS256", "attacker-secret-attacker-secret!!").sign(
            signing_input.encode()
        )
        with pytest.raises(exc.InvalidSignatureError):
            decode(f"{signing_input}.{b64url(evil_sig)}")

    def test_kid_must_be_a_string(self) -> None:
        with pytest.raises(exc.DecodeError, match="Key ID"):
            decode(signed(b'{"alg":"HS256","kid":7}', json.dumps(claims()).encode()))


class TestMalformedTokens:
    """Every malformed token is a DecodeError (a 422), never another exception."""

    @pytest.mark.parametrize(
        "token",
        [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "a..c",
            "....",
            "a b.c.d",
            "é.b.c",
            "a=.b.c",
            "eyJhbGciOiJIUzI1NiJ9.e30=.sig",
        ],
    )
    def test_structurally_broken(self, token: str) -> None:
        with pytest.raises(exc.DecodeError):
            decode(token)

    def test_non_canonical_base64_is_refused(self) -> None:
        token = tokens.encode(claims(), HS256)
        head, body, sig = token.split(".")
        # Flip the unused low bits of the last signature character.
        last = sig[-1]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        twin = alphabet[alphabet.index(last) + 1]
        with pytest.raises(exc.DecodeError, match="padding"):
            decode(f"{head}.{body}.{sig[:-1]}{twin}")

    def test_bytes_tokens_are_accepted(self) -> None:
        assert decode(tokens.encode(claims(), HS256).encode())["sub"] == "alice"

    @pytest.mark.parametrize("value", [None, 42, ["a.b.c"], {"t": 1}])
    def test_non_string_tokens(self, value: Any) -> None:
        with pytest.raises(exc.DecodeError, match="Invalid token type"):
            decode(value)

    def test_oversize_tokens_are_refused_before_decoding(self) -> None:
        huge = tokens.encode(claims(pad="x" * 10_000), HS256)
        with pytest.raises(exc.TokenTooLargeError, match="8192"):
            decode(huge)
        policy = tokens.VerifyPolicy(algorithms=frozenset({"HS256"}), max_bytes=20_000)
        assert decode(huge, policy)["pad"] == "x" * 10_000

    @pytest.mark.parametrize(
        ("payload", "message"),
        [
            (b"[1, 2]", "must be a json object"),
            (b'"just a string"', "must be a json object"),
            (b"not json", "Invalid payload string"),
            (b"\xff\xfe{}", "not UTF-8"),
            (b'{"sub": "a", "n": NaN}', "NaN is not valid JSON"),
            (b'{"sub": "a", "n": Infinity}', "Infinity"),
            (b'{"sub": "a", "n": ' + b"9" * 5000 + b"}", "Invalid payload string"),
            (b"[" * 100_000 + b"]" * 100_000, "Invalid payload string"),
            (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
        ],
        ids=[
            "list",
            "string",
            "not-json",
            "not-utf8",
            "nan",
            "infinity",
            "huge-int",
            "deep-list",
            "deep-object",
        ],
    )
    def test_validly_signed_but_malformed_payloads(self, payload: bytes, message: str) -> None:
        policy = tokens.VerifyPolicy(algorithms=frozenset({"HS256"}), max_bytes=1_000_000)
        with pytest.raises(exc.DecodeError, match=message):
            decode(signed(HEADER, payload), policy)

    def test_malformed_header_json(self) -> None:
        with pytest.raises(exc.DecodeError, match="Invalid header string"):
            decode(signed(b"[]", json.dumps(claims()).encode()))


class TestRegisteredClaims:
    @pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
    @pytest.mark.parametrize("value", ["1700000000", True, None, [1], {"t": 1}, 1e999, 10**400])
    def test_numeric_dates_must_be_json_numbers(self, name: str, value: Any) -> None:
        body = claims()
        body[name] = value
        payload = json.dumps(body).encode().replace(b"Infinity", b"1e999")
        with pytest.raises(exc.DecodeError if name != "iat" else exc.InvalidIssuedAtError):
            decode(signed(HEADER, payload))

    def test_float_numeric_dates_are_fine(self) -> None:
        now = time.time()
        assert decode(signed(HEADER, json.dumps(claims(exp=now + 5.5, iat=now)).encode()))

    def test_expired(self) -> None:
        token = tokens.encode(claims(exp=int(time.time()) - 1), HS256)
        with pytest.raises(exc.ExpiredSignatureError) as info:
            decode(token)
        assert info.value.jwt_data["sub"] == "alice"
        assert info.value.jwt_header["alg"] == "HS256"
        assert isinstance(info.value, jwt.ExpiredSignatureError)

    def test_expired_allowed_on_request(self) -> None:
        token = tokens.encode(claims(exp=int(time.time()) - 1), HS256)
        assert decode(token, verify_exp=False)["sub"] == "alice"

    def test_leeway(self) -> None:
        token = tokens.encode(claims(exp=int(time.time()) - 5), HS256)
        policy = tokens.VerifyPolicy(algorithms=frozenset({"HS256"}), leeway=30)
        assert decode(token, policy)["sub"] == "alice"

    @pytest.mark.parametrize("name", ["nbf", "iat"])
    def test_not_yet_valid(self, name: str) -> None:
        token = tokens.encode(claims(**{name: int(time.time()) + 600}), HS256)
        with pytest.raises(exc.ImmatureSignatureError, match=name):
            decode(token)

    def test_audience(self) -> None:
        policy = tokens.VerifyPolicy(algorithms=frozenset({"HS256"}), audience=("api", "web"))
        assert decode(tokens.encode(claims(aud=["x", "web"]), HS256), policy)
        with pytest.raises(exc.InvalidAudienceError, match="doesn't match"):
            decode(tokens.encode(claims(aud="other"), HS256), policy)
        with pytest.raises(exc.MissingRequiredClaimError):
            decode(tokens.encode(claims(), HS256), policy)
        with pytest.raises(exc.InvalidAudienceError, match="format"):
            decode(tokens.encode(claims(aud=[1]), HS256), policy)

    def test_issuer(self) -> None:
        policy = tokens.VerifyPolicy(algorithms=frozenset({"HS256"}), issuer="me")
        assert decode(tokens.encode(claims(iss="me"), HS256), policy)
        with pytest.raises(exc.InvalidIssuerError):
            decode(tokens.encode(claims(iss="you"), HS256), policy)
        with pytest.raises(exc.InvalidIssuerError):
            decode(tokens.encode(claims(iss=["me"]), HS256), policy)
        with pytest.raises(exc.MissingRequiredClaimError):
            decode(tokens.encode(claims(), HS256), policy)

    def test_subject_must_be_a_string_unless_disabled(self) -> None:
        token = tokens.encode(claims(sub=42), HS256)
        with pytest.raises(exc.InvalidSubjectError):
            decode(token)
        lenient = tokens.VerifyPolicy(algorithms=frozenset({"HS256"}), verify_sub=False)
        assert decode(token, lenient)["sub"] == 42

    def test_identity_claim_is_required(self) -> None:
        with pytest.raises(exc.JWTDecodeError, match="Missing claim: sub"):
            decode(tokens.encode(claims(sub=None), HS256))

    @pytest.mark.parametrize(
        "header",
        [
            b'{"alg":"HS256","kid":null}',
            b'{"alg":"HS256","crit":null}',
            b'{"alg":"HS256","b64":false}',
            b'{"alg":"HS256","b64":"no"}',
        ],
        ids=["kid-null", "crit-null", "b64-false", "b64-string"],
    )
    def test_a_present_header_parameter_must_be_well_formed(self, header: bytes) -> None:
        """Found by differential fuzzing: PyJWT refuses these, so do we."""
        with pytest.raises(exc.DecodeError):
            decode(signed(header, json.dumps(claims()).encode()))

    def test_a_fractional_exp_does_not_extend_the_token(self) -> None:
        """PyJWT reads ``exp`` in whole seconds; so do we (never later than it)."""
        payload = claims()
        payload["exp"] = int(time.time()) + 0.75
        with pytest.raises(exc.ExpiredSignatureError):
            decode(signed(HEADER, json.dumps(payload).encode()))

    def test_defaults_for_foreign_tokens(self) -> None:
        body = decode(tokens.encode(claims(), HS256))
        assert (body["type"], body["fresh"], body["jti"]) == ("access", False, None)

    @pytest.mark.parametrize("value", ["email_confirmation", 1, None, True])
    def test_any_token_type_decodes(self, value: Any) -> None:
        """Apps decode their own kinds; routes refuse them (``test_dropin``)."""
        payload = claims()
        payload["type"] = value
        assert decode(signed(HEADER, json.dumps(payload).encode()))["type"] == value

    @pytest.mark.parametrize("value", ["yes", None, [True]])
    def test_fresh_must_be_bool_or_number(self, value: Any) -> None:
        payload = claims()
        payload["fresh"] = value
        with pytest.raises(exc.JWTDecodeError, match="fresh"):
            decode(signed(HEADER, json.dumps(payload).encode()))


class TestCsrf:
    def test_matching_value(self) -> None:
        token = tokens.encode(claims(csrf="abc"), HS256)
        assert decode(token, csrf_value="abc")["csrf"] == "abc"

    def test_mismatch(self) -> None:
        token = tokens.encode(claims(csrf="abc"), HS256)
        with pytest.raises(exc.CSRFError, match="do not match"):
            decode(token, csrf_value="abd")

    def test_token_without_csrf_claim(self) -> None:
        with pytest.raises(exc.JWTDecodeError, match="csrf"):
            decode(tokens.encode(claims(), HS256), csrf_value="abc")

    def test_non_string_csrf_claim(self) -> None:
        with pytest.raises(exc.CSRFError):
            decode(tokens.encode(claims(csrf=5), HS256), csrf_value="5")


class TestEncoding:
    def test_headers_may_add_but_not_change_alg(self) -> None:
        token = tokens.encode(claims(), HS256, headers={"kid": "k1", "typ": "at+jwt"})
        assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "at+jwt", "kid": "k1"}
        with pytest.raises(ValueError, match="conflicts"):
            tokens.encode(claims(), HS256, headers={"alg": "HS512"})
        with pytest.raises(TypeError, match="kid"):
            tokens.encode(claims(), HS256, headers={"kid": 3})

    def test_datetime_claims_become_numeric_dates(self) -> None:
        from datetime import datetime

        moment = datetime(2030, 1, 1, tzinfo=UTC)
        token = tokens.encode(claims(exp=moment), HS256)
        assert jwt.decode(token, options={"verify_signature": False})["exp"] == 1893456000

    def test_nan_cannot_be_encoded(self) -> None:
        with pytest.raises(ValueError, match="JSON"):
            tokens.encode(claims(bad=float("nan")), HS256)

    def test_unverified_header(self) -> None:
        token = tokens.encode(claims(), HS256, headers={"kid": "k"})
        assert tokens.unverified_header(token)["kid"] == "k"
