"""Attacks on rotation, revocation, authorization headers, overrides and store URLs.

Each class is one finding; every test here failed before its fix. The
review's reproductions are the scenarios; the fixes are for the class of
bug, so the tests sweep the neighbouring inputs too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask, jsonify
from hypothesis import given, settings
from hypothesis import strategies as st

import flask_jwtx
from flask_jwtx.exceptions import ConfigurationError

from .helpers import SECRET, bearer
from .stores import RedisServer


def build(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update({"JWT_SECRET_KEY": SECRET, "JWT_REVOCATION_STORE": "memory://", **config})
    flask_jwtx.JWTManager(app)

    @app.get("/me")
    @flask_jwtx.jwt_required()
    def me() -> Any:
        return jsonify(identity=flask_jwtx.get_jwt_identity())

    return app


def status(app: Flask, token: str, path: str = "/me", method: str = "GET") -> int:
    response = app.test_client().open(path, method=method, headers=bearer(token))
    return response.status_code


class TestLogoutEverywhereWithAnIntId:
    """``revoke_all(user.id)`` covers tokens minted with ``str(user.id)``, in every mode."""

    @pytest.mark.parametrize(
        "config",
        [{}, {"JWT_VERIFY_SUB": False}, {"JWT_IDENTITY_CLAIM": "user_id"}],
        ids=["default", "verify-sub-off", "custom-claim"],
    )
    def test_the_string_form_is_logged_out(self, config: dict[str, Any]) -> None:
        app = build(**config)
        with app.app_context():
            token = flask_jwtx.create_access_token("42")
            assert status(app, token) == 200
            flask_jwtx.revoke_all(42)
        assert status(app, token) == 401

    def test_with_verify_sub_off_the_int_form_is_logged_out_too(self) -> None:
        app = build(JWT_VERIFY_SUB=False)
        with app.app_context():
            token = flask_jwtx.create_access_token(42)
            flask_jwtx.revoke_all(42)
        assert status(app, token) == 401


class TestHostileAuthorizationHeaders:
    """Any header value is a 4xx, never a 500: commas, blanks and odd whitespace included."""

    @pytest.mark.parametrize(
        "value", [", ,", ",\t,", ", \x1c ,", "Bearer x, ,", ",Bearer,", " , Bearer", "\x1c"]
    )
    def test_the_reviews_values(self, value: str) -> None:
        app = build()
        response = app.test_client().get("/me", headers={"Authorization": value})
        assert 400 <= response.status_code < 500, value

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(
            st.sampled_from([",", " ", "\t", "\x1c", "\x1f", "Bearer", "bearer", "x", "a.b.c"]),
            max_size=8,
        ).map("".join)
    )
    def test_any_mix_of_separators_and_words(self, value: str) -> None:
        for header_type in ("Bearer", ""):
            app = build(JWT_HEADER_TYPE=header_type)
            response = app.test_client().get("/me", headers={"Authorization": value})
            assert 400 <= response.status_code < 500, repr(value)


class TestStoreURLsKeepTheirSecrets:
    @pytest.mark.parametrize(
        "url",
        [
            "unix:///nonexistent/redis.sock?password=Hunter2-S3cret",
            "redis://127.0.0.1:1/0?password=Hunter2-S3cret",
            "postgresql://app@127.0.0.1:1/db?password=Hunter2-S3cret",
            "redis://:Hunter2-S3cret@127.0.0.1:1/0",
            "postgresql://app:Hunter2%2DS3cret@127.0.0.1:1/db?sslpassword=Hunter2-S3cret",
        ],
    )
    def test_no_password_in_the_startup_error(self, url: str) -> None:
        with pytest.raises(ConfigurationError) as caught:
            build(JWT_REVOCATION_STORE=url)
        assert "Hunter2" not in str(caught.value)
        assert "cannot be reached" in str(caught.value)


class TestOverridesNeverGrantEveryone:
    def app(self, override: Any) -> Flask:
        app = build()

        @app.delete("/reports/<int:rid>")
        @flask_jwtx.jwt_required(scope="reports:write", claims={"org": "acme"}, override=override)
        def delete(rid: int) -> Any:
            return jsonify(deleted=rid)

        return app

    def test_an_empty_override_is_no_override(self) -> None:
        app = self.app(override={})  # e.g. app.config.get("ADMIN_OVERRIDE", {})
        with app.app_context():
            mallory = flask_jwtx.create_access_token(
                "mallory", additional_claims={"org": "evil", "scope": "read"}
            )
            member = flask_jwtx.create_access_token(
                "ann", additional_claims={"org": "acme", "scope": "reports:write"}
            )
        assert status(app, mallory, "/reports/1", "DELETE") == 403
        assert status(app, member, "/reports/1", "DELETE") == 200

    @pytest.mark.parametrize(
        "override",
        [{"roles": []}, {"meta": {"groups": []}}, {"roles": ["admin", []]}],
        ids=["empty-list", "nested-empty-list", "empty-list-item"],
    )
    def test_an_empty_list_in_an_override_is_refused_where_the_route_is_declared(
        self, override: dict[str, Any]
    ) -> None:
        with pytest.raises(ValueError, match="would match every token"):
            self.app(override=override)


def rotation_app(**config: Any) -> Flask:
    app = build(JWT_REFRESH_TOKEN_ROTATION=True, **config)

    @app.post("/refresh")
    @flask_jwtx.jwt_required(refresh=True, skip_revocation_check=True)
    def refresh() -> Any:
        access, refresh = flask_jwtx.rotate_refresh_token()
        return jsonify(access=access, refresh=refresh)

    return app


class TestRotationNeverUndoesARevocation:
    """``rotate_refresh_token`` checks the whole store, whatever the route skipped."""

    @pytest.mark.parametrize("how", ["revoke_token", "revoke_all"])
    def test_a_revoked_refresh_token_cannot_rotate(self, how: str) -> None:
        app = rotation_app()
        with app.app_context():
            refresh = flask_jwtx.create_refresh_token("alice")
            if how == "revoke_token":
                flask_jwtx.revoke_token(refresh)
            else:
                flask_jwtx.revoke_all("alice")
        assert status(app, refresh, "/refresh", "POST") == 401

    def test_a_live_refresh_token_still_rotates(self) -> None:
        app = rotation_app()
        with app.app_context():
            refresh = flask_jwtx.create_refresh_token("alice")
        response = app.test_client().post("/refresh", headers=bearer(refresh))
        assert response.status_code == 200
        assert status(app, response.get_json()["access"]) == 200


class User:
    def __init__(self, id: int) -> None:
        self.id = id


class TestRotationWithFlaskJWTExtendedsUserPattern:
    """Apps whose identity loader takes a ``User`` (Flask-JWT-Extended's documented pattern)."""

    def app(self, *, user_lookup: bool) -> Flask:
        app = rotation_app()
        jwt: flask_jwtx.JWTManager = app.extensions["flask-jwt-extended"]
        seen: list[Any] = []
        app.config["seen"] = seen

        @jwt.user_identity_loader
        def identity(user: User) -> str:
            return str(user.id)

        @jwt.additional_claims_loader
        def claims(user: Any) -> dict[str, Any]:
            seen.append(user)
            return {"role": "admin" if getattr(user, "id", None) == 1 else "user"}

        if user_lookup:

            @jwt.user_lookup_loader
            def lookup(_header: dict[str, Any], claims: dict[str, Any]) -> User:
                return User(int(claims["sub"]))

        return app

    @pytest.mark.parametrize("user_lookup", [True, False], ids=["with-lookup", "without"])
    def test_rotation_reissues_the_same_identity(self, user_lookup: bool) -> None:
        app = self.app(user_lookup=user_lookup)
        with app.app_context():
            refresh = flask_jwtx.create_refresh_token(User(1))
        response = app.test_client().post("/refresh", headers=bearer(refresh))
        assert response.status_code == 200
        with app.app_context():
            claims = flask_jwtx.decode_token(response.get_json()["access"])
        assert claims["sub"] == "1"
        if user_lookup:  # the loaders got the app's own user object, as at login
            assert claims["role"] == "admin"
            assert all(isinstance(user, User) for user in app.config["seen"])


@pytest.fixture
def read_only_redis() -> Iterator[RedisServer]:
    """A real Redis that answers reads and refuses writes (as a failed-over replica may)."""
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()


class TestAReuseVerdictIsNeverSwallowed:
    @pytest.mark.parametrize("policy", ["open", "closed"])
    def test_a_reused_refresh_token_is_refused_when_the_family_cannot_be_written(
        self, read_only_redis: RedisServer, policy: str
    ) -> None:
        app = rotation_app(
            JWT_REVOCATION_STORE=read_only_redis.url,
            JWT_REVOCATION_FAILURE_POLICY=policy,
            JWT_REFRESH_REUSE_GRACE=0,
        )

        @app.post("/check")
        @flask_jwtx.jwt_required(refresh=True)
        def check() -> Any:
            return jsonify(ok=True)

        with app.app_context():
            refresh = flask_jwtx.create_refresh_token("alice")
        assert status(app, refresh, "/refresh", "POST") == 200  # marks it used
        client = redis.Redis(unix_socket_path=read_only_redis.socket)
        client.config_set("min-replicas-to-write", 1)  # writes now fail: NOREPLICAS
        try:
            assert status(app, refresh, "/check", "POST") == 401
        finally:
            client.config_set("min-replicas-to-write", 0)
            client.close()


class TestRotationWhenTheLoadedUserIsNotWhatTokensAreMadeFrom:
    def test_a_row_loaded_for_a_string_identity_is_not_fed_to_the_loaders(self) -> None:
        """Tokens made from ``"alice"``, a dict loaded back: the dict must not become ``sub``."""
        app = rotation_app()
        jwt: flask_jwtx.JWTManager = app.extensions["flask-jwt-extended"]

        @jwt.user_lookup_loader
        def lookup(_header: dict[str, Any], claims: dict[str, Any]) -> dict[str, str]:
            return {"name": claims["sub"]}

        with app.app_context():
            refresh = flask_jwtx.create_refresh_token("alice")
        response = app.test_client().post("/refresh", headers=bearer(refresh))
        assert response.status_code == 200
        with app.app_context():
            assert flask_jwtx.decode_token(response.get_json()["access"])["sub"] == "alice"
