"""The public functions, one behaviour per test."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import time
import typing
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask, jsonify, render_template_string

import flask_jwtx
from flask_jwtx import exceptions as exc
from flask_jwtx import testing
from flask_jwtx._core.web.callbacks import Callbacks

from .helpers import (
    SECRET,
    algorithms,
    bearer,
    make_app,
    needs_cryptography,
    read_key,
    with_sub_check,
    without_sub_check,
)


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def ctx(app: Flask) -> Any:
    with app.app_context():
        yield app


class TestCreateTokens:
    def test_access_token_claims(self, ctx: Flask) -> None:
        claims = claims_of(flask_jwtx.create_access_token("alice"))
        assert claims["sub"] == "alice"
        assert claims["type"] == "access"
        assert claims["fresh"] is False
        assert claims["exp"] - claims["iat"] == 15 * 60
        assert claims["nbf"] == claims["iat"]
        assert uuid.UUID(claims["jti"])
        assert uuid.UUID(claims["csrf"])

    def test_refresh_token_claims(self, ctx: Flask) -> None:
        claims = claims_of(flask_jwtx.create_refresh_token("alice"))
        assert (claims["type"], claims["fresh"]) == ("refresh", False)
        assert claims["exp"] - claims["iat"] == 30 * 24 * 3600

    def test_fresh_for_a_while(self, ctx: Flask) -> None:
        before = time.time()
        claims = claims_of(flask_jwtx.create_access_token("a", fresh=timedelta(minutes=5)))
        assert before + 299 <= claims["fresh"] <= time.time() + 301

    def test_expires_delta_and_never(self, ctx: Flask) -> None:
        short = claims_of(flask_jwtx.create_access_token("a", expires_delta=timedelta(seconds=9)))
        assert short["exp"] - short["iat"] == 9
        assert "exp" not in claims_of(flask_jwtx.create_access_token("a", expires_delta=False))
        assert "exp" not in claims_of(flask_jwtx.create_refresh_token("a", expires_delta=False))

    def test_additional_claims_and_headers_win_over_loaders(self, app: Flask) -> None:
        manager = app.extensions["flask-jwtx"].manager
        manager.additional_claims_loader(lambda identity: {"role": "user", "org": identity})
        manager.additional_headers_loader(lambda identity: {"kid": "loader", "x": 1})
        with app.app_context():
            token = flask_jwtx.create_access_token(
                "acme", additional_claims={"role": "admin"}, additional_headers={"kid": "arg"}
            )
        claims, header = claims_of(token), jwt.get_unverified_header(token)
        assert (claims["role"], claims["org"]) == ("admin", "acme")
        assert (header["kid"], header["x"]) == ("arg", 1)

    def test_nbf_can_be_left_out(self) -> None:
        with make_app(JWT_ENCODE_NBF=False).app_context():
            assert "nbf" not in claims_of(flask_jwtx.create_access_token("a"))

    def test_audience_and_issuer_are_written(self) -> None:
        app = make_app(JWT_ENCODE_AUDIENCE=["a", "b"], JWT_ENCODE_ISSUER="me")
        with app.app_context():
            claims = claims_of(flask_jwtx.create_access_token("x"))
        assert (claims["aud"], claims["iss"]) == (["a", "b"], "me")

    def test_user_identity_loader(self, app: Flask) -> None:
        class User:
            name = "bob"

        app.extensions["flask-jwtx"].manager.user_identity_loader(lambda user: user.name)
        with app.app_context():
            assert claims_of(flask_jwtx.create_access_token(User()))["sub"] == "bob"

    def test_claims_use_the_apps_json_provider(self, ctx: Flask) -> None:
        token = flask_jwtx.create_access_token("a", additional_claims={"u": uuid.UUID(int=1)})
        assert claims_of(token)["u"] == str(uuid.UUID(int=1))


class TestIdentityTypes:
    @with_sub_check
    def test_a_non_string_identity_is_minted_and_refused_on_use_as_by_flask_jwt_extended(
        self, app: Flask
    ) -> None:
        # Refusing at creation would protect no one (the token is refused on
        # use) and break apps' fixtures that mint such tokens and never use them.
        @app.get("/me")
        @flask_jwtx.jwt_required()
        def me() -> Any:
            return jsonify(identity=flask_jwtx.get_jwt_identity())

        with app.app_context():
            token = flask_jwtx.create_access_token(42)
            flask_jwtx.create_access_token(43)
        assert claims_of(token)["sub"] == 42
        response = app.test_client().get("/me", headers=bearer(token))
        assert (response.status_code, response.get_json()) == (
            422,
            {"msg": "Subject must be a string"},
        )

    @without_sub_check
    @pytest.mark.parametrize("identity", [42, ["tenant", "key"], {"id": 7}])
    def test_before_pyjwt_2_10_any_json_identity_works_as_with_flask_jwt_extended(
        self, app: Flask, identity: Any
    ) -> None:
        """On a PyJWT without a sub check, an int or list identity is accepted and given back."""

        @app.get("/me")
        @flask_jwtx.jwt_required()
        def me() -> Any:
            return jsonify(identity=flask_jwtx.get_jwt_identity())

        with app.app_context():
            token = flask_jwtx.create_access_token(identity)
        assert claims_of(token)["sub"] == identity
        response = app.test_client().get("/me", headers=bearer(token))
        assert (response.status_code, response.get_json()) == (200, {"identity": identity})

    @with_sub_check
    def test_the_fix_is_logged_once_per_type(self, caplog: pytest.LogCaptureFixture) -> None:
        creation = importlib.import_module("flask_jwtx._core.web.creation")
        app = make_app()
        with app.app_context(), caplog.at_level("WARNING", logger="flask_jwtx"):
            creation._WARNED.discard("float")
            for value in (1.5, 2.5, 3.5):
                flask_jwtx.create_access_token(value)
        advice = [r.getMessage() for r in caplog.records if "float identity" in r.getMessage()]
        assert len(advice) == 1
        assert "JWT_IDENTITY_AS_STRING" in advice[0]
        assert "str(user.id)" in advice[0]

    def test_identity_as_string_round_trips_int_and_uuid(self) -> None:
        app = make_app(JWT_IDENTITY_AS_STRING=True)
        user_id = uuid.uuid4()

        @app.get("/me")
        @flask_jwtx.jwt_required()
        def me() -> Any:
            identity = flask_jwtx.get_jwt_identity()
            return jsonify(
                type=type(identity).__name__, value=str(identity), sub=flask_jwtx.get_jwt()["sub"]
            )

        client = app.test_client()
        as_int = client.get("/me", headers=testing.auth_headers(app, 42)).get_json()
        assert as_int == {"type": "int", "value": "42", "sub": "42"}
        as_uuid = client.get("/me", headers=testing.auth_headers(app, user_id)).get_json()
        assert as_uuid == {"type": "UUID", "value": str(user_id), "sub": str(user_id)}

    @pytest.mark.parametrize(
        "identity",
        [
            7,
            ["tenant", "key"],
            {"org": 3, "user": [1, 2], "name": "ana"},
            1.5,
            True,
            None,
            ["id", uuid.UUID(int=5)],
        ],
    )
    def test_identity_as_string_round_trips_json_identities(self, identity: Any) -> None:
        """A list, dict or other JSON identity is a string in 'sub' and itself in the view."""
        app = make_app(JWT_IDENTITY_AS_STRING=True)

        @app.get("/me")
        @flask_jwtx.jwt_required()
        def me() -> Any:
            given = flask_jwtx.get_jwt_identity()
            return jsonify(identity=given, type=type(given).__name__)

        with app.app_context():
            token = flask_jwtx.create_access_token(identity)
        assert isinstance(claims_of(token)["sub"], str)
        headers = testing.auth_headers(app, token=token)
        answer = app.test_client().get("/me", headers=headers).get_json()
        # JSON has one way to write a UUID inside a list: as its string, as the app's
        # own responses write it.
        expected = json.loads(json.dumps(identity, default=str))
        assert answer == {"identity": expected, "type": type(expected).__name__}

    def test_a_json_identity_is_stored_as_compact_json_with_sorted_keys(self) -> None:
        """The 'json' marker claim, and one text per identity whatever its key order."""
        with make_app(JWT_IDENTITY_AS_STRING=True).app_context():
            first = claims_of(flask_jwtx.create_access_token({"b": 1, "a": [2, 3]}))
            second = claims_of(flask_jwtx.create_access_token({"a": [2, 3], "b": 1}))
            as_tuple = claims_of(flask_jwtx.create_access_token(("ns", "key")))
        assert (first["sub"], first["jwtx_idt"]) == ('{"a":[2,3],"b":1}', "json")
        assert second["sub"] == first["sub"]
        assert (as_tuple["sub"], as_tuple["jwtx_idt"]) == ('["ns","key"]', "json")

    def test_identity_as_string_applies_whatever_pyjwt_checks(self) -> None:
        """With the opt-in, 'sub' is a string even with JWT_VERIFY_SUB off (or PyJWT < 2.10)."""
        with make_app(JWT_IDENTITY_AS_STRING=True, JWT_VERIFY_SUB=False).app_context():
            token = flask_jwtx.create_access_token(42)
        assert (claims_of(token)["sub"], claims_of(token)["jwtx_idt"]) == ("42", "int")

    def test_a_list_identity_is_logged_out_everywhere_by_revoke_all(self) -> None:
        """revoke_all on a dict identity finds its tokens, minted with the keys in any order."""
        app = make_app(JWT_IDENTITY_AS_STRING=True, JWT_REVOCATION_STORE="memory://")

        @app.get("/me")
        @flask_jwtx.jwt_required()
        def me() -> Any:
            return jsonify(identity=flask_jwtx.get_jwt_identity())

        client = app.test_client()
        revoked = testing.auth_headers(app, {"ns": "a", "key": "k"})
        other = testing.auth_headers(app, ["ns", "b"])
        with app.app_context():
            flask_jwtx.revoke_all({"key": "k", "ns": "a"})
        assert client.get("/me", headers=revoked).status_code == 401
        assert client.get("/me", headers=other).get_json() == {"identity": ["ns", "b"]}

    @pytest.mark.parametrize("text", ["[1,", "[" * 3000, "NaN-ish"])
    def test_an_unreadable_json_identity_is_given_back_as_its_text(self, text: str) -> None:
        """A 'json' marker on text that is not JSON yields the text, never a 500."""
        app = make_app(JWT_IDENTITY_AS_STRING=True)

        @app.get("/me")
        @flask_jwtx.jwt_required()
        def me() -> Any:
            return jsonify(identity=flask_jwtx.get_jwt_identity())

        with app.app_context():
            token = flask_jwtx.create_access_token(text, additional_claims={"jwtx_idt": "json"})
        response = app.test_client().get("/me", headers=testing.auth_headers(app, token=token))
        assert (response.status_code, response.get_json()) == (200, {"identity": text})

    @pytest.mark.parametrize("identity", [{1, 2}, ["id", object()], {"when": object()}])
    def test_identity_as_string_still_refuses_what_json_cannot_write(self, identity: Any) -> None:
        """A set, or a list holding an object JSON has no form for, is refused at creation."""
        with make_app(JWT_IDENTITY_AS_STRING=True).app_context(), pytest.raises(exc.IdentityError):
            flask_jwtx.create_access_token(identity)

    def test_verify_sub_off_keeps_any_identity(self) -> None:
        """With JWT_VERIFY_SUB off and no opt-in, the identity goes in as it is."""
        with make_app(JWT_VERIFY_SUB=False).app_context():
            token = flask_jwtx.create_access_token(42)
            assert flask_jwtx.decode_token(token)["sub"] == 42

    def test_tuple_identities_are_not_mistaken_for_anything_else(self) -> None:
        with make_app(JWT_VERIFY_SUB=False).app_context():
            token = flask_jwtx.create_access_token(("a", "b"))
            claims = flask_jwtx.decode_token(token)
        assert claims["sub"] == ["a", "b"]
        assert "jwtx_idt" not in claims

    def test_custom_identity_claim_takes_any_json_value(self) -> None:
        with make_app(JWT_IDENTITY_CLAIM="uid").app_context():
            assert flask_jwtx.decode_token(flask_jwtx.create_access_token(7))["uid"] == 7


class TestDecodeHelpers:
    def test_decode_token(self, ctx: Flask) -> None:
        assert flask_jwtx.decode_token(flask_jwtx.create_access_token("a"))["sub"] == "a"

    def test_decode_token_allow_expired(self, ctx: Flask) -> None:
        token = flask_jwtx.create_access_token("a", expires_delta=timedelta(seconds=-5))
        with pytest.raises(exc.ExpiredSignatureError):
            flask_jwtx.decode_token(token)
        assert flask_jwtx.decode_token(token, allow_expired=True)["sub"] == "a"

    def test_decode_token_checks_csrf_value(self, ctx: Flask) -> None:
        token = flask_jwtx.create_access_token("a")
        csrf = flask_jwtx.get_csrf_token(token)
        assert flask_jwtx.decode_token(token, csrf_value=csrf)["csrf"] == csrf
        with pytest.raises(exc.CSRFError):
            flask_jwtx.decode_token(token, csrf_value="wrong")

    def test_get_jti(self, ctx: Flask) -> None:
        token = flask_jwtx.create_access_token("a")
        assert flask_jwtx.get_jti(token) == claims_of(token)["jti"]

    def test_get_unverified_jwt_headers_does_not_verify(self, ctx: Flask) -> None:
        forged = jwt.encode(
            {"sub": "x"}, "some-other-secret-of-enough-length-xxxx", headers={"kid": "k9"}
        )
        assert flask_jwtx.get_unverified_jwt_headers(forged)["kid"] == "k9"

    def test_decode_key_loader_sees_unverified_header_and_claims(self, app: Flask) -> None:
        seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

        def loader(header: dict[str, Any], claims: dict[str, Any]) -> str:
            seen.append((header, claims))
            return SECRET

        app.extensions["flask-jwtx"].manager.decode_key_loader(loader)
        with app.app_context():
            flask_jwtx.decode_token(flask_jwtx.create_access_token("a"))
        assert seen[0][0]["alg"] == "HS256"
        assert seen[0][1]["sub"] == "a"

    def test_encode_key_loader_per_identity(self, app: Flask) -> None:
        keys = {"a": SECRET, "b": SECRET[::-1]}
        manager = app.extensions["flask-jwtx"].manager
        manager.encode_key_loader(lambda identity: keys[identity])
        manager.decode_key_loader(lambda header, claims: keys[claims["sub"]])
        with app.app_context():
            token_b = flask_jwtx.create_access_token("b")
            assert flask_jwtx.decode_token(token_b)["sub"] == "b"
            with pytest.raises(jwt.InvalidSignatureError):
                jwt.decode(token_b, SECRET, algorithms=["HS256"])


ALGORITHM_KEYS: dict[str, tuple[str, str] | None] = {
    "HS256": None,
    "HS384": None,
    "HS512": None,
    "RS256": ("rsa_private.pem", "rsa_public.pem"),
    "PS512": ("rsa_private.pem", "rsa_public.pem"),
    "ES256": ("ec256_private.pem", "ec256_public.pem"),
    "ES384": ("ec384_private.pem", "ec384_public.pem"),
    "EdDSA": ("ed25519_private.pem", "ed25519_public.pem"),
}


@pytest.mark.parametrize("algorithm", algorithms(*sorted(ALGORITHM_KEYS)))
def test_every_algorithm_protects_a_route(algorithm: str) -> None:
    files = ALGORITHM_KEYS[algorithm]
    config: dict[str, Any] = {"JWT_ALGORITHM": algorithm}
    if files:
        config.update(JWT_PRIVATE_KEY=read_key(files[0]), JWT_PUBLIC_KEY=read_key(files[1]))
    app = make_app(**config)

    @app.get("/")
    @flask_jwtx.jwt_required()
    def index() -> Any:
        return jsonify(alg=flask_jwtx.get_jwt_header()["alg"])

    response = app.test_client().get("/", headers=testing.auth_headers(app, "a"))
    assert response.get_json() == {"alg": algorithm}


@needs_cryptography
def test_mixed_decode_algorithms_use_the_key_of_each_family() -> None:
    """HS256 signing plus RS256 accepted from a trusted issuer: each with its own key."""
    app = make_app(JWT_DECODE_ALGORITHMS=["RS256"], JWT_PUBLIC_KEY=read_key("rsa_public.pem"))
    foreign = jwt.encode({"sub": "svc"}, read_key("rsa_private.pem"), algorithm="RS256")
    with app.app_context():
        assert flask_jwtx.decode_token(foreign)["sub"] == "svc"
        assert flask_jwtx.decode_token(flask_jwtx.create_access_token("a"))["sub"] == "a"


@needs_cryptography
def test_an_allowed_algorithm_without_a_key_is_refused_not_crashed() -> None:
    app = make_app(JWT_DECODE_ALGORITHMS=["RS256"])
    foreign = jwt.encode({"sub": "svc"}, read_key("rsa_private.pem"), algorithm="RS256")
    with app.app_context(), pytest.raises(exc.InvalidAlgorithmError):
        flask_jwtx.decode_token(foreign)


class TestGetters:
    def test_getters_outside_a_protected_request(self, app: Flask) -> None:
        with app.test_request_context():
            for getter in (
                flask_jwtx.get_jwt,
                flask_jwtx.get_jwt_header,
                flask_jwtx.get_jwt_identity,
                flask_jwtx.get_current_user,
            ):
                with pytest.raises(RuntimeError, match="jwt_required"):
                    getter()
            assert flask_jwtx.get_jwt_request_location() is None

    def test_verify_jwt_in_request_returns_header_and_claims(self, app: Flask) -> None:
        with app.test_request_context(headers=testing.auth_headers(app, "a")):
            result = flask_jwtx.verify_jwt_in_request()
            assert result is not None
            header, claims = result
            assert (header["alg"], claims["sub"]) == ("HS256", "a")
            assert flask_jwtx.get_jwt_request_location() == "headers"

    def test_current_user_needs_a_user_lookup_loader(self, app: Flask) -> None:
        with app.test_request_context(headers=testing.auth_headers(app, "a")):
            flask_jwtx.verify_jwt_in_request()
            with pytest.raises(RuntimeError, match="user_lookup_loader"):
                flask_jwtx.get_current_user()

    def test_current_user_proxy_and_template_context(self) -> None:
        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY=SECRET)
        manager = flask_jwtx.JWTManager(app, add_context_processor=True)
        manager.user_lookup_loader(lambda header, claims: {"name": claims["sub"].title()})

        @app.get("/")
        @flask_jwtx.jwt_required()
        def index() -> str:
            assert flask_jwtx.current_user["name"] == "Ann"
            return render_template_string("{{ current_user.name }}")

        response = app.test_client().get("/", headers=testing.auth_headers(app, "ann"))
        assert response.get_data(as_text=True) == "Ann"

    def test_optional_without_token_gives_empty_state(self, app: Flask) -> None:
        with app.test_request_context():
            assert flask_jwtx.verify_jwt_in_request(optional=True) is None
            assert flask_jwtx.get_jwt() == {}
            assert flask_jwtx.get_jwt_header() == {}
            assert flask_jwtx.get_jwt_identity() is None
            assert flask_jwtx.get_current_user() is None


class TestDecorator:
    def test_keeps_the_view_name_and_docstring(self) -> None:
        @flask_jwtx.jwt_required()
        def view(user_id: int) -> str:
            """Doc."""
            return str(user_id)

        assert (view.__name__, view.__doc__) == ("view", "Doc.")

    def test_invalid_location_is_refused_when_the_route_is_declared(self) -> None:
        with pytest.raises(ValueError, match="'body' is not a valid token location"):
            flask_jwtx.jwt_required(locations=["body"])

    def test_async_views(self, app: Flask) -> None:
        @app.get("/async/<int:n>")
        @flask_jwtx.jwt_required()
        async def view(n: int) -> Any:
            return jsonify(n=n, sub=flask_jwtx.get_jwt_identity())

        client = app.test_client()
        assert client.get("/async/3").status_code == 401
        ok = client.get("/async/3", headers=testing.auth_headers(app, "a"))
        assert ok.get_json() == {"n": 3, "sub": "a"}


class TestErrors:
    def test_every_error_has_flask_jwt_extended_root(self) -> None:
        for name in exc.__all__:
            assert issubclass(getattr(exc, name), exc.JWTExtendedException), name

    def test_token_errors_are_also_pyjwt_errors(self) -> None:
        assert issubclass(exc.ExpiredSignatureError, jwt.ExpiredSignatureError)
        assert issubclass(exc.InvalidSignatureError, jwt.InvalidTokenError)
        assert issubclass(exc.DecodeError, jwt.DecodeError)

    def test_errors_outside_flask_jwtx_are_not_hijacked(self, app: Flask) -> None:
        """Unlike Flask-JWT-Extended, a PyJWT error raised by the app's own code is not ours."""
        app.config["TESTING"] = False

        @app.get("/own")
        def own() -> str:
            jwt.decode("not-a-token", "k", algorithms=["HS256"])
            return "unreachable"

        assert app.test_client().get("/own").status_code == 500

    def test_user_errorhandler_on_a_pyjwt_class_overrides_ours(self, app: Flask) -> None:
        @app.errorhandler(jwt.ExpiredSignatureError)
        def expired(_error: Exception) -> Any:
            return jsonify(custom=True), 419

        @app.get("/")
        @flask_jwtx.jwt_required()
        def index() -> str:
            return "ok"

        headers = testing.auth_headers(app, token=testing.expired_token(app, "a"))
        response = app.test_client().get("/", headers=headers)
        assert (response.status_code, response.get_json()) == (419, {"custom": True})

    @pytest.mark.parametrize(
        ("loader", "token_kwargs", "route_kwargs", "expected"),
        [
            ("expired_token_loader", {"expires_delta": timedelta(seconds=-1)}, {}, "expired"),
            ("invalid_token_loader", {"claims": {"type": "x"}}, {}, "invalid"),
            ("needs_fresh_token_loader", {}, {"fresh": True}, "needs_fresh"),
            ("unauthorized_loader", None, {}, "unauthorized"),
            ("revoked_token_loader", {"claims": {"revoked": True}}, {}, "revoked"),
            (
                "token_verification_failed_loader",
                {"claims": {"reject": True}},
                {},
                "verification_failed",
            ),
            (
                "user_lookup_error_loader",
                {"claims": {"ghost": True}},
                {},
                "user_lookup_error",
            ),
        ],
    )
    def test_response_loaders_are_used(
        self,
        loader: str,
        token_kwargs: dict[str, Any] | None,
        route_kwargs: dict[str, Any],
        expected: str,
    ) -> None:
        app = make_app()
        manager = app.extensions["flask-jwtx"].manager
        manager.token_in_blocklist_loader(lambda h, c: bool(c.get("revoked")))
        manager.token_verification_loader(lambda h, c: not c.get("reject"))
        manager.user_lookup_loader(lambda h, c: None if c.get("ghost") else "user")
        getattr(manager, loader)(lambda *args: (jsonify(by=expected, n=len(args)), 418))

        @app.get("/")
        @flask_jwtx.jwt_required(**route_kwargs)
        def index() -> str:
            return "ok"

        headers = {}
        if token_kwargs is not None:
            token = testing.access_token(app, "a", **token_kwargs)
            headers = testing.auth_headers(app, token=token)
        response = app.test_client().get("/", headers=headers)
        assert response.status_code == 418
        assert response.get_json()["by"] == expected


