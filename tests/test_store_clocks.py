"""A revocation lasts as long as the app's clock says, whatever the store host's clock says.

Records carry the moment (by the app's clock) until which they must live;
the Redis store turns that into time *remaining*, so a Redis host whose clock
is ahead of the app's (or a test's frozen clock) cannot expire them early.
The session registry's keys are given their time remaining the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import freezegun
import pytest
import redis
import time_machine
from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx._core.revocation.policy import CLOCK_MARGIN

from .helpers import SECRET, bearer
from .stores import RedisServer


def app_on(url: str, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE=url, **config)
    flask_jwtx.JWTManager(app)

    @app.get("/me")
    @flask_jwtx.jwt_required()
    def me() -> Any:
        return jsonify(ok=True)

    return app


def test_an_app_clock_a_day_behind_redis_keeps_its_revocations(redis_server: RedisServer) -> None:
    behind = datetime.now(UTC) - timedelta(days=1)
    with freezegun.freeze_time(behind):
        app = app_on(redis_server.url)
        with app.app_context():
            token = flask_jwtx.create_access_token("alice")
            flask_jwtx.revoke_token(token)
        response = app.test_client().get("/me", headers=bearer(token))
        assert response.status_code == 401, "the record expired by Redis's clock"
    app.extensions["flask-jwt-extended"].close(app)


def test_an_app_clock_a_day_behind_redis_keeps_its_sessions(redis_server: RedisServer) -> None:
    """A session whose tokens outlive the app's clock is listed, whatever Redis's clock says."""
    redis_server.flush()
    behind = datetime.now(UTC) - timedelta(days=1)
    with freezegun.freeze_time(behind):
        app = app_on(
            redis_server.url,
            JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=5),
            JWT_REFRESH_TOKEN_EXPIRES=timedelta(hours=1),
        )
        with app.app_context():
            access, _ = flask_jwtx.create_token_pair("alice")
            assert len(flask_jwtx.list_sessions("alice")) == 1, "expired by Redis's clock"
            [session] = flask_jwtx.list_sessions("alice")
            assert flask_jwtx.revoke_session(session.id) is True
        response = app.test_client().get("/me", headers=bearer(access))
        assert response.status_code == 401
    app.extensions["flask-jwt-extended"].close(app)


@pytest.mark.parametrize("years", [-1, 1], ids=["frozen a year back", "frozen a year ahead"])
def test_a_revocation_under_a_frozen_clock_lives_as_long_as_the_token_has_left(
    redis_server: RedisServer, years: int
) -> None:
    """As docs/testing.md says: Redis keeps the record for the token's time left by the app clock.

    Frozen (time-machine, the docs' example) a year back, a record written as
    an absolute moment would be gone at once; a year ahead it would stay a
    year. It lasts the token's lifetime plus leeway and margin either way.
    """
    redis_server.flush()
    with time_machine.travel(datetime.now(UTC) + timedelta(days=365 * years), tick=False):
        app = app_on(redis_server.url, JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=5))
        with app.app_context():
            token = flask_jwtx.create_access_token("alice")
            flask_jwtx.revoke_token(token)
        response = app.test_client().get("/me", headers=bearer(token))
        assert response.get_json() == {"msg": "Token has been revoked"}
    app.extensions["flask-jwt-extended"].close(app)
    with redis.Redis(unix_socket_path=redis_server.socket) as client:
        [key] = client.keys("*")
        remaining = client.pttl(key) / 1000
    assert 5 * 60 < remaining <= 5 * 60 + CLOCK_MARGIN + 1  # no leeway set; 1 s of rounding
