"""Published JWS vectors, checked in both directions.

The data files under ``tests/vectors/`` hold the compact JWS examples of
RFC 7515 Appendix A (A.1 HS256, A.2 RS256, A.3 ES256, A.4 ES512) and
RFC 7520 section 4 (4.1 RS256, 4.2 PS384, 4.3 ES512, 4.4 HS256), with the
JWKs the RFCs give for them. For each vector:

* the file is first checked without flask-jwtx (``hmac`` and ``cryptography``
  directly), so a transcription error cannot hide behind a bug of ours;
* our parser and our JWK-built keys accept it, and every single-character or
  single-byte change to any segment is refused;
* deterministic algorithms (HMAC, RSASSA-PKCS1-v1_5) reproduce the RFC's
  signature byte for byte; randomized ones (ECDSA, RSASSA-PSS) produce a
  signature that PyJWT and the RFC's key, used through ``cryptography``
  alone, both accept.

The vectors' payloads are not tokens in our sense (RFC 7520's is prose, and
RFC 7515's expired in 2011), so the JWS layer is checked with
:func:`flask_jwtx._core.jose.tokens.parse` and the prepared key's ``verify``; the JSON
payloads additionally go through :func:`flask_jwtx._core.jose.tokens.decode` with a policy
that has no application conventions.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from flask_jwtx import exceptions as exc
from flask_jwtx import tokens
from flask_jwtx._core.jose.keys import SUPPORTED_ALGORITHMS, PreparedKey, prepare_key
from flask_jwtx._core.jose.keyset import PRIVATE_MEMBERS, Key, KeySet
from flask_jwtx._core.keysources.resolvers import KeySetKeys

VECTOR_DIR = Path(__file__).parent / "vectors"
MAX_BYTES = 65536
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_CURVES: dict[str, type[ec.EllipticCurve]] = {"P-256": ec.SECP256R1, "P-521": ec.SECP521R1}


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@dataclass(frozen=True)
class Vector:
    name: str
    source: str
    alg: str
    deterministic: bool
    jwk: dict[str, Any]
    protected_header: str
    payload: str
    compact: str

    @property
    def segments(self) -> list[str]:
        return self.compact.split(".")

    @property
    def signing_input(self) -> bytes:
        return self.compact.rsplit(".", 1)[0].encode("ascii")

    @property
    def signature(self) -> bytes:
        return b64decode(self.segments[2])

    @property
    def json_payload(self) -> dict[str, Any] | None:
        """The payload as a JSON object, or ``None`` for RFC 7520's prose and A.4's "Payload"."""
        try:
            value = json.loads(self.payload)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def key(self) -> Key:
        """The RFC's (private) JWK as a flask-jwtx key bound to the vector's algorithm.

        Parsed once per vector: loading an RSA private key is slow.
        """
        key = _KEYS.get(self.name)
        if key is None:
            key = _KEYS[self.name] = Key.from_jwk(self._named_jwk(), algorithm=self.alg)
        return key

    def _named_jwk(self) -> dict[str, Any]:
        # A shared secret has no thumbprint to name it by, so flask-jwtx asks
        # for a kid; RFC 7515 A.1 gives none.
        if self.jwk["kty"] == "oct" and "kid" not in self.jwk:
            return {**self.jwk, "kid": self.name}
        return dict(self.jwk)

    def public_jwk(self) -> dict[str, Any]:
        """What a verifier would be given: the JWK without private members (HMAC: all of it)."""
        if self.jwk["kty"] == "oct":
            return self._named_jwk()
        return {k: v for k, v in self.jwk.items() if k not in PRIVATE_MEMBERS}


_KEYS: dict[str, Key] = {}


def load_vectors() -> list[Vector]:
    vectors = []
    for path in sorted(VECTOR_DIR.glob("rfc*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        vectors.append(
            Vector(
                name=path.stem,
                source=data["source"],
                alg=data["alg"],
                deterministic=data["deterministic"],
                jwk=data["jwk"],
                protected_header=data["protected_header"],
                payload=data["payload"],
                compact=data["compact"],
            )
        )
    return vectors


VECTORS = load_vectors()
EACH_VECTOR = pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])


def test_every_published_vector_we_support_is_here() -> None:
    expected = {
        "rfc7515_A_1": "HS256",
        "rfc7515_A_2": "RS256",
        "rfc7515_A_3": "ES256",
        "rfc7515_A_4": "ES512",
        "rfc7520_4_1": "RS256",
        "rfc7520_4_2": "PS384",
        "rfc7520_4_3": "ES512",
        "rfc7520_4_4": "HS256",
    }
    assert {v.name: v.alg for v in VECTORS} == expected
    assert set(expected.values()) <= SUPPORTED_ALGORITHMS


@EACH_VECTOR
def test_file_segments_encode_the_stated_header_and_payload(vector: Vector) -> None:
    header, payload, _ = vector.segments
    assert b64decode(header) == vector.protected_header.encode("utf-8")
    assert b64decode(payload) == vector.payload.encode("utf-8")
    assert json.loads(vector.protected_header)["alg"] == vector.alg


def _public_number(value: str) -> int:
    return int.from_bytes(b64decode(value), "big")


def verify_without_flask_jwtx(vector: Vector, message: bytes, signature: bytes) -> bool:
    """Check ``signature`` with the RFC's JWK using only ``hmac`` and ``cryptography``."""
    jwk, alg = vector.jwk, vector.alg
    digest = _HASHES[alg[2:]]()
    if alg.startswith("HS"):
        expected = hmac.digest(b64decode(jwk["k"]), message, digest.name)
        return hmac.compare_digest(expected, signature)
    try:
        if alg.startswith("ES"):
            curve = _CURVES[jwk["crv"]]()
            ec_key = ec.EllipticCurvePublicNumbers(
                _public_number(jwk["x"]), _public_number(jwk["y"]), curve
            ).public_key()
            half = len(signature) // 2
            if half != (curve.key_size + 7) // 8 or len(signature) != 2 * half:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
            ec_key.verify(der, message, ec.ECDSA(digest))
            return True
        rsa_key = rsa.RSAPublicNumbers(
            _public_number(jwk["e"]), _public_number(jwk["n"])
        ).public_key()
        scheme: padding.AsymmetricPadding = (
            padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            if alg.startswith("PS")
            else padding.PKCS1v15()
        )
        rsa_key.verify(signature, message, scheme, digest)
        return True
    except InvalidSignature:
        return False


