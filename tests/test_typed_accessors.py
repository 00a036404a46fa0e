"""Typed accessors: the identity and the user as the app's own types, checked at run time.

``get_jwt_identity()`` and ``current_user`` stay ``Any`` for code written for
Flask-JWT-Extended; asking for a type gives that type or a precise refusal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

import flask_jwtx

from .helpers import SECRET, bearer


@dataclass
class User:
    id: int
    name: str


USERS = {1: User(1, "alice")}
current = flask_jwtx.user_proxy(User)


def build(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update({"JWT_SECRET_KEY": SECRET, **config})
    jwt = flask_jwtx.JWTManager(app)

    @jwt.user_lookup_loader
    def load(_header: dict[str, Any], claims: dict[str, Any]) -> object:
        sub = claims["sub"]
        return USERS.get(sub, User(sub, "someone")) if isinstance(sub, int) else "not a user"

    @app.get("/identity/<kind>")
    @flask_jwtx.jwt_required()
    def identity(kind: str) -> dict[str, Any]:
        wanted = {"int": int, "str": str, "uuid": uuid.UUID}[kind]
        return {"identity": str(flask_jwtx.get_jwt_identity(as_type=wanted))}

    @app.get("/me")
    @flask_jwtx.jwt_required()
    def me() -> dict[str, Any]:
        return {"name": current.name, "same": flask_jwtx.get_current_user(as_type=User) == current}

    return app


def get(app: Flask, path: str, identity: Any) -> tuple[int, Any]:
    with app.app_context():
        token = flask_jwtx.create_access_token(identity)
    response = app.test_client().get(path, headers=bearer(token))
    return response.status_code, response.get_json()


class TestTypedIdentity:
    def test_the_identity_comes_back_as_the_type_asked_for(self) -> None:
        app = build(JWT_VERIFY_SUB=False)
        assert get(app, "/identity/int", 7) == (200, {"identity": "7"})
        assert get(app, "/identity/str", "alice") == (200, {"identity": "alice"})

    def test_a_uuid_stored_as_a_string_comes_back_a_uuid(self) -> None:
        app = build(JWT_IDENTITY_AS_STRING=True)
        user = uuid.uuid4()
        assert get(app, "/identity/uuid", user) == (200, {"identity": str(user)})

    @pytest.mark.parametrize(
        ("path", "identity", "kind"),
        [
            ("/identity/int", "7", "int"),
            ("/identity/str", 7, "str"),
            ("/identity/int", True, "int"),
        ],
    )
    def test_an_identity_of_another_type_is_a_422_not_a_wrong_value(
        self, path: str, identity: Any, kind: str
    ) -> None:
        app = build(JWT_VERIFY_SUB=False)
        status, body = get(app, path, identity)
        assert (status, body) == (422, {"msg": f"The token's identity is not a {kind}"})


class TestTypedUser:
    def test_the_user_proxy_reads_this_requests_user(self) -> None:
        app = build(JWT_VERIFY_SUB=False)
        assert get(app, "/me", 1) == (200, {"name": "alice", "same": True})

    def test_a_loader_returning_another_type_is_the_apps_bug(self) -> None:
        app = build(JWT_VERIFY_SUB=False, TESTING=True)  # raised, not turned into a 500
        with pytest.raises(TypeError, match="returned a str, not a User"):
            get(app, "/me", "someone")

    def test_flask_jwt_extendeds_untyped_getters_are_unchanged(self) -> None:
        app = build(JWT_VERIFY_SUB=False)

        @app.get("/plain")
        @flask_jwtx.jwt_required()
        def plain() -> dict[str, Any]:
            return {
                "identity": flask_jwtx.get_jwt_identity(),
                "user": flask_jwtx.current_user.name,
                "sub": flask_jwtx.current_token.sub,
            }

        assert get(app, "/plain", 1) == (200, {"identity": 1, "user": "alice", "sub": 1})
