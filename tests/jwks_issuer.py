"""A token issuer for the remote-JWKS tests: its keys, its JWKS server, its tokens.

The issuer is a real HTTP server (werkzeug, threaded, on loopback; the
``jwks_server`` fixture in ``conftest.py`` serves one) whose behaviour a
test sets: up, down, slow, huge, malformed, redirecting. The resource app
under test fetches from it over TCP. Needs ``cryptography`` (the keys are
RSA and EC).
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from flask import Flask, Response, jsonify

import flask_jwtx
from flask_jwtx._core.jose.keyset import Key, KeySet

from .helpers import bearer, read_key

ISSUER = "https://issuer.test"
#: The issuer's signing keys: two RSA keys (before and after a rotation) and an EC one.
OLD = Key.from_pem(algorithm="RS256", private_key=read_key("rsa_private.pem"), kid="old")
NEW = Key.from_pem(algorithm="RS256", private_key=read_key("rsa2_private.pem"), kid="new")
EC = Key.from_pem(algorithm="ES256", private_key=read_key("ec256_private.pem"), kid="ec")


class JWKSServer:
    """A JWKS endpoint whose behaviour a test sets: ok, down, slow, huge, malformed, redirect."""

    def __init__(self) -> None:
        self.keys = KeySet([OLD])
        self.mode = "ok"
        self.delay = 0.0
        self.hits = 0
        self.hit_log: list[tuple[float, list[str]]] = []
        self.app = Flask("jwks-server")
        self.app.add_url_rule("/jwks", "jwks", self.jwks)

    def jwks(self) -> Any:
        self.hits += 1
        self.hit_log.append((time.monotonic(), [k.kid for k in self.keys]))
        if self.mode == "down":
            return "unavailable", 503
        if self.mode == "slow":
            time.sleep(self.delay)  # a slow issuer: the fetch under test waits on real time
        if self.mode == "huge":
            return Response("{" + " " * 2_000_000 + "}", mimetype="application/json")
        if self.mode == "malformed":
            return Response('{"keys": [', mimetype="application/json")
        if self.mode == "redirect":
            return Response(status=302, headers={"Location": "http://127.0.0.1:9/jwks"})
        return jsonify(self.keys.public_jwks())


def resource_app(jwks_url: str, **config: Any) -> Flask:
    """A resource server that verifies the issuer's tokens through ``jwks_url``: ``GET /data``."""
    app = Flask("resource")
    app.config.update(
        TESTING=True,
        JWT_JWKS_URL=jwks_url,
        JWT_DECODE_ALGORITHMS=["RS256", "ES256"],
        JWT_DECODE_ISSUER=ISSUER,
        JWT_DECODE_AUDIENCE="api",
        JWT_JWKS_TIMEOUT=1,
        JWT_JWKS_MIN_REFRESH_INTERVAL=0.2,
    )
    app.config.update(config)
    flask_jwtx.JWTManager(app)

    @app.get("/data")
    @flask_jwtx.jwt_required()
    def data() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity())

    return app


def token(key: Key, **claims: Any) -> str:
    """A token for alice from the issuer, for audience ``api``, signed with ``key``."""
    assert key.signing is not None
    body = {"sub": "alice", "iss": ISSUER, "aud": "api", "exp": int(time.time()) + 300, **claims}
    return jwt.encode(body, key.signing.key, algorithm=key.algorithm, headers={"kid": key.kid})


def get(app: Flask, encoded: str, path: str = "/data") -> tuple[int, Any]:
    """Status and JSON body of ``GET path`` with ``encoded`` as the bearer token."""
    response = app.test_client().get(path, headers=bearer(encoded))
    return response.status_code, response.get_json()