def test_cookie_helpers_take_max_age_and_domain(app: Flask) -> None:
    with app.test_request_context():
        response = jsonify()
        token = flask_jwtx.create_access_token("a")
        flask_jwtx.set_access_cookies(response, token, max_age=10, domain="api.example.org")
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 2
    for cookie in cookies:
        assert "Max-Age=10" in cookie
        assert "Domain=api.example.org" in cookie
    assert cookies[0].startswith(f"access_token_cookie={token};")
    assert "HttpOnly" in cookies[0]
    assert "HttpOnly" not in cookies[1]


@pytest.mark.parametrize("csrf_cookie_sent", [True, False], ids=["csrf-cookie", "no-csrf-cookie"])
def test_a_missing_csrf_header_answers_tersely_and_logs_what_was_expected(
    caplog: pytest.LogCaptureFixture, csrf_cookie_sent: bool
) -> None:
    """The client gets Flask-JWT-Extended's body; the debug log names the header and the cookie."""
    app = make_app(JWT_TOKEN_LOCATION=["cookies"], JWT_ACCESS_CSRF_HEADER_NAME="X-Csrf")

    @app.post("/me")
    @flask_jwtx.jwt_required()
    def me() -> Any:
        return jsonify(ok=True)

    client = app.test_client()
    with app.test_request_context():
        response = jsonify()
        flask_jwtx.set_access_cookies(response, flask_jwtx.create_access_token("a"))
    # Werkzeug < 2.3 (the minimum-versions job) names the server first.
    old_werkzeug = "server_name" in inspect.signature(client.set_cookie).parameters
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == "access_token_cookie" or csrf_cookie_sent:
            value = rest.split(";")[0]
            set_cookie: Any = client.set_cookie  # typed for the current Werkzeug only
            set_cookie(*(("localhost", name) if old_werkzeug else (name,)), value)
    with caplog.at_level("DEBUG", logger="flask_jwtx"):
        answer = client.post("/me")
    assert (answer.status_code, answer.get_json()) == (401, {"msg": "Missing CSRF token"})
    [line] = [
        r.getMessage() for r in caplog.records if r.levelname == "DEBUG" and r.name == "flask_jwtx"
    ]
    assert "'X-Csrf' header" in line
    assert "the 'csrf_access_token' cookie" in line
    assert "'csrf_token' form field" not in line, "JWT_CSRF_CHECK_FORM is off"
    assert ("was not sent" in line) is not csrf_cookie_sent


def test_a_jwt_key_deleted_from_config_falls_back_to_its_default(app: Flask) -> None:
    del app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    with app.app_context():
        claims = flask_jwtx.decode_token(flask_jwtx.create_access_token("a"))
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_every_loader_states_the_signature_it_is_called_with() -> None:
    """The API reference gives each loader's call, with the parameters the extension passes."""
    hints = typing.get_type_hints(Callbacks)
    loaders = [n for n in vars(flask_jwtx.JWTManager) if n.endswith("_loader")]
    assert len(loaders) == len(hints) == 18
    for name in loaders:
        doc = inspect.getdoc(getattr(flask_jwtx.JWTManager, name)) or ""
        stated = re.search(r"Signature: ``callback\(([^)]*)\) -> [^`]+``", doc)
        assert stated, f"{name} does not state its signature"
        documented = [p.strip() for p in stated.group(1).split(",") if p.strip()]
        hint = hints[name.removesuffix("_loader")]
        protocol = next(a for a in typing.get_args(hint) or (hint,) if a is not type(None))
        called_with = list(inspect.signature(protocol.__call__).parameters)[1:]  # after self
        assert documented == called_with, name
