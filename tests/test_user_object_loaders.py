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
from flask_jwtx import (
    create_access_token,
    create_token_pair,
    decode_token,
    get_current_user,
    get_jwt_identity,
    jwt_required,
)
from flask_jwtx import testing as jwt_testing
from flask_jwtx.cli import jwt_cli

from .helpers import SECRET, bearer


@dataclass
class User:
    id: int
    role: str


USERS = {1: User(1, "admin"), 2: User(2, "reader")}


def user_object_app() -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE="memory://")
    jwt = flask_jwtx.JWTManager(app)
    jwt.user_identity_loader(lambda user: str(user.id))
    jwt.additional_claims_loader(lambda user: {"role": user.role})
    jwt.user_lookup_loader(lambda _h, claims: USERS.get(int(claims["sub"])))

    @app.get("/me")
    @jwt_required()
    def me() -> Any:
        user = get_current_user()
        return jsonify(id=user.id, role=user.role)

    @app.get("/my-sessions")
    @jwt_required()
    def my_sessions() -> Any:
        return jsonify([s.id for s in flask_jwtx.list_sessions(sub=get_jwt_identity())])

    @app.delete("/my-sessions/<session_id>")
    @jwt_required()
    def end_mine(session_id: str) -> Any:
        return jsonify(ended=flask_jwtx.revoke_session(session_id, sub=get_jwt_identity()))

    @app.post("/logout-everywhere")
    @jwt_required()
    def everywhere() -> Any:
        flask_jwtx.revoke_all(sub=get_jwt_identity())
        return jsonify(ok=True)

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
    response = app.test_client().get("/me", headers=bearer(token))
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


class TestLookupsBySub:
    """In a view, the identity claim is at hand, not the user object: sub= takes it."""

    def test_list_and_end_my_sessions_and_log_out_everywhere(self) -> None:
        app = user_object_app()
        with app.app_context():
            first, _ = create_token_pair(USERS[1])
            second, _ = create_token_pair(USERS[1])
            other, _ = create_token_pair(USERS[2])
            ids = [decode_token(t)["fam"] for t in (first, second)]
        client = app.test_client()
        assert client.get("/my-sessions", headers=bearer(first)).json == ids
        ended = client.delete(f"/my-sessions/{ids[1]}", headers=bearer(first))
        assert ended.json == {"ended": True}
        assert client.get("/me", headers=bearer(second)).status_code == 401
        foreign = decode_token_in(app, other)["fam"]
        refused = client.delete(f"/my-sessions/{foreign}", headers=bearer(first))
        assert refused.json == {"ended": False}, "another user's session is not mine to end"
        assert client.post("/logout-everywhere", headers=bearer(first)).status_code == 200
        assert client.get("/me", headers=bearer(first)).status_code == 401
        assert client.get("/me", headers=bearer(other)).status_code == 200

    def test_the_user_object_still_works_and_both_or_neither_is_a_clear_error(self) -> None:
        app = user_object_app()
        with app.app_context():
            create_token_pair(USERS[2])
            assert len(flask_jwtx.list_sessions(USERS[2])) == 1
            assert len(flask_jwtx.list_sessions(sub="2")) == 1
            with pytest.raises(TypeError, match="exactly one of the two"):
                flask_jwtx.list_sessions()
            with pytest.raises(TypeError, match="exactly one of the two"):
                flask_jwtx.revoke_all(USERS[2], sub="2")

    def test_an_id_where_a_user_object_is_expected_names_the_loader(self) -> None:
        app = user_object_app()
        with app.app_context(), pytest.raises(AttributeError) as caught:
            flask_jwtx.revoke_all("1")
        assert "user_identity_loader failed on the str '1'" in " ".join(caught.value.__notes__)


def decode_token_in(app: Flask, token: str) -> dict[str, Any]:
    with app.app_context():
        return decode_token(token)


class TestTheCommandLineRevokeAll:
    def test_by_sub_by_loaded_user_and_a_loader_failure(self) -> None:
        app = user_object_app()
        with app.app_context():
            token = create_access_token(USERS[1])
        failed = cli(app, "revoke-all", "1")
        assert failed.exit_code == 1
        assert "user_identity_loader failed on the str '1'" in failed.output
        assert "Traceback" not in failed.output
        assert app.test_client().get("/me", headers=bearer(token)).status_code == 200
        assert cli(app, "revoke-all", "1", "--sub").exit_code == 0
        assert app.test_client().get("/me", headers=bearer(token)).status_code == 401
        with app.app_context():
            later = create_access_token(USERS[2])
        assert cli(app, "revoke-all", "2", "--load-user").exit_code == 0
        assert app.test_client().get("/me", headers=bearer(later)).status_code == 401

    def test_sub_and_load_user_exclude_each_other(self) -> None:
        result = cli(user_object_app(), "revoke-all", "1", "--sub", "--load-user")
        assert result.exit_code == 2
        assert "exclude each other" in result.output
