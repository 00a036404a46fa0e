"""What a remote JWKS may contain, and what of it is used.

A JWKS is written by someone else: one bad entry in it must cost that entry
only, a key unfit for its algorithm must never verify a token, and no
document, however strange, may turn a request into a 500. The issuer is a
real HTTP server on loopback serving whatever document a test sets.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask, Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.utils import to_base64url_uint

from flask_jwtx._core.jose.keyset import Key, KeySet
from flask_jwtx._core.jose.tokens import b64url_encode
from flask_jwtx._core.keysources.jwks import parse_remote_jwks
from flask_jwtx.exceptions import KeySourceUnavailableError
from flask_jwtx.testing import serve

from .helpers import SECRET
from .jwks_issuer import EC, ISSUER, NEW, OLD, get, resource_app, token

ALGORITHMS = ["RS256", "PS256", "ES256", "ES384"]
WEAK_RSA = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
P384 = ec.generate_private_key(ec.SECP384R1())
P256 = ec.generate_private_key(ec.SECP256R1())


def public(key: Key, **members: Any) -> dict[str, Any]:
    """The published JWK of ``key``, with members replaced or added."""
    return {**KeySet([key]).public_jwks()["keys"][0], **members}


def jwk_of(private_key: Any, algorithm: str, kid: str) -> dict[str, Any]:
    """A public JWK for a key the library itself would refuse to build."""
    impl = jwt.algorithms.get_default_algorithms()[algorithm]
    jwk: dict[str, Any] = impl.to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "alg": algorithm, "kid": kid, "use": "sig"}


def signed(private_key: Any, algorithm: str, kid: str) -> str:
    """A token signed by PyJWT's algorithm objects, without jwt.encode's key checks.

    jwt.encode refuses a P-384 key for ES256 (and warns on 1024-bit RSA): an
    attacker's signer would not, and what is tested is the verifying side.
    """
    impl: Any = jwt.algorithms.get_default_algorithms()[algorithm]
    if algorithm.startswith("ES"):  # the same hash, without the curve check
        impl = jwt.algorithms.ECAlgorithm(impl.hash_alg)
    header = b64url_encode(json.dumps({"alg": algorithm, "kid": kid}).encode())
    claims = {"sub": "mallory", "iss": ISSUER, "aud": "api", "exp": int(time.time()) + 300}
    signing_input = f"{header}.{b64url_encode(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url_encode(impl.sign(signing_input.encode(), private_key))}"


class DocumentServer:
    """A JWKS endpoint that serves ``document`` as JSON, whatever it is."""

    def __init__(self) -> None:
        self.document: Any = {"keys": []}
        self.app = Flask("jwks-documents")
        self.app.add_url_rule("/jwks", "jwks", self.jwks)

    def jwks(self) -> Response:
        body = self.document if isinstance(self.document, str) else json.dumps(self.document)
        return Response(body, mimetype="application/json")


@pytest.fixture
def issuer() -> Iterator[tuple[DocumentServer, Flask]]:
    server = DocumentServer()
    with serve(server.app) as base:
        yield server, resource_app(f"{base}/jwks", JWT_DECODE_ALGORITHMS=ALGORITHMS)


class TestOneBadEntryCostsOnlyItself:
    def test_a_duplicated_kid_is_skipped_and_the_other_keys_keep_working(
        self, issuer: tuple[DocumentServer, Flask], caplog: pytest.LogCaptureFixture
    ) -> None:
        server, app = issuer
        server.document = {
            "keys": [public(NEW, kid="twice"), public(OLD), public(EC, kid="twice")]
        }
        with caplog.at_level(logging.WARNING):
            assert get(app, token(OLD)) == (200, {"sub": "alice"})
        # Neither claimant of the kid is trusted: nothing tells the genuine one.
        assert get(app, token(dataclasses.replace(NEW, kid="twice")))[0] == 422
        assert get(app, token(dataclasses.replace(EC, kid="twice")))[0] == 422
        assert "'twice'" in caplog.text

    def test_only_duplicates_is_unavailable_not_an_error(
        self, issuer: tuple[DocumentServer, Flask]
    ) -> None:
        server, app = issuer
        server.document = {"keys": [public(OLD), public(OLD)]}
        assert get(app, token(OLD)) == (503, {"msg": "Token keys are unavailable"})

    def test_unusable_entries_name_their_kid_in_the_log(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        document = {
            "keys": [
                public(OLD),
                {"kty": "RSA", "kid": "junk", "alg": "RS256", "n": "??", "e": "AQAB"},
                {"kty": "EC", "kid": "nocurve", "alg": "ES256", "x": "AA", "y": "AA"},
                "not an object",
            ]
        }
        with caplog.at_level(logging.WARNING):
            keys = parse_remote_jwks(json.dumps(document).encode())
        assert [key.kid for key in keys] == ["old"]
        for name in ("'junk'", "'nocurve'", "#3"):
            assert name in caplog.text


class TestKeysUnfitForTheirAlgorithm:
    """PyJWT would verify with each of these; a JWKS is not allowed to offer them."""

    @pytest.mark.parametrize(
        ("private_key", "algorithm", "kid"),
        [
            (WEAK_RSA, "RS256", "rsa-1024"),
            (WEAK_RSA, "PS256", "rsa-1024-pss"),
            (P384, "ES256", "p384-as-es256"),
            (P256, "ES384", "p256-as-es384"),
        ],
    )
    def test_the_key_is_skipped_and_its_tokens_refused(
        self,
        issuer: tuple[DocumentServer, Flask],
        caplog: pytest.LogCaptureFixture,
        private_key: Any,
        algorithm: str,
        kid: str,
    ) -> None:
        server, app = issuer
        server.document = {"keys": [jwk_of(private_key, algorithm, kid), public(OLD)]}
        with caplog.at_level(logging.WARNING):
            assert get(app, signed(private_key, algorithm, kid))[0] == 422
        assert repr(kid) in caplog.text
        assert get(app, token(OLD))[0] == 200, "the good key of the same set still works"

    def test_a_tiny_rsa_modulus_is_a_422_not_a_500(
        self, issuer: tuple[DocumentServer, Flask]
    ) -> None:
        """cryptography raises ValueError (not InvalidSignature) for PSS with such a key."""
        server, app = issuer
        modulus = (1 << 255) | 1
        server.document = {
            "keys": [
                {
                    "kty": "RSA",
                    "kid": "tiny",
                    "alg": "PS256",
                    "e": "AQAB",
                    "n": to_base64url_uint(modulus).decode(),
                },
                public(OLD),
            ]
        }
        header = b64url_encode(b'{"alg":"PS256","kid":"tiny"}')
        forged = f"{header}.e30.AAAA"
        assert get(app, forged)[0] == 422

    @pytest.mark.parametrize(
        ("entry", "why"),
        [
            (public(OLD, kid="rsa-as-ec", alg="ES256"), "RSA key labelled ES256"),
            (
                {"kty": "oct", "kid": "secret", "alg": "HS256", "k": "c2VjcmV0" * 8},
                "shared secret",
            ),
            ({"kty": "oct", "kid": "secret-no-alg", "k": "c2VjcmV0" * 8}, "shared secret"),
            (public(OLD, kid="alg-none", alg="none"), "alg none"),
            (public(OLD, kid="alg-unknown", alg="RS999"), "unsupported alg"),
            (public(EC, kid="ec-as-hmac", alg="HS256"), "HMAC alg on an EC key"),
        ],
    )
    def test_mislabelled_or_secret_entries_are_skipped(
        self, caplog: pytest.LogCaptureFixture, entry: dict[str, Any], why: str
    ) -> None:
        document = json.dumps({"keys": [entry, public(OLD)]}).encode()
        with caplog.at_level(logging.WARNING):
            keys = parse_remote_jwks(document)
        assert [key.kid for key in keys] == ["old"], why
        assert repr(entry["kid"]) in caplog.text, why

    def test_private_members_of_a_published_key_are_ignored(self) -> None:
        private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(OLD.signing.key))  # type: ignore[union-attr]
        keys = parse_remote_jwks(
            json.dumps({"keys": [{**private, "kid": "leaked", "alg": "RS256"}]}).encode()
        )
        key = keys.get("leaked")
        assert key is not None
        assert not key.can_sign, "a fetched key verifies; it never signs"

    def test_a_hmac_token_cannot_use_a_secret_from_the_jwks(
        self, issuer: tuple[DocumentServer, Flask]
    ) -> None:
        server, app = issuer
        secret = SECRET.encode()
        server.document = {
            "keys": [
                {
                    "kty": "oct",
                    "kid": "shared",
                    "alg": "HS256",
                    "k": base64.urlsafe_b64encode(secret).rstrip(b"=").decode(),
                },
                public(OLD),
            ]
        }
        claims = {"sub": "m", "iss": ISSUER, "aud": "api"}
        forged = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": "shared"})
        assert get(app, forged)[0] == 422
        assert get(app, token(OLD))[0] == 200


class TestNoDocumentIsA500:
    @pytest.mark.parametrize(
        "document",
        [
            "[]",
            "null",
            '"keys"',
            '{"keys": {}}',
            '{"keys": [1, "x", null, [], {}]}',
            '{"keys": [{"kty": ["RSA"], "kid": {}, "alg": ["RS256"], "n": 1e999, "e": -1}]}',
            '{"keys": [{"kty": "EC", "crv": 256, "x": 1, "y": true, "alg": "ES256"}]}',
            '{"keys": [{"kty": "RSA", "alg": "RS256", "n": "' + "9" * 5000 + '", "e": "AQAB"}]}',
            '{"keys": [' + "[" * 100_000 + "]" * 100_000 + "]}",
            '{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "%%%", "alg": "EdDSA"}]}',
            '{"keys": [{"kty": "RSA", "kid": "x", "alg": "RS256", "n": "AQAB", "e": "AQAB"}]}',
            "\ufeff{}",
            "{" + '"a": 1,' * 10 + "}",
        ],
    )
    def test_a_bad_document_is_a_503(
        self, issuer: tuple[DocumentServer, Flask], document: str
    ) -> None:
        server, app = issuer
        server.document = document
        assert get(app, token(OLD)) == (503, {"msg": "Token keys are unavailable"})


# --- Property: the remote-JWKS parser has exactly two outcomes -----------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64, max_value=2**2048)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)
_base64url = st.binary(max_size=300).map(
    lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
)
_real = [public(OLD), public(NEW), public(EC), jwk_of(WEAK_RSA, "RS256", "w")]


def _member(*plausible: Any) -> st.SearchStrategy[Any]:
    choices = st.sampled_from(plausible) if plausible else st.nothing()
    return choices | _base64url | _json


_entries = st.fixed_dictionaries(
    {},
    optional={
        "kty": _member("RSA", "EC", "OKP", "oct"),
        "alg": _member("RS256", "PS512", "ES256", "ES384", "EdDSA", "HS256", "none"),
        "crv": _member("P-256", "P-384", "P-521", "Ed25519", "secp256k1", "X25519"),
        "kid": _member("a", "b", ""),
        "use": _member("sig", "enc"),
        "n": _member(_real[0]["n"], "AQAB", "gAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"),
        "e": _member("AQAB", "Aw", "AQ"),
        "x": _member(_real[2]["x"]),
        "y": _member(_real[2]["y"]),
        "d": _member(),
        "k": _member(),
    },
)
# Real keys with one member replaced, so that parsing gets deep into PyJWT.
_mutated = st.builds(
    lambda jwk, name, value: {**jwk, name: value},
    st.sampled_from(_real),
    st.sampled_from(["kty", "alg", "crv", "kid", "use", "n", "e", "x", "y"]),
    _member("RS256", "ES256", "P-384", "RSA", "EC"),
)
# Well-formed key members with arbitrary numbers: sizes, curves and labels
# that PyJWT parses but that may not be fit to verify with.
_bits = st.sampled_from([64, 256, 512, 1024, 2047, 2048, 4096, 16384, 16385]) | st.integers(
    min_value=1, max_value=17000
)
_uint = _bits.flatmap(lambda bits: st.integers(min_value=2 ** (bits - 1), max_value=2**bits - 1))
_odd = _uint.map(lambda n: to_base64url_uint(n | 1).decode())  # as RSA moduli are
_any_uint = (st.just(0) | _uint).map(lambda n: to_base64url_uint(n).decode())
_rsa = st.fixed_dictionaries(
    {
        "kty": st.just("RSA"),
        "alg": st.sampled_from(["RS256", "RS512", "PS256", "PS512"]),
        "n": _odd | _any_uint,
        "e": st.sampled_from(["AQAB", "Aw"]) | _any_uint,
    },
    optional={"kid": st.sampled_from(["a", "b"])},
)
_ec = st.fixed_dictionaries(
    {
        "kty": st.just("EC"),
        "alg": st.sampled_from(["ES256", "ES384", "ES512", "ES256K"]),
        "crv": st.sampled_from(["P-256", "P-384", "P-521", "secp256k1"]),
        "x": _any_uint,
        "y": _any_uint,
    },
    optional={"kid": st.sampled_from(["a", "b"])},
)
_documents = (
    st.fixed_dictionaries(
        {
            "keys": st.lists(
                _entries | _mutated | _rsa | _ec | st.sampled_from(_real) | _json, max_size=5
            )
        }
    )
    | _json
)


@pytest.mark.slow
@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    document=_documents,
    algorithm=st.sampled_from([None, "RS256", "PS512", "ES256", "EdDSA"]),
    raw=st.booleans(),
    signature=st.binary(max_size=600),
)
def test_any_json_document_yields_keys_or_unavailable(
    document: Any, algorithm: str | None, raw: bool, signature: bytes
) -> None:
    """The contract the request path relies on: a KeySet, or KeySourceUnavailableError.

    And every key in the set can be asked to verify any signature without
    raising: a key that parses but blows up in verification is a 500 later.
    """
    try:
        body = json.dumps(document).encode()
    except ValueError:  # floats JSON cannot hold
        return
    try:
        keys = parse_remote_jwks(body if raw else body.decode(), algorithm=algorithm)
    except KeySourceUnavailableError:
        return
    assert isinstance(keys, KeySet)
    assert len(keys) > 0
    for key in keys:
        assert not key.can_sign
        assert key.jwk is not None
        assert key.verifying.verify(b"header.payload", signature) in (True, False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=_rsa | _ec, signature=st.binary(max_size=600))
def test_any_key_material_is_skipped_or_safe_to_verify_with(
    entry: dict[str, Any], signature: bytes
) -> None:
    """Well-formed members, arbitrary numbers: what PyJWT parses must also verify.

    The narrow twin of the property above, so that every example reaches
    key construction rather than an earlier refusal.
    """
    try:
        keys = parse_remote_jwks(json.dumps({"keys": [entry]}))
    except KeySourceUnavailableError:
        return
    for key in keys:
        assert key.verifying.verify(b"header.payload", signature) in (True, False)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_yield_keys_or_unavailable(body: bytes) -> None:
    """Never another exception, and never an empty set: no usable key is unavailable."""
    try:
        keys = parse_remote_jwks(body)
    except KeySourceUnavailableError:
        return
    assert list(keys), "a document without a usable key is unavailable, not an empty set"


def test_the_property_sees_real_keys() -> None:
    """The strategies reach the happy path too, or the property proves little."""
    assert [k.kid for k in parse_remote_jwks(json.dumps({"keys": _real}).encode())] == [
        "old",
        "new",
        "ec",
    ]
