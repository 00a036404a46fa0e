"""Step-up authentication (RFC 9470): ``max_age=`` and ``acr=`` on a route.

A route can ask how the user signed in, not only who they are: recently
enough (``auth_time``), or strongly enough (``acr``). A token that falls
short is a 401 whose challenge tells the client what to ask the
authorization server for; no ``override`` lifts it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx import testing
from flask_jwtx._core.web.authorization import Requirements
from flask_jwtx.exceptions import InsufficientUserAuthenticationError

from .helpers import make_app

RESOURCE = "https://api.test"


def app_with_routes(**config: Any) -> Flask:
    """Routes needing a sign-in within 5 minutes, an MFA sign-in, or both (admins too)."""
    app = make_app(**config)

    @app.get("/recent")
    @flask_jwtx.jwt_required(max_age=300)
    def recent() -> Any:
        return jsonify(ok=True)

    @app.get("/strong")
    @flask_jwtx.jwt_required(acr=["mfa", "phr"])
    def strong() -> Any:
        return jsonify(ok=True)

    @app.get("/admin-recent")
    @flask_jwtx.jwt_required(
        max_age=timedelta(minutes=5), scope="admin", override={"role": "root"}
    )
    def admin_recent() -> Any:
        return jsonify(ok=True)

    @app.get("/inline")
    def inline() -> Any:
        flask_jwtx.verify_jwt_in_request(acr="mfa")
        return jsonify(ok=True)

    return app


def get(app: Flask, path: str, **claims: Any) -> Any:
    headers = testing.auth_headers(app, "alice", claims=claims)
    return app.test_client().get(path, headers=headers)


def test_a_recent_sign_in_passes_and_an_old_or_unknown_one_is_refused() -> None:
    """``max_age`` compares ``auth_time`` with now; a token without one cannot prove it."""
    app = app_with_routes()
    now = int(time.time())
    assert get(app, "/recent", auth_time=now - 60).status_code == 200
    old = get(app, "/recent", auth_time=now - 301)
    assert old.status_code == 401
    assert old.json == {"msg": "The user signed in too long ago for this route"}
    assert get(app, "/recent").status_code == 401
    for wrong in ("yesterday", True, None):
        assert get(app, "/recent", auth_time=wrong).status_code == 401


def test_acr_must_be_one_of_the_route_values() -> None:
    """``acr`` accepts exactly the listed values; a weaker or missing one is refused."""
    app = app_with_routes()
    assert get(app, "/strong", acr="mfa").status_code == 200
    assert get(app, "/strong", acr="phr").status_code == 200
    for weak in ({"acr": "pwd"}, {}, {"acr": ["mfa"]}):
        answer = get(app, "/strong", **weak)
        assert answer.status_code == 401
        assert "(acr)" in answer.json["msg"]


def test_an_override_does_not_lift_step_up() -> None:
    """An admin override skips claims and scopes, never how recently the user signed in."""
    app = app_with_routes()
    now = int(time.time())
    assert get(app, "/admin-recent", role="root", auth_time=now).status_code == 200
    assert get(app, "/admin-recent", role="root", auth_time=now - 3600).status_code == 401
    # Recent enough, but neither admin scope nor override: the usual 403.
    assert get(app, "/admin-recent", auth_time=now).status_code == 403


def test_verify_jwt_in_request_takes_the_same_requirements() -> None:
    """Inside a view, ``verify_jwt_in_request(acr=...)`` refuses like the decorator."""
    app = app_with_routes()
    assert get(app, "/inline", acr="mfa").status_code == 200
    assert get(app, "/inline", acr="pwd").status_code == 401


def test_a_resource_server_answers_with_the_rfc_9470_challenge() -> None:
    """The challenge names the error and what to ask for: ``max_age``, ``acr_values``."""
    app = app_with_routes(JWT_RESOURCE=RESOURCE)
    now = int(time.time())
    old = get(app, "/recent", auth_time=now - 900)
    assert old.status_code == 401
    challenge = old.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_user_authentication"' in challenge
    assert 'max_age="300"' in challenge
    weak = get(app, "/strong", acr="pwd")
    assert 'acr_values="mfa phr"' in weak.headers["WWW-Authenticate"]
    assert "max_age" not in weak.headers["WWW-Authenticate"]


def test_an_app_without_challenges_answers_like_any_401() -> None:
    """Outside resource-server mode, the JSON answer of the ``unauthorized_loader``."""
    app = app_with_routes()

    manager: flask_jwtx.JWTManager = app.extensions["flask-jwtx"].manager

    @manager.unauthorized_loader
    def unauthorized(reason: str) -> Any:
        return jsonify(error=reason), 401

    answer = get(app, "/strong", acr="pwd")
    assert answer.status_code == 401
    assert answer.json == {
        "error": "The user did not sign in strongly enough for this route (acr)"
    }
    assert "WWW-Authenticate" not in answer.headers


@pytest.mark.parametrize(
    "arguments",
    [{"max_age": -1}, {"max_age": "300"}, {"max_age": True}, {"acr": []}, {"acr": [""]}],
)
def test_a_wrong_declaration_fails_when_the_route_is_declared(arguments: Any) -> None:
    """Bad ``max_age``/``acr`` values raise ``TypeError`` at import time, not per request."""
    with pytest.raises(TypeError, match=r"max_age|acr"):
        flask_jwtx.jwt_required(**arguments)


@pytest.mark.parametrize("auth_time", [float("inf"), float("nan"), 10**400])
def test_an_auth_time_that_is_no_finite_number_proves_nothing(auth_time: Any) -> None:
    """JSON's ``1e400`` parses to infinity: such an ``auth_time`` is refused, never "recent"."""
    requirements = Requirements.build(None, None, None, max_age=300)
    assert requirements is not None
    with pytest.raises(InsufficientUserAuthenticationError):
        requirements.check({}, {"auth_time": auth_time}, {})
