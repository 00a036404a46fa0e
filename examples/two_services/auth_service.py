"""The auth service: checks passwords, signs RS256/ES256 tokens, publishes its JWKS.

It never shares a secret with anyone: other services verify its tokens with
the public keys at ``/.well-known/jwks.json``. ``POST /admin/rotate`` rotates
to a fresh key while the old one keeps verifying (a key-set loader: no restart).
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from flask import Flask, jsonify, request

import flask_jwtx
from flask_jwtx import Key, KeySet

ISSUER = "https://auth.example"
AUDIENCE = "reports-api"
USERS = {
    "alice": ("wonderland", ["reports:read"]),
    "bob": ("builder", ["reports:read", "reports:write"]),
}


def _new_key(number: int) -> Key:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    return Key.from_pem(algorithm="ES256", private_key=pem, kid=f"auth-key-{number}")


def create_app() -> Flask:
    keys = [_new_key(1)]

    def current_keys() -> KeySet:
        # The newest key signs; the previous one stays published so tokens it
        # signed keep verifying until they expire.
        retired = [Key(k.kid, k.algorithm, k.verifying, None, k.jwk) for k in keys[-2:-1]]
        return KeySet([keys[-1], *retired])

    manager = flask_jwtx.JWTManager()
    manager.key_set_loader(current_keys)
    app = Flask("auth_service")
    app.config.update(
        JWT_JWKS_PATH="/.well-known/jwks.json",
        JWT_JWKS_MAX_AGE=60,
        JWT_ENCODE_ISSUER=ISSUER,
        JWT_ENCODE_AUDIENCE=AUDIENCE,
        JWT_KEY_SET_REFRESH=1,
    )
    manager.init_app(app)

    @app.post("/login")
    def login() -> Any:
        body = request.get_json(silent=True) or {}
        user = USERS.get(str(body.get("username")))
        if user is None or user[0] != body.get("password"):
            return jsonify(msg="Bad username or password"), 401
        token = flask_jwtx.create_access_token(
            body["username"], additional_claims={"scope": " ".join(user[1])}
        )
        return jsonify(access_token=token)

    @app.post("/admin/rotate")
    def rotate() -> Any:
        keys.append(_new_key(len(keys) + 1))
        manager.refresh_keys()
        return jsonify(signing_kid=keys[-1].kid)

    return app