@EACH_VECTOR
def test_the_files_are_right_independently_of_flask_jwtx(vector: Vector) -> None:
    """A transcription error in a data file would fail here, not in our code."""
    assert verify_without_flask_jwtx(vector, vector.signing_input, vector.signature)
    assert not verify_without_flask_jwtx(vector, vector.signing_input + b"x", vector.signature)


# --- (a) we accept each vector with its key -----------------------------------


def jws_accepts(token: str, key: PreparedKey) -> bool:
    """The JWS layer of verification: strict parse, the key's algorithm, the signature."""
    try:
        parsed = tokens.parse(token, MAX_BYTES)
    except exc.JWTExtendedException:
        return False
    return parsed.header.get("alg") == key.algorithm and key.verify(
        parsed.signing_input, parsed.signature
    )


@EACH_VECTOR
def test_parse_gives_the_rfc_header_payload_and_signature(vector: Vector) -> None:
    parsed = tokens.parse(vector.compact, MAX_BYTES)
    assert parsed.header == json.loads(vector.protected_header)
    assert parsed.payload == vector.payload.encode("utf-8")
    assert parsed.signing_input == vector.signing_input
    assert parsed.signature == vector.signature


@EACH_VECTOR
def test_our_keys_from_the_rfc_jwk_verify_the_vector(vector: Vector) -> None:
    key = vector.key()
    assert key.algorithm == vector.alg
    assert jws_accepts(vector.compact, key.verifying)
    # A verifier holding only the public JWK (as from a JWKS) accepts it too.
    public = KeySet.from_jwks({"keys": [vector.public_jwk()]}, algorithm=vector.alg)
    (only,) = list(public)
    assert jws_accepts(vector.compact, only.verifying)
    if key.jwk is not None:  # asymmetric: the JWK we would publish has the RFC's numbers
        rfc_public = {k: v for k, v in vector.public_jwk().items() if k not in ("kid", "use")}
        assert {k: key.jwk.get(k) for k in rfc_public} == rfc_public


