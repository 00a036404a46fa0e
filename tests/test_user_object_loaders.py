"""Apps whose loaders take user objects, as Flask-JWT-Extended's docs set them up.

``user_identity_loader(user) -> str(user.id)`` and ``additional_claims_loader(user)``
reading ``user.role`` receive whatever ``create_access_token(identity=...)``
is given. Handed an id instead (from the CLI, a test helper), they fail in
app code; each such failure names the loader and the fix, and the CLI and the
testing helpers can load the user from an id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask, jsonify
from flask.cli import ScriptInfo

import flask_jwtx
from flask_jwtx import create_access_token, decode_token, get_current_user, jwt_required
from flask_jwtx import testing as jwt_testing
from flask_jwtx.cli import jwt_cli

from .conftest import SECRET


@dataclass
class User:
    id: int
    role: str


USERS = {1: User(1, "admin"), 2: User(2, "reader")}


def user_object_app() -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)
    jwt = flask_jwtx.JWTManager(app)
    jwt.user_identity_loader(lambda user: str(user.id))
    jwt.additional_claims_loader(lambda user: {"role": user.role})
    jwt.user_lookup_loader(lambda _h, claims: USERS.get(int(claims["sub"])))

    @app.get("/me")
    @jwt_required()
    def me() -> Any:
        user = get_current_user()
        return jsonify(id=user.id, role=user.role)

    return app


def cli(app: Flask, *args: str) -> Any:
    return CliRunner().invoke(jwt_cli, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_a_loader_that_fails_on_an_id_is_named_with_the_fix() -> None:
    """The app's own exception is kept; a note names the loader, what it got and what to pass."""
    app = user_object_app()
    with app.app_context(), pytest.raises(AttributeError) as caught:
        create_access_token("1")
    notes = " ".join(caught.value.__notes__)
    assert "additional_claims_loader failed on the str '1'" in notes
    assert "pass a user object" in notes


def test_the_cli_reports_a_loader_failure_without_a_traceback() -> None:
    result = cli(user_object_app(), "token", "1")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "additional_claims_loader failed on the str '1'" in result.output
    assert "--load-user" in result.output


def test_the_cli_mints_for_the_loaded_user() -> None:
    app = user_object_app()
    result = cli(app, "token", "1", "--load-user")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    with app.app_context():
        claims = decode_token(token)
    assert (claims["sub"], claims["role"]) == ("1", "admin")
    response = app.test_client().get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json == {"id": 1, "role": "admin"}


def test_the_cli_says_when_no_user_loads() -> None:
    result = cli(user_object_app(), "token", "9", "--load-user")
    assert result.exit_code == 1
    assert "--load-user: the user_lookup_loader found no user for '9'" in result.output


def test_load_user_needs_a_user_lookup_loader() -> None:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET)
    flask_jwtx.JWTManager(app)
    result = cli(app, "token", "1", "--load-user")
    assert result.exit_code == 1
    assert "needs a @jwt.user_lookup_loader" in result.output


def test_the_testing_helpers_mint_for_a_loaded_user() -> None:
    app = user_object_app()
    headers = jwt_testing.auth_headers(app, jwt_testing.user_for(app, "2"))
    assert app.test_client().get("/me", headers=headers).json == {"id": 2, "role": "reader"}
    kit = jwt_testing.JWTTestKit(app)
    assert kit.user_for("1") is USERS[1]
