"""Flask-RESTX and Flask-RESTful answer exactly as plain Flask does, with no setting.

Both frameworks route errors raised under their resources to their own
``handle_error``, which made every flask-jwtx error a 500 unless
``PROPAGATE_EXCEPTIONS`` was set (the incumbent's issue #86, which these
tests show is still open there). Run with ``TESTING`` off, as in production.
"""

from __future__ import annotations

from typing import Any

import flask_jwt_extended
import flask_restful
import flask_restx
import pytest
from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx.exceptions import NoAuthorizationError

from .conftest import SECRET


def plain_flask() -> Flask:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET)
    flask_jwtx.JWTManager(app)

    @app.get("/items")
    @flask_jwtx.jwt_required()
    def items() -> Any:
        return jsonify(items=[flask_jwtx.get_jwt_identity()])

    @app.get("/admin")
    @flask_jwtx.jwt_required(claims={"role": "admin"})
    def admin() -> Any:
        return jsonify(ok=True)

    return app


def restx_app(lib: Any = flask_jwtx) -> Flask:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET)
    lib.JWTManager(app)
    api = flask_restx.Api(app)
    app.extensions["test-api"] = api
    model = api.model("Items", {"items": flask_restx.fields.List(flask_restx.fields.String)})

    @api.route("/items")
    class Items(flask_restx.Resource):
        @api.marshal_with(model)
        @lib.jwt_required()
        def get(self) -> Any:
            return {"items": [lib.get_jwt_identity()]}

    @api.route("/admin")
    class Admin(flask_restx.Resource):
        method_decorators = (flask_jwtx.jwt_required(claims={"role": "admin"}),)

        def get(self) -> Any:
            return {"ok": True}

    return app


def restful_app(lib: Any = flask_jwtx) -> Flask:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET)
    lib.JWTManager(app)
    api = flask_restful.Api(app)

    class Items(flask_restful.Resource):
        @lib.jwt_required()
        def get(self) -> Any:
            return {"items": [lib.get_jwt_identity()]}

    class Admin(flask_restful.Resource):
        method_decorators = (flask_jwtx.jwt_required(claims={"role": "admin"}),)

        def get(self) -> Any:
            return {"ok": True}

    api.add_resource(Items, "/items")
    api.add_resource(Admin, "/admin")
    return app


def token(app: Flask, **claims: Any) -> str:
    with app.app_context():
        return flask_jwtx.create_access_token("alice", additional_claims=claims)


def answer(app: Flask, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    response = app.test_client().get(path, headers=headers or {})
    return response.status_code, response.get_json()


def requests(app: Flask) -> list[tuple[str, dict[str, str]]]:
    good, user = token(app, role="admin"), token(app, role="user")
    return [
        ("/items", {}),
        ("/items", {"Authorization": "Bearer not-a-token"}),
        ("/items", {"Authorization": f"Bearer {good}"}),
        ("/items", {"Authorization": "Basic abc"}),
        ("/admin", {"Authorization": f"Bearer {user}"}),
        ("/admin", {"Authorization": f"Bearer {good}"}),
    ]


@pytest.mark.parametrize("build", [restx_app, restful_app], ids=["flask-restx", "flask-restful"])
def test_every_answer_is_plain_flasks(build: Any) -> None:
    reference, app = plain_flask(), build()
    answers = [answer(app, path, headers) for path, headers in requests(app)]
    assert answers == [answer(reference, path, headers) for path, headers in requests(app)]
    assert [status for status, _ in answers] == [401, 422, 200, 401, 403, 200]


@pytest.mark.parametrize("build", [restx_app, restful_app], ids=["flask-restx", "flask-restful"])
def test_the_incumbent_answers_500_there(build: Any) -> None:
    """Why this matters: the same app on Flask-JWT-Extended, without PROPAGATE_EXCEPTIONS."""
    app = build(flask_jwt_extended)
    assert answer(app, "/items")[0] == 500


def test_an_apis_own_handler_for_our_error_still_wins() -> None:
    app = restx_app()
    api = app.extensions["test-api"]

    @api.errorhandler(NoAuthorizationError)
    def custom(error: Exception) -> Any:
        return {"custom": str(error)}, 418

    status, body = answer(app, "/items")
    assert (status, body["custom"]) == (418, "Missing Authorization Header")


def test_a_framework_imported_after_init_app_is_covered_by_one_call() -> None:
    assert flask_jwtx.integrations.route_rest_framework_errors() == [
        "flask_restx",
        "flask_restful",
    ]
