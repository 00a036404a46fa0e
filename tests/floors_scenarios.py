"""What an installation without ``cryptography`` does, observed from inside one.

    python tests/floors_scenarios.py

``cryptography`` is hidden before anything is imported (``sys.modules`` holds
``None`` for it, so every ``import cryptography...`` fails as it does where
the package is not installed, and PyJWT leaves out its key-pair algorithms).
In the minimum-versions run without it (``.venv-min-hmac``) there is nothing
to hide. Prints a JSON object: scenario name -> observed outcome;
``tests/test_floors.py`` runs this script and reads it.
"""

from __future__ import annotations

import sys

# Before any other import, which is the point; not when test_floors imports the list.
if __name__ == "__main__":
    sys.modules["cryptography"] = None  # type: ignore[assignment]

import json
from collections.abc import Callable
from typing import Any

from click.testing import CliRunner
from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx import testing
from flask_jwtx._core.jose.keys import HAS_CRYPTOGRAPHY
from flask_jwtx.cli import jwt_cli
from flask_jwtx.exceptions import ConfigurationError

SECRET = "floors-secret-long-enough-for-hs512-0123456789abcdef0123456789abcdef"
RSA_JWK = {"kty": "RSA", "alg": "RS256", "kid": "k1", "n": "sXch", "e": "AQAB"}
PEM = (
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
)

#: Configurations that need key pairs: each must fail at init_app.
NEEDS_KEY_PAIRS: dict[str, dict[str, Any]] = {
    "RS256": {"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": PEM, "JWT_PUBLIC_KEY": PEM},
    "ES256 without keys yet": {"JWT_ALGORITHM": "ES256"},
    "EdDSA": {"JWT_ALGORITHM": "EdDSA", "JWT_PUBLIC_KEY": PEM},
    "RS256 among decode algorithms": {"JWT_DECODE_ALGORITHMS": ["HS256", "RS256"]},
    "a JWKS URL": {
        "JWT_JWKS_URL": "https://issuer.example/jwks.json",
        "JWT_DECODE_ALGORITHMS": ["RS256"],
        "JWT_DECODE_AUDIENCE": "api",
    },
    "a JWKS URL, algorithms left out": {"JWT_JWKS_URL": "https://issuer.example/jwks.json"},
    "trusted issuers": {
        "JWT_TRUSTED_ISSUERS": [
            {"issuer": "https://idp.example", "jwks_url": "https://idp.example/jwks"}
        ],
        "JWT_DECODE_AUDIENCE": "api",
    },
    "an RSA JWK in JWT_KEYS": {"JWT_KEYS": {"keys": [RSA_JWK]}},
}


def hmac_app(**config: Any) -> Flask:
    app = Flask("floors")
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET, **config)
    flask_jwtx.JWTManager(app)

    @app.get("/me")
    @flask_jwtx.jwt_required()
    def me() -> Any:
        return jsonify(identity=flask_jwtx.get_jwt_identity())

    @app.post("/refresh")
    @flask_jwtx.jwt_required(refresh=True)
    def refresh() -> Any:
        return jsonify(access=flask_jwtx.create_access_token(flask_jwtx.get_jwt_identity()))

    return app


def hmac_round_trip() -> list[Any]:
    """Login, a protected request, a refresh, the testing helpers: all on HS256."""
    app = hmac_app(JWT_ALGORITHM="HS512", JWT_IDENTITY_AS_STRING=True)
    client = app.test_client()
    with app.app_context():
        access = flask_jwtx.create_access_token(["tenant", 7])
        refresh = flask_jwtx.create_refresh_token(["tenant", 7])
    first = client.get("/me", headers={"Authorization": f"Bearer {access}"})
    renewed = client.post("/refresh", headers={"Authorization": f"Bearer {refresh}"})
    again = client.get("/me", headers={"Authorization": f"Bearer {renewed.get_json()['access']}"})
    forged = client.get(
        "/me", headers=testing.auth_headers(app, token=testing.wrongly_signed_token(app, "x"))
    )
    return [first.get_json(), again.get_json(), forged.status_code]


def init_app_error(config: dict[str, Any]) -> str:
    try:
        hmac_app(**config)
    except ConfigurationError as exc:
        return f"ConfigurationError: {exc}"
    return "started"


def keygen(*args: str) -> list[Any]:
    result = CliRunner().invoke(jwt_cli, ["keygen", *args])
    return [result.exit_code, result.output.strip()]


def main() -> None:
    scenarios: dict[str, Callable[[], Any]] = {
        "cryptography importable": lambda: HAS_CRYPTOGRAPHY,
        "HS256 round trip": hmac_round_trip,
        "keygen HS256": lambda: keygen("--format", "jwk")[0],
        "keygen RS256": lambda: keygen("--alg", "RS256"),
    }
    results = {name: run() for name, run in scenarios.items()}
    for name, config in NEEDS_KEY_PAIRS.items():
        results[f"init_app with {name}"] = init_app_error(config)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
