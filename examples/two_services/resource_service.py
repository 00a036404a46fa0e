"""The resource service: trusts the auth service only through its published JWKS.

It holds no key and no secret. Tokens are verified with keys fetched from
``JWT_JWKS_URL`` (cached, refetched on an unknown ``kid``), and the issuer,
audience and scopes are checked.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx import current_token, jwt_required

from .auth_service import AUDIENCE, ISSUER


def create_app(jwks_url: str) -> Flask:
    app = Flask("resource_service")
    app.config.update(
        JWT_JWKS_URL=jwks_url,
        JWT_DECODE_ALGORITHMS=["ES256"],
        JWT_DECODE_ISSUER=ISSUER,
        JWT_DECODE_AUDIENCE=AUDIENCE,
        # An unknown kid is refetched at most this often (30 s by default); short
        # here so the walkthrough shows a rotation within a second.
        JWT_JWKS_MIN_REFRESH_INTERVAL=0.2,
    )
    flask_jwtx.JWTManager(app)

    @app.get("/reports")
    @jwt_required(scope="reports:read")
    def reports() -> Any:
        return jsonify(
            reports=["q3.pdf"], reader=current_token.sub, kid=current_token.header["kid"]
        )

    @app.delete("/reports/<name>")
    @jwt_required(scope="reports:write")
    def delete_report(name: str) -> Any:
        return jsonify(deleted=name, by=current_token.sub)

    return app