@EACH_VECTOR
def test_a_key_set_resolver_selects_the_rfc_key_by_kid(vector: Vector) -> None:
    parsed = tokens.parse(vector.compact, MAX_BYTES)
    resolver = KeySetKeys(KeySet.from_jwks({"keys": [vector.public_jwk()]}, algorithm=vector.alg))
    if "kid" in parsed.header:  # RFC 7520 names its key
        prepared = resolver.lookup(vector.alg, parsed.header, parsed)
        assert prepared.verify(parsed.signing_input, parsed.signature)
        other_alg = "HS256" if vector.alg != "HS256" else "HS512"
        with pytest.raises(exc.InvalidAlgorithmError):  # a key serves only its own algorithm
            resolver.lookup(other_alg, parsed.header, parsed)
    else:  # RFC 7515's examples carry no kid: a key set never guesses
        with pytest.raises(exc.DecodeError, match="no 'kid'"):
            resolver.lookup(vector.alg, parsed.header, parsed)


JSON_VECTORS = [v for v in VECTORS if v.json_payload is not None]


def _decode(vector: Vector, token: str, *, verify_exp: bool = False) -> dict[str, Any]:
    policy = tokens.VerifyPolicy(
        algorithms=frozenset({vector.alg}), conventions=None, max_bytes=MAX_BYTES
    )
    key = vector.key().verifying
    return tokens.decode(token, policy, lambda _a, _h, _t: key, verify_exp=verify_exp)[1]


@pytest.mark.parametrize("vector", JSON_VECTORS, ids=[v.name for v in JSON_VECTORS])
def test_decode_accepts_the_json_vectors(vector: Vector) -> None:
    assert _decode(vector, vector.compact) == vector.json_payload
    # Their exp (1300819380) is in 2011: with expiry checked they are refused.
    with pytest.raises(exc.ExpiredSignatureError):
        _decode(vector, vector.compact, verify_exp=True)


@EACH_VECTOR
def test_decode_refuses_a_vector_whose_alg_is_not_allowed(vector: Vector) -> None:
    policy = tokens.VerifyPolicy(
        algorithms=frozenset(SUPPORTED_ALGORITHMS - {vector.alg}), conventions=None
    )
    key = vector.key().verifying
    with pytest.raises(exc.InvalidAlgorithmError):
        tokens.decode(vector.compact, policy, lambda _a, _h, _t: key, verify_exp=False)


# --- (b) any single change to any segment is refused --------------------------


def _canonical(segment: str) -> bool:
    return tokens.b64url_encode(b64decode(segment)) == segment


def character_tamperings(compact: str) -> Iterator[str]:
    """Every token that differs from ``compact`` in exactly one segment character.

    The replacement keeps the segment canonical base64url where it can, so
    the change reaches the signature check instead of stopping at the parser.
    """
    segments = compact.split(".")
    for index, segment in enumerate(segments):
        for position, char in enumerate(segment):
            start = BASE64URL.index(char)
            candidates = (BASE64URL[(start + step) % 64] for step in range(1, 64))
            changed = ""
            for candidate in candidates:
                changed = segment[:position] + candidate + segment[position + 1 :]
                if _canonical(changed):
                    break
            yield ".".join([*segments[:index], changed, *segments[index + 1 :]])


def byte_tamperings(compact: str) -> Iterator[str]:
    """Every token whose decoded header, payload or signature differs in one bit of one byte."""
    segments = compact.split(".")
    for index, segment in enumerate(segments):
        raw = bytearray(b64decode(segment))
        for position in range(len(raw)):
            raw[position] ^= 0x01
            changed = tokens.b64url_encode(bytes(raw))
            raw[position] ^= 0x01
            yield ".".join([*segments[:index], changed, *segments[index + 1 :]])


