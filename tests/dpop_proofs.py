"""DPoP proofs (RFC 9449) made the way a client makes them: PyJWT and cryptography.

Shared by the DPoP tests and the real authorization server's tests, which
also need proofs for its token endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from flask_jwtx._core.jose.keyset import thumbprint

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key, as a client generates one per session."""
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: PrivateKey) -> dict[str, Any]:
    """The public JWK of ``key`` (no private members)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        text = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())
    elif isinstance(key, rsa.RSAPrivateKey):
        text = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())
    else:
        text = jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key())
    jwk: dict[str, Any] = json.loads(text)
    return jwk


def jkt(key: PrivateKey) -> str:
    """The RFC 7638 thumbprint a token bound to ``key`` carries in ``cnf.jkt``."""
    return thumbprint(public_jwk(key))


def ath(token: str) -> str:
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def proof(
    key: PrivateKey,
    *,
    method: str = "GET",
    url: str = "http://localhost/resource",
    token: str | None = None,
    iat: float | None = None,
    nonce: str | None = None,
    alg: str = "ES256",
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
) -> str:
    """A proof signed with ``key``; ``header``/``claims`` override or add members."""
    body: dict[str, Any] = {
        "jti": str(uuid.uuid4()),
        "htm": method,
        "htu": url,
        "iat": int(time.time()) if iat is None else iat,
    }
    if token is not None:
        body["ath"] = ath(token)
    if nonce is not None:
        body["nonce"] = nonce
    body.update(claims or {})
    headers: dict[str, Any] = {"typ": "dpop+jwt", "jwk": public_jwk(key)}
    headers.update(header or {})
    return jwt.encode(body, key, algorithm=alg, headers=headers)
