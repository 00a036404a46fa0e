"""A loopback introspection endpoint (RFC 7662) whose answers a test sets, and an app using it.

Shared by ``test_introspection`` and the attack tests; the real
authorization server's introspection is in ``test_oidc_provider``.
"""

from __future__ import annotations

import base64
import threading
import time
from typing import Any

from flask import Flask, jsonify, request

import flask_jwtx

from .helpers import SECRET, bearer

RESOURCE = "https://api.test/"
ISSUER = "https://as.test"
CLIENT = ("resource-server", "a secret/with:odd characters")


class IntrospectionServer:
    """An introspection endpoint: checks the caller's credentials, answers what a test set."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.raw: str | None = None
        self.down = False
        self.calls = 0
        #: When set, each call waits for it (``entered`` says a call is waiting).
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self._lock = threading.Lock()
        self.app = Flask("introspection")
        self.app.add_url_rule("/introspect", "introspect", self.introspect, methods=["POST"])

    def introspect(self) -> Any:
        with self._lock:
            self.calls += 1
        if self.gate is not None:
            self.entered.set()
            self.gate.wait(10)
        user = "resource-server"
        password = "a%20secret%2Fwith%3Aodd%20characters"
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return jsonify(error="invalid_client"), 401
        if self.down:
            return "unavailable", 503
        if self.raw is not None:
            return self.raw, 200, {"Content-Type": "application/json"}
        assert request.form["token_type_hint"] == "access_token"
        return jsonify(self.answers.get(request.form["token"], {"active": False}))

    def active(self, token: str, **claims: Any) -> None:
        now = int(time.time())
        self.answers[token] = {
            "active": True,
            "iss": ISSUER,
            "aud": RESOURCE,
            "client_id": "client-1",
            "scope": "orders:read",
            "iat": now,
            "exp": now + 300,
            **claims,
        }


def build(endpoint: str, **config: Any) -> Flask:
    app = Flask("api")
    app.config.update(
        TESTING=True,
        JWT_SECRET_KEY=SECRET,
        JWT_RESOURCE=RESOURCE,
        JWT_INTROSPECTION={
            "endpoint": endpoint,
            "client_id": CLIENT[0],
            "client_secret": CLIENT[1],
            "issuer": ISSUER,
        },
        JWT_JWKS_TIMEOUT=2,
    )
    app.config.update(config)
    flask_jwtx.JWTManager(app)

    @app.get("/orders")
    @flask_jwtx.jwt_required(scope="orders:read")
    def orders() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity(), client=flask_jwtx.get_jwt()["client_id"])

    return app


def call(app: Flask, token: str) -> Any:
    return app.test_client().get("/orders", headers=bearer(token))


def spec(endpoint: str, **extra: Any) -> dict[str, Any]:
    """A ``JWT_INTROSPECTION`` value for the test server (no issuer unless given)."""
    return {"endpoint": endpoint, "client_id": CLIENT[0], "client_secret": CLIENT[1], **extra}


def waiting(app: Flask) -> int:
    """How many requests of ``app`` wait for an answer another request is fetching."""
    introspection = app.extensions["flask-jwtx"].settings.get().introspection
    count: int = introspection.introspector.waiting()
    return count