@EACH_VECTOR
def test_changing_any_character_is_refused(vector: Vector) -> None:
    key = vector.key().verifying
    count = 0
    for token in character_tamperings(vector.compact):
        assert token != vector.compact
        assert not jws_accepts(token, key), token
        count += 1
    assert count == len(vector.compact) - 2  # every character but the two dots


@EACH_VECTOR
def test_changing_any_decoded_byte_is_refused(vector: Vector) -> None:
    key = vector.key().verifying
    for token in byte_tamperings(vector.compact):
        assert token != vector.compact
        assert not jws_accepts(token, key), token


@EACH_VECTOR
def test_a_signature_of_another_length_is_refused(vector: Vector) -> None:
    key = vector.key().verifying
    signing_input = vector.signing_input.decode()
    for signature in (vector.signature[:-1], vector.signature + b"\x00", b""):
        assert not jws_accepts(f"{signing_input}.{tokens.b64url_encode(signature)}", key)


@pytest.mark.parametrize("vector", JSON_VECTORS, ids=[v.name for v in JSON_VECTORS])
def test_decode_refuses_every_tampered_json_vector(vector: Vector) -> None:
    for token in [*character_tamperings(vector.compact), *byte_tamperings(vector.compact)]:
        with pytest.raises(exc.JWTExtendedException):
            _decode(vector, token)


# --- (c) signing: byte for byte, or verifiable by others ----------------------

DETERMINISTIC = [v for v in VECTORS if v.deterministic]
RANDOMIZED = [v for v in VECTORS if not v.deterministic]


def _signing_material(vector: Vector) -> bytes:
    """The RFC key as an application would configure it: a raw secret or PEM text."""
    if vector.jwk["kty"] == "oct":
        return b64decode(vector.jwk["k"])
    private = vector.key().signing
    assert private is not None
    pem: bytes = private.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem


def test_the_deterministic_and_randomized_split_is_by_algorithm() -> None:
    assert {v.alg for v in DETERMINISTIC} == {"HS256", "RS256"}
    assert {v.alg for v in RANDOMIZED} == {"ES256", "ES512", "PS384"}


@pytest.mark.parametrize("vector", DETERMINISTIC, ids=[v.name for v in DETERMINISTIC])
def test_we_reproduce_deterministic_signatures_byte_for_byte(vector: Vector) -> None:
    from_jwk = vector.key().signing
    assert from_jwk is not None
    assert from_jwk.sign(vector.signing_input) == vector.signature
    from_config = prepare_key(vector.alg, _signing_material(vector))
    signature = from_config.sign(vector.signing_input)
    assert signature == vector.signature
    assert f"{vector.signing_input.decode()}.{tokens.b64url_encode(signature)}" == vector.compact


@pytest.mark.parametrize("vector", RANDOMIZED, ids=[v.name for v in RANDOMIZED])
def test_our_randomized_signatures_verify_with_pyjwt_and_the_rfc_key(vector: Vector) -> None:
    for signer in (vector.key().signing, prepare_key(vector.alg, _signing_material(vector))):
        assert signer is not None
        signature = signer.sign(vector.signing_input)
        token = f"{vector.signing_input.decode()}.{tokens.b64url_encode(signature)}"
        # The RFC's public key, through cryptography alone.
        assert verify_without_flask_jwtx(vector, vector.signing_input, signature)
        # PyJWT, given only the RFC's public JWK.
        public = jwt.PyJWK(vector.public_jwk(), algorithm=vector.alg)
        payload = jwt.PyJWS().decode(token, key=public.key, algorithms=[vector.alg])
        assert payload == vector.payload.encode("utf-8")
        # And ourselves, from the public JWK.
        verifying = Key.from_jwk(vector.public_jwk(), algorithm=vector.alg).verifying
        assert jws_accepts(token, verifying)


@EACH_VECTOR
def test_pyjwt_accepts_the_rfc_vectors_too(vector: Vector) -> None:
    """The reference we fuzz against (tests/test_fuzz_pyjwt.py) agrees on the vectors."""
    public = jwt.PyJWK(vector.public_jwk(), algorithm=vector.alg)
    payload = jwt.PyJWS().decode(vector.compact, key=public.key, algorithms=[vector.alg])
    assert payload == vector.payload.encode("utf-8")
