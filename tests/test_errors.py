"""Every error knows its answer: the status a class declares is its default response's.

The default loaders keep Flask-JWT-Extended's status codes; ``status`` and
``code`` on each class say the same thing as data, for logs and handlers. A
class whose declared status and actual answer drift apart fails here.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from flask import Flask

import flask_jwtx
import flask_jwtx._core.revocation.base
import flask_jwtx._core.web.revocation_checks
from flask_jwtx import exceptions
from flask_jwtx.exceptions import RefreshTokenReusedError, StoreUnavailableError

from .helpers import SECRET, bearer


def every_error_class() -> list[type[exceptions.JWTExtendedException]]:
    found = {
        cls
        for module in (
            exceptions,
            flask_jwtx._core.web.revocation_checks,
            flask_jwtx._core.revocation.base,
        )
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, exceptions.JWTExtendedException) and not cls.__name__.startswith("_")
    }
    found |= {RefreshTokenReusedError, StoreUnavailableError}
    return sorted(found, key=lambda cls: cls.__name__)


def instance(cls: type[exceptions.JWTExtendedException]) -> exceptions.JWTExtendedException:
    header: dict[str, Any] = {"alg": "HS256"}
    claims: dict[str, Any] = {"sub": "alice", "type": "access"}
    try:
        parameters = list(inspect.signature(cls).parameters)
    except ValueError:  # no __init__ of its own: Exception's, which takes a message
        parameters = []
    if parameters[:2] == ["jwt_header", "jwt_data"]:
        return cls(header, claims)
    if "jwt_header" in parameters:
        return cls("refused", header, claims)
    return cls("refused")


@pytest.mark.parametrize("cls", every_error_class(), ids=lambda cls: cls.__name__)
def test_the_declared_status_is_the_answer(cls: type[exceptions.JWTExtendedException]) -> None:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET)
    flask_jwtx.JWTManager(app)

    @app.get("/raise")
    def raise_it() -> str:
        raise instance(cls)

    response = app.test_client().get("/raise")
    assert response.status_code == cls.status
    assert isinstance(cls.code, str)
    assert cls.code
    if cls.status < 500:
        assert set(response.get_json()) == {"msg"}


def test_codes_name_one_kind_of_failure_each() -> None:
    seen: dict[str, type] = {}
    for cls in every_error_class():
        if cls.code in seen and "code" in vars(cls):
            assert cls.code not in seen, (
                f"{cls.__name__} and {seen[cls.code].__name__} share a code"
            )
        seen.setdefault(cls.code, cls)


class TestTheUnavailableAnswersHaveALoader:
    """An API with its own error format keeps it when a dependency is down (503)."""

    def build(self, **config: Any) -> tuple[Flask, list[str]]:
        app = Flask(__name__)
        app.config.update({"JWT_SECRET_KEY": SECRET, **config})
        jwt = flask_jwtx.JWTManager(app)
        seen: list[str] = []

        @jwt.service_unavailable_loader
        def unavailable(reason: str) -> tuple[dict[str, Any], int]:
            seen.append(reason)
            return {"error": {"code": "unavailable", "detail": reason}}, 503

        @app.get("/protected")
        @flask_jwtx.jwt_required()
        def protected() -> str:
            return "let in"

        return app, seen

    def test_the_store_being_down_goes_through_the_loader(self) -> None:
        from .stores import RedisServer

        server = RedisServer()
        try:
            app, seen = self.build(JWT_REVOCATION_STORE=server.url)
            with app.app_context():
                token = flask_jwtx.create_access_token("alice")
            server.stop()
            response = app.test_client().get("/protected", headers=bearer(token))
        finally:
            server.stop()
        assert response.status_code == 503
        assert response.get_json() == {
            "error": {"code": "unavailable", "detail": "Revocation store unavailable"}
        }
        assert seen == ["Revocation store unavailable"]

    def test_unreachable_keys_go_through_the_loader(self) -> None:
        app, seen = self.build(
            JWT_ALGORITHM="RS256",
            JWT_SECRET_KEY=None,
            JWT_JWKS_URL="http://127.0.0.1:1/jwks.json",  # nothing listens on port 1
            JWT_DECODE_AUDIENCE="api",
            JWT_JWKS_TIMEOUT=2,
        )
        token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSJ9.c2ln"
        response = app.test_client().get("/protected", headers=bearer(token))
        assert response.status_code == 503
        assert response.get_json()["error"]["detail"] == "Token keys are unavailable"
        assert seen == ["Token keys are unavailable"]

    def test_the_default_answer_is_flask_jwt_extended_shaped_503(self) -> None:
        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY=SECRET)
        jwt = flask_jwtx.JWTManager(app)
        with app.test_request_context():
            response = app.make_response(
                jwt.callbacks.service_unavailable("Revocation store unavailable")
            )
        assert response.status_code == 503
        assert response.get_json() == {"msg": "Revocation store unavailable"}
