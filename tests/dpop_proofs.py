"""DPoP proofs (RFC 9449) made the way a client makes them: PyJWT and cryptography.

Shared by the DPoP tests and the real authorization server's tests, which
also need proofs for its token endpoint; below them, the requests a DPoP
client sends with them (a bound token, a login, a nonce round trip).
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
from flask import Flask
from flask.testing import FlaskClient

import flask_jwtx
from flask_jwtx._core.jose.keyset import thumbprint

from .helpers import USERS

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


# -- What a client sends ------------------------------------------------------------------


def bound_token(app: Flask, key: PrivateKey | None, **claims: Any) -> str:
    """An access token for ``alice`` minted by ``app``, bound to ``key`` (``cnf.jkt``) if given."""
    extra: dict[str, Any] = dict(claims)
    if key is not None:
        extra["cnf"] = {"jkt": jkt(key)}
    with app.app_context():
        return flask_jwtx.create_access_token("alice", additional_claims=extra)


def dpop_get(app: Flask, token: str, proof_value: str | None, path: str = "/resource") -> Any:
    """``GET path`` with ``token`` under the DPoP scheme and ``proof_value`` (if any) beside it."""
    headers = {"Authorization": f"DPoP {token}"}
    if proof_value is not None:
        headers["DPoP"] = proof_value
    return app.test_client().get(path, headers=headers)


def proven(token: str, path: str, key: PrivateKey, method: str) -> dict[str, str]:
    """``token`` under the DPoP scheme, with a proof of ``key`` for ``method`` on ``path``."""
    url = f"http://localhost{path}"
    return {
        "Authorization": f"DPoP {token}",
        "DPoP": proof(key, method=method, url=url, token=token),
    }


def bound_login(
    client: FlaskClient, key: PrivateKey, path: str = "/auth/login", user: str = "alice"
) -> dict[str, Any]:
    """A header-mode blueprint login with a proof of ``key``: the pair, bound to it."""
    response = client.post(
        path,
        json={"username": user, "password": USERS[user]},
        headers={"DPoP": proof(key, method="POST", url=f"http://localhost{path}")},
    )
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def proof_with_nonce(
    client: FlaskClient,
    method: str,
    path: str,
    key: PrivateKey,
    token: str | None = None,
    **kwargs: Any,
) -> Any:
    """``path`` with a DPoP proof of ``key``, after the round trip that fetches a server nonce."""
    url = f"http://localhost{path}"
    auth = {"Authorization": f"DPoP {token}"} if token else {}
    first = client.open(
        path,
        method=method,
        headers={**auth, "DPoP": proof(key, method=method, url=url, token=token)},
        **kwargs,
    )
    assert (first.status_code, first.get_json()) == (
        401,
        {"msg": "DPoP proof needs a fresh server nonce"},
    ), "the app requires server nonces"
    nonce = first.headers["DPoP-Nonce"]
    signed = proof(key, method=method, url=url, token=token, nonce=nonce)
    return client.open(path, method=method, headers={**auth, "DPoP": signed}, **kwargs)
