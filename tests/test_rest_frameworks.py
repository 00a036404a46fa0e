"""Flask-RESTX and Flask-RESTful answer exactly as plain Flask does, with no setting.

Both frameworks route errors raised under their resources to their own
``handle_error``, which made every flask-jwtx error a 500 unless
``PROPAGATE_EXCEPTIONS`` was set (Flask-JWT-Extended's issue #86, which these
tests show is still open there). Run with ``TESTING`` off, as in production,
and in any import order: a framework imported after ``init_app`` is checked
in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import flask_jwt_extended
import flask_restful
import flask_restx
import pytest
from flask import Flask, jsonify

import flask_jwtx
import flask_jwtx._core.web.integrations
from flask_jwtx.exceptions import NoAuthorizationError

from .helpers import SECRET, bearer


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
        ("/items", bearer(good)),
        ("/items", {"Authorization": "Basic abc"}),
        ("/admin", bearer(user)),
        ("/admin", bearer(good)),
    ]


@pytest.mark.parametrize("build", [restx_app, restful_app], ids=["flask-restx", "flask-restful"])
def test_every_answer_is_plain_flasks(build: Any) -> None:
    reference, app = plain_flask(), build()
    answers = [answer(app, path, headers) for path, headers in requests(app)]
    assert answers == [answer(reference, path, headers) for path, headers in requests(app)]
    assert [status for status, _ in answers] == [401, 422, 200, 401, 403, 200]


@pytest.mark.parametrize("build", [restx_app, restful_app], ids=["flask-restx", "flask-restful"])
def test_flask_jwt_extended_answers_500_there(build: Any) -> None:
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


def test_the_routing_reports_the_frameworks_it_covers() -> None:
    """Both frameworks are imported here, so both are covered (and calling again is harmless)."""
    assert flask_jwtx._core.web.integrations.route_rest_framework_errors() == [
        "flask_restx",
        "flask_restful",
    ]


# --- A framework imported after init_app, in a fresh interpreter ---------------------

#: An app factory that imports its resources (and with them the framework)
#: after setting up its extensions. ``order`` says whether the ``Api`` is
#: built on the app whose ``JWTManager`` came first, or before the
#: ``JWTManager`` of a second app. Prints the answers to ``requests``.
LATE_IMPORT = """
    import importlib, json, sys
    from flask import Flask
    import flask_jwtx

    framework, order, secret = sys.argv[1:4]

    def configured(name):
        app = Flask(name)
        app.config.update(JWT_SECRET_KEY=secret)
        return app

    app = configured("factory")
    flask_jwtx.JWTManager(app)
    assert framework not in sys.modules, "imported before init_app"
    module = importlib.import_module(framework)
    if order == "api-first":
        app = configured("second")
        api = module.Api(app)
        flask_jwtx.JWTManager(app)
    else:
        api = module.Api(app)

    class Items(module.Resource):
        @flask_jwtx.jwt_required()
        def get(self):
            return {"items": [flask_jwtx.get_jwt_identity()]}

    class Admin(module.Resource):
        method_decorators = (flask_jwtx.jwt_required(claims={"role": "admin"}),)

        def get(self):
            return {"ok": True}

    api.add_resource(Items, "/items")
    api.add_resource(Admin, "/admin")
    with app.app_context():
        good = flask_jwtx.create_access_token("alice", additional_claims={"role": "admin"})
        user = flask_jwtx.create_access_token("alice", additional_claims={"role": "user"})
    requests = [
        ("/items", {}),
        ("/items", {"Authorization": "Bearer not-a-token"}),
        ("/items", {"Authorization": f"Bearer {good}"}),
        ("/items", {"Authorization": "Basic abc"}),
        ("/admin", {"Authorization": f"Bearer {user}"}),
        ("/admin", {"Authorization": f"Bearer {good}"}),
    ]
    client = app.test_client()
    answers = []
    for path, headers in requests:
        response = client.get(path, headers=headers)
        answers.append([response.status_code, response.get_json()])
    print(json.dumps(answers))
"""


@pytest.mark.parametrize("order", ["manager-first", "api-first"])
@pytest.mark.parametrize("framework", ["flask_restx", "flask_restful"])
def test_a_framework_imported_after_init_app_answers_as_plain_flask(
    framework: str, order: str
) -> None:
    """Neither the import order nor which app or Api came first needs a setting or a call."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", textwrap.dedent(LATE_IMPORT), framework, order, SECRET],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    answers = [tuple(pair) for pair in json.loads(completed.stdout)]
    reference = plain_flask()
    assert answers == [answer(reference, path, headers) for path, headers in requests(reference)]
    assert [status for status, _ in answers] == [401, 422, 200, 401, 403, 200]
