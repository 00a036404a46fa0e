"""The orders API: an OAuth 2.0 protected resource that trusts one authorization server.

Everything it knows about the authorization server is its issuer URL: the
keys are found by discovery. Access tokens must be RFC 9068 JWTs for this
resource; DPoP-bound tokens are accepted with their proofs (and refused
without them).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from flask_jwtx import JWTManager, get_jwt, jwt_required


def create_app(issuer: str, resource: str) -> Flask:
    app = Flask(__name__)
    app.config.update(
        JWT_RESOURCE=resource,
        JWT_TRUSTED_ISSUERS=[issuer],
        JWT_DPOP="allowed",
        # The DPoP replay cache; with several instances, a shared Redis or SQL store.
        JWT_REVOCATION_STORE="memory://",
    )
    JWTManager(app)
    orders: list[dict[str, Any]] = [{"id": 1, "item": "tea"}]

    @app.get("/orders")
    @jwt_required(scope="orders:read")
    def list_orders() -> Any:
        return jsonify(orders=orders, client=get_jwt()["client_id"])

    @app.post("/orders")
    @jwt_required(scope="orders:write")
    def create_order() -> Any:
        orders.append({"id": len(orders) + 1, "item": "coffee"})
        return jsonify(created=orders[-1]), 201

    return app
