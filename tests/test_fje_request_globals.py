"""Flask-JWT-Extended's four ``flask.g`` attributes are written and read as it does.

Apps and their tests read ``g._jwt_extended_jwt`` and friends, and write them:
fixtures fake a verified request, custom decorators set them, and some apps
set the user after an optional check. Each test runs on both libraries.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import flask_jwt_extended
import pytest
from flask import Flask, g, jsonify

import flask_jwtx

from .helpers import SECRET, bearer

BOTH = pytest.mark.parametrize(
    "lib", [flask_jwt_extended, flask_jwtx], ids=["Flask-JWT-Extended", "ours"]
)


def build(lib: Any, *, lookup: bool = True) -> Flask:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET)
    jwt = lib.JWTManager(app)
    if lookup:
        jwt.user_lookup_loader(lambda _header, claims: {"name": claims["sub"]})

    @app.get("/seen")
    @lib.jwt_required(optional=True)  # type: ignore[untyped-decorator]
    def seen() -> Any:
        return jsonify(
            claims=g.get("_jwt_extended_jwt"),
            header_alg=(g.get("_jwt_extended_jwt_header") or {}).get("alg"),
            user=g.get("_jwt_extended_jwt_user"),
            location=g.get("_jwt_extended_jwt_location"),
        )

    return app


def get(app: Flask, path: str, token: str | None = None) -> Any:
    headers = bearer(token) if token else {}
    return app.test_client().get(path, headers=headers).get_json()


@BOTH
def test_a_verified_request_writes_the_four_attributes(lib: Any) -> None:
    app = build(lib)
    with app.app_context():
        token = lib.create_access_token("alice")
    body = get(app, "/seen", token)
    assert body["claims"]["sub"] == "alice"
    assert body["header_alg"] == "HS256"
    assert body["user"] == {"loaded_user": {"name": "alice"}}
    assert body["location"] == "headers"


@BOTH
def test_an_optional_miss_writes_the_empty_values(lib: Any) -> None:
    assert get(build(lib), "/seen") == {
        "claims": {},
        "header_alg": None,
        "user": {"loaded_user": None},
        "location": None,
    }


@BOTH
def test_without_a_lookup_loader_the_user_attribute_is_none(lib: Any) -> None:
    app = build(lib, lookup=False)
    with app.app_context():
        token = lib.create_access_token("alice")
    assert get(app, "/seen", token)["user"] is None


@BOTH
def test_a_user_set_after_an_optional_check_is_the_current_user(lib: Any) -> None:
    app = build(lib)

    @app.get("/whoami")
    def whoami() -> Any:
        if lib.verify_jwt_in_request(optional=True) is None:
            g._jwt_extended_jwt_user = {"loaded_user": "anonymous"}
        return jsonify(user=lib.get_current_user())

    assert get(app, "/whoami") == {"user": "anonymous"}


@BOTH
def test_a_fixture_that_fakes_a_verified_request_feeds_the_getters(lib: Any) -> None:
    app = build(lib)
    with app.test_request_context():
        g._jwt_extended_jwt = {"sub": "bob", "type": "access"}
        g._jwt_extended_jwt_header = {"alg": "HS256"}
        g._jwt_extended_jwt_user = {"loaded_user": "bob-user"}
        assert lib.get_jwt_identity() == "bob"
        assert lib.get_jwt_header() == {"alg": "HS256"}
        assert lib.get_current_user() == "bob-user"
        assert lib.current_user == "bob-user"


@BOTH
def test_without_verification_the_getters_refuse(lib: Any) -> None:
    app = build(lib)
    with app.test_request_context():
        for getter in (lib.get_jwt, lib.get_jwt_header):
            with pytest.raises(RuntimeError, match="jwt_required"):
                getter()


def test_our_current_token_reads_a_faked_request_too() -> None:
    app = build(flask_jwtx)
    with app.test_request_context():
        g._jwt_extended_jwt = {"sub": "bob", "type": "access"}
        assert flask_jwtx.current_token.sub == "bob"
        assert not flask_jwtx.current_token.is_signed()


def test_an_optional_miss_gives_each_request_its_own_dicts() -> None:
    """A view that writes into get_jwt() on a tokenless request must not leak into the next."""
    app = build(flask_jwtx)

    @app.get("/mutate")
    @flask_jwtx.jwt_required(optional=True)
    def mutate() -> Any:
        before = dict(flask_jwtx.get_jwt())
        flask_jwtx.get_jwt()["leaked"] = True
        return jsonify(before=before)

    assert get(app, "/mutate") == {"before": {}}
    assert get(app, "/mutate") == {"before": {}}


@BOTH
def test_unverified_headers_need_no_app(lib: Any) -> None:
    app = build(lib)
    with app.app_context():
        token = lib.create_access_token("alice")
    assert lib.get_unverified_jwt_headers(token)["alg"] == "HS256"  # no app context here
    with Flask(__name__).app_context():  # an app without a JWTManager
        assert lib.get_unverified_jwt_headers(token)["typ"] == "JWT"


ZERO = pytest.mark.parametrize(
    ("setting", "argument"),
    [(0, None), (timedelta(0), None), (timedelta(minutes=15), timedelta(0)), (None, 0)],
    ids=["setting-0", "setting-timedelta-0", "argument-timedelta-0", "argument-0"],
)


@BOTH
@ZERO
def test_a_zero_lifetime_means_never_expires(lib: Any, setting: Any, argument: Any) -> None:
    app = build(lib, lookup=False)
    if setting is not None:
        app.config["JWT_ACCESS_TOKEN_EXPIRES"] = setting
    with app.app_context():
        kwargs = {} if argument is None else {"expires_delta": argument}
        token = lib.create_access_token("alice", **kwargs)
        assert "exp" not in lib.decode_token(token)
    assert get(app, "/seen", token)["claims"]["sub"] == "alice"


def test_a_revoked_never_expiring_token_stays_revoked() -> None:
    app = build(flask_jwtx, lookup=False)
    app.config.update(JWT_ACCESS_TOKEN_EXPIRES=0, JWT_REVOCATION_STORE="memory://")
    with app.app_context():
        token = flask_jwtx.create_access_token("alice")
        flask_jwtx.revoke_token(token)
        store = app.extensions["flask-jwtx"].settings.get().revocation_store
        assert store is not None
        assert all(expiry is None for _, expiry in store._data.values())
    response = app.test_client().get("/seen", headers=bearer(token))
    assert response.status_code == 401


def test_lower_case_csrf_methods_still_protect() -> None:
    """Difference 23: ``["post"]`` means POST is checked (Flask-JWT-Extended checked nothing)."""
    app = build(flask_jwtx, lookup=False)
    app.config.update(JWT_TOKEN_LOCATION=["cookies"], JWT_CSRF_METHODS=["post"])

    @app.post("/change")
    @flask_jwtx.jwt_required()
    def change() -> Any:
        return jsonify(ok=True)

    client = app.test_client()
    with app.app_context():
        client.set_cookie("access_token_cookie", flask_jwtx.create_access_token("alice"))
    response = client.post("/change")
    assert (response.status_code, response.get_json()) == (401, {"msg": "Missing CSRF token"})


class TestFlaskJWTExtendedsPatchPoints:
    """``mock.patch`` on the names Flask-JWT-Extended looks up per request works the same."""

    def app(self, lib: Any) -> Flask:
        app = build(lib, lookup=False)

        @app.get("/guarded")
        @lib.jwt_required()  # type: ignore[untyped-decorator]
        def guarded() -> Any:
            return jsonify(identity=lib.get_jwt_identity())

        return app

    @BOTH
    def test_patching_verify_jwt_in_request_bypasses_jwt_required(self, lib: Any) -> None:
        app = self.app(lib)

        @app.get("/open")
        @lib.jwt_required()  # type: ignore[untyped-decorator]
        def opened() -> Any:
            return jsonify(ok=True)

        with mock.patch(f"{lib.__name__}.view_decorators.verify_jwt_in_request") as fake:
            response = app.test_client().get("/open")
        assert (response.status_code, response.get_json()) == (200, {"ok": True})
        assert fake.call_count == 1
        assert app.test_client().get("/open").status_code == 401, "unpatched again"

    @BOTH
    def test_patching_decode_jwt_from_request_fakes_the_token(self, lib: Any) -> None:
        app = self.app(lib)
        fake = ({"sub": "mocked", "type": "access"}, {"alg": "HS256"}, "headers")
        with mock.patch(
            f"{lib.__name__}.view_decorators._decode_jwt_from_request", return_value=fake
        ):
            response = app.test_client().get("/guarded")
        assert (response.status_code, response.get_json()) == (200, {"identity": "mocked"})

    @BOTH
    def test_patching_utils_get_jwt_fakes_the_identity(self, lib: Any) -> None:
        app = self.app(lib)
        with (
            app.test_request_context(),
            mock.patch(f"{lib.__name__}.utils.get_jwt", return_value={"sub": "mocked"}),
        ):
            assert lib.get_jwt_identity() == "mocked"


@BOTH
def test_a_managers_own_encode_and_decode_hooks_see_every_token(lib: Any) -> None:
    """JWE wrappers and introspecting managers override these two; both libraries use them."""
    calls: list[str] = []

    class Introspecting(lib.JWTManager):  # type: ignore[misc]
        def _encode_jwt_from_config(self, *args: Any, **kwargs: Any) -> str:
            calls.append("encode")
            token: str = super()._encode_jwt_from_config(*args, **kwargs)
            return token

        def _decode_jwt_from_config(
            self, encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
        ) -> dict[str, Any]:
            calls.append("decode")
            claims: dict[str, Any] = super()._decode_jwt_from_config(
                encoded_token, csrf_value, allow_expired
            )
            return {**claims, "introspected": True}

    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET)
    Introspecting(app)

    @app.get("/p")
    @lib.jwt_required()  # type: ignore[untyped-decorator]
    def p() -> Any:
        return jsonify(introspected=lib.get_jwt().get("introspected"))

    with app.app_context():
        token = lib.create_access_token("alice")
        refresh = lib.create_refresh_token("alice")
        assert lib.decode_token(token)["introspected"] is True
    response = app.test_client().get("/p", headers=bearer(token))
    assert response.get_json() == {"introspected": True}
    assert calls == ["encode", "encode", "decode", "decode"]
    assert refresh
