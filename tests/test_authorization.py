"""Declarative authorization in the native API, and the current-token object."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

import flask_jwtx
import flask_jwtx._core.web.authorization
from flask_jwtx import current_token, jwt_required, route_var, testing

from .helpers import make_app


def token(app: Flask, identity: str = "alice", **claims: Any) -> str:
    return testing.access_token(app, identity, claims=claims)


def get(client: FlaskClient, path: str, encoded: str | None = None, **kw: Any) -> Any:
    headers = testing.auth_headers(client.application, token=encoded) if encoded else {}
    response = client.get(path, headers=headers, **kw)
    return response.status_code, response.get_json()


@pytest.fixture
def app() -> Flask:
    app = make_app()

    def ok(**view_args: Any) -> Any:
        return jsonify(ok=True, **view_args)

    def route(rule: str, **requirements: Any) -> None:
        endpoint = f"{rule}|{sorted(requirements)}"
        app.add_url_rule(rule, endpoint, jwt_required(**requirements)(ok))

    route("/literal", claims={"role": "admin"})
    route("/number", claims={"level": 3})
    route("/boolean", claims={"verified": True})
    route("/null", claims={"deleted": None})
    route("/nested", claims={"org": {"id": 7, "plan": {"tier": "pro"}}})
    route("/list", claims={"groups": ["staff", "ops"]})
    route("/users/<username>", claims={"sub": route_var("username")})
    route("/ids/<int:user_id>", claims={"uid": route_var("user_id")})
    route("/sub-ids/<int:user_id>", claims={"sub": route_var("user_id")})
    route("/literal-looks-like-var/<username>", claims={"sub": "username"})
    route("/scope", scope="reports:read reports:write")
    route("/scope-list", scope=["reports:read"])
    route("/scope-object", scope={"admin": True})
    route(
        "/owner/<username>",
        claims={"sub": route_var("username")},
        override={"roles": ["admin"]},
    )
    route("/override-only", override={"admin": True})
    route("/fresh-admin", fresh=True, claims={"role": "admin"})
    route("/optional-admin", optional=True, claims={"role": "admin"})
    app.add_url_rule(
        "/refresh-admin",
        "refresh_admin",
        jwt_required(refresh=True, claims={"role": "admin"})(ok),
    )
    return app


class TestClaims:
    @pytest.mark.parametrize(
        ("path", "good", "bad"),
        [
            ("/literal", {"role": "admin"}, {"role": "user"}),
            ("/number", {"level": 3}, {"level": 4}),
            ("/number", {"level": 3.0}, {"level": "3"}),
            ("/boolean", {"verified": True}, {"verified": 1}),
            ("/null", {"deleted": None}, {"deleted": False}),
            (
                "/nested",
                {"org": {"id": 7, "plan": {"tier": "pro"}, "x": 1}},
                {"org": {"id": 7, "plan": {"tier": "free"}}},
            ),
            ("/nested", {"org": {"id": 7, "plan": {"tier": "pro"}}}, {"org": {"id": 8}}),
            ("/nested", {"org": {"id": 7, "plan": {"tier": "pro"}}}, {"org": "7"}),
            ("/list", {"groups": ["ops", "x", "staff"]}, {"groups": ["staff"]}),
            ("/list", {"groups": ["staff", "ops"]}, {"groups": "staff ops"}),
        ],
    )
    def test_fixed_values(
        self, app: Flask, client: FlaskClient, path: str, good: dict[str, Any], bad: dict[str, Any]
    ) -> None:
        assert get(client, path, token(app, **good))[0] == 200
        status, body = get(client, path, token(app, **bad))
        assert status == 403
        name = next(iter(bad))
        assert body["msg"] in (
            f"Missing required claim: {name}",
            f"Claim does not match the requirement: {name}",
        )

    def test_missing_claim(self, app: Flask, client: FlaskClient) -> None:
        assert get(client, "/literal", token(app)) == (
            403,
            {"msg": "Missing required claim: role"},
        )

    def test_a_present_claim_that_differs_is_not_called_missing(
        self, app: Flask, client: FlaskClient
    ) -> None:
        assert get(client, "/literal", token(app, role="user")) == (
            403,
            {"msg": "Claim does not match the requirement: role"},
        )

    def test_the_message_never_echoes_token_values(self, app: Flask, client: FlaskClient) -> None:
        _, body = get(client, "/literal", token(app, role="s3cr3t-role"))
        assert "s3cr3t" not in str(body)

    def test_nested_requirements_check_every_key(self, app: Flask, client: FlaskClient) -> None:
        """Flask_PyJWT stops at the first nested dict; every key counts here."""
        forged = token(app, org={"id": 7, "plan": {"tier": "pro"}})
        assert get(client, "/nested", forged)[0] == 200
        only_plan = token(app, org={"plan": {"tier": "pro"}, "id": 8})
        assert get(client, "/nested", only_plan)[0] == 403


class TestRouteVariables:
    def test_claim_bound_to_url_variable(self, app: Flask, client: FlaskClient) -> None:
        alice = token(app, "alice")
        assert get(client, "/users/alice", alice) == (200, {"ok": True, "username": "alice"})
        assert get(client, "/users/bob", alice) == (
            403,
            {"msg": "Claim does not match the requirement: sub"},
        )

    def test_int_converter(self, app: Flask, client: FlaskClient) -> None:
        assert get(client, "/ids/5", token(app, uid=5))[0] == 200
        assert get(client, "/ids/5", token(app, uid=6))[0] == 403
        assert get(client, "/ids/5", token(app, uid=True))[0] == 403

    def test_int_url_variable_matches_string_subject(
        self, app: Flask, client: FlaskClient
    ) -> None:
        assert get(client, "/sub-ids/42", token(app, "42"))[0] == 200
        assert get(client, "/sub-ids/42", token(app, "420"))[0] == 403

    def test_a_literal_is_never_a_variable_name(self, app: Flask, client: FlaskClient) -> None:
        """claims={"sub": "username"} means the literal string, unlike Flask_PyJWT."""
        assert get(client, "/literal-looks-like-var/alice", token(app, "alice"))[0] == 403
        assert get(client, "/literal-looks-like-var/alice", token(app, "username"))[0] == 200

    def test_unknown_variable_is_a_server_error_naming_it(self) -> None:
        app = make_app()

        @app.get("/things/<thing_id>")
        @jwt_required(claims={"sub": route_var("user_id")})
        def things(thing_id: str) -> str:
            return thing_id

        with pytest.raises(flask_jwtx.exceptions.ConfigurationError, match="'user_id'"):
            app.test_client().get("/things/1", headers=testing.auth_headers(app, "alice"))


class TestScopes:
    @pytest.mark.parametrize(
        "granted",
        [
            {"scope": "reports:read reports:write profile"},
            {"scope": ["reports:write", "reports:read"]},
            {"scp": ["reports:read", "reports:write"]},
            {"scope": "reports:read", "scp": "reports:write"},
        ],
    )
    def test_oauth_scopes_in_any_common_form(
        self, app: Flask, client: FlaskClient, granted: dict[str, Any]
    ) -> None:
        assert get(client, "/scope", token(app, **granted))[0] == 200

    def test_every_scope_is_needed(self, client: FlaskClient, jwtx: testing.JWTTestKit) -> None:
        status, body = get(client, "/scope", jwtx.access_token("alice", scopes=["reports:read"]))
        assert (status, body) == (403, {"msg": "Missing required scope: reports:write"})

    @pytest.mark.parametrize(
        "separator", ["\u00a0", "\t", "\n", "\u001f", "\u2003", "\u3000", "\x0b"]
    )
    def test_only_a_plain_space_separates_scopes(
        self, app: Flask, client: FlaskClient, separator: str
    ) -> None:
        """RFC 6749 section 3.3: "read<NBSP>admin" is one (invalid) scope, never "admin"."""
        smuggled = f"reports:read{separator}reports:write"
        assert get(client, "/scope", token(app, scope=smuggled))[0] == 403
        assert get(client, "/scope", token(app, scp=[smuggled]))[0] == 403
        assert (
            flask_jwtx._core.web.authorization.granted_scopes({"scope": smuggled}) == frozenset()
        )

    def test_scope_list_requirement(self, app: Flask, client: FlaskClient) -> None:
        assert get(client, "/scope-list", token(app, scp="reports:read"))[0] == 200
        assert get(client, "/scope-list", token(app))[0] == 403

    def test_object_scope_as_flask_pyjwt_stores_it(self, app: Flask, client: FlaskClient) -> None:
        assert get(client, "/scope-object", token(app, scope={"admin": True}))[0] == 200
        assert get(client, "/scope-object", token(app, scope={"admin": False}))[0] == 403
        assert get(client, "/scope-object", token(app, scope="admin"))[0] == 403


class TestOverride:
    def test_override_lifts_the_other_requirements(self, app: Flask, client: FlaskClient) -> None:
        admin = token(app, "root", roles=["admin", "x"])
        assert get(client, "/owner/alice", admin)[0] == 200
        assert get(client, "/owner/alice", token(app, "alice"))[0] == 200
        assert get(client, "/owner/alice", token(app, "bob", roles=["user"]))[0] == 403

    def test_override_alone(self, app: Flask, client: FlaskClient) -> None:
        assert get(client, "/override-only", token(app, admin=True))[0] == 200
        assert get(client, "/override-only", token(app))[0] == 200

    def test_override_does_not_lift_token_checks(self, app: Flask, client: FlaskClient) -> None:
        refresh = testing.refresh_token(app, "root", claims={"roles": ["admin"]})
        assert get(client, "/owner/alice", refresh)[0] == 422


class TestCombinations:
    def test_fresh_is_checked_before_claims(self, app: Flask, client: FlaskClient) -> None:
        assert get(client, "/fresh-admin", token(app, role="user"))[0] == 401
        fresh_user = testing.fresh_token(app, "a", claims={"role": "user"})
        fresh_admin = testing.access_token(
            app, "a", fresh=timedelta(minutes=1), claims={"role": "admin"}
        )
        assert get(client, "/fresh-admin", fresh_user)[0] == 403
        assert get(client, "/fresh-admin", fresh_admin)[0] == 200

    def test_refresh_tokens(self, app: Flask, client: FlaskClient) -> None:
        admin = testing.refresh_token(app, "a", claims={"role": "admin"})
        user = testing.refresh_token(app, "a", claims={"role": "user"})
        assert get(client, "/refresh-admin", admin)[0] == 200
        assert get(client, "/refresh-admin", user)[0] == 403

    def test_optional_without_token_passes_with_token_must_comply(
        self, app: Flask, client: FlaskClient
    ) -> None:
        assert get(client, "/optional-admin")[0] == 200
        assert get(client, "/optional-admin", token(app, role="user"))[0] == 403
        assert get(client, "/optional-admin", token(app, role="admin"))[0] == 200

    def test_cookie_location(self) -> None:
        app = make_app(JWT_TOKEN_LOCATION=["cookies"])

        @app.get("/me/<username>")
        @jwt_required(claims={"sub": route_var("username")})
        def me(username: str) -> str:
            return username

        client = app.test_client()
        testing.login(client, "alice")
        assert client.get("/me/alice").status_code == 200
        assert client.get("/me/bob").status_code == 403

    def test_verify_jwt_in_request_takes_requirements(self, app: Flask) -> None:
        with (
            app.test_request_context(headers=testing.auth_headers(app, "alice")),
            pytest.raises(flask_jwtx.AuthorizationError, match="role"),
        ):
            flask_jwtx.verify_jwt_in_request(claims={"role": "admin"})


class TestDeclarationErrors:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"claims": ["role"]}, "mapping"),
            ({"claims": {"when": object()}}, "not a JSON value"),
            ({"claims": {1: "x"}}, "claim names must be strings"),
            ({"scope": ""}, "scope must be"),
            ({"scope": ["a b"]}, "scope must be"),
            ({"scope": "read\u00a0admin"}, "scope must be"),
            ({"scope": ["caf\u00e9"]}, "scope must be"),
            ({"override": "admin"}, "mapping"),
        ],
    )
    def test_bad_requirements_fail_when_declared(
        self, kwargs: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(TypeError, match=message):
            jwt_required(**kwargs)

    def test_route_var_needs_a_name(self) -> None:
        with pytest.raises(TypeError):
            route_var("")


def test_authorization_failures_go_through_a_loader() -> None:
    app = make_app()
    manager: flask_jwtx.JWTManager = app.extensions["flask-jwtx"].manager

    @manager.authorization_failed_loader
    def denied(_header: dict[str, Any], claims: dict[str, Any], reason: str) -> Any:
        return jsonify(denied=reason, who=claims["sub"]), 404

    @app.get("/admin")
    @jwt_required(claims={"role": "admin"})
    def admin() -> str:
        return "ok"

    response = app.test_client().get("/admin", headers=testing.auth_headers(app, "alice"))
    assert response.status_code == 404
    assert response.get_json() == {"denied": "Missing required claim: role", "who": "alice"}


class TestCurrentToken:
    def test_attributes(self) -> None:
        app = make_app(JWT_TOKEN_LOCATION=["headers", "query_string"])

        @app.get("/info")
        @jwt_required()
        def info() -> Any:
            return jsonify(
                type=current_token.token_type,
                sub=current_token.sub,
                identity=current_token.identity,
                scope=current_token.scope,
                scopes=sorted(current_token.scopes),
                role=current_token.claims["role"],
                alg=current_token.header["alg"],
                signed=current_token.signed,
                is_signed=current_token.is_signed(),
                jti=current_token.jti,
                fresh=current_token.fresh,
                location=current_token.location,
            )

        encoded = token(app, scope="a b", role="r")
        body = app.test_client().get(f"/info?jwt={encoded}").get_json()
        with app.app_context():
            jti = flask_jwtx.get_jti(encoded)
        assert body == {
            "type": "access",
            "sub": "alice",
            "identity": "alice",
            "scope": "a b",
            "scopes": ["a", "b"],
            "role": "r",
            "alg": "HS256",
            "signed": encoded,
            "is_signed": True,
            "jti": jti,
            "fresh": False,
            "location": "query_string",
        }

    def test_optional_miss(self, app: Flask) -> None:
        with app.test_request_context():
            flask_jwtx.verify_jwt_in_request(optional=True)
            assert current_token.is_signed() is False
            assert current_token.claims == {}
            assert current_token.token_type is None

    def test_outside_a_protected_request(self, app: Flask) -> None:
        with app.test_request_context(), pytest.raises(RuntimeError, match="jwt_required"):
            _ = current_token.claims


def test_rfc_9068_role_lists_work_in_claims_and_override() -> None:
    """``roles``/``groups`` lists: ``claims=`` needs every listed value, ``override=`` lifts."""
    app = make_app()

    @app.get("/orders/admin")
    @jwt_required(claims={"roles": ["orders:admin"]}, override={"groups": ["support"]})
    def orders_admin() -> Any:
        return jsonify(ok=True)

    client = app.test_client()

    def status(**claims: Any) -> int:
        headers = testing.auth_headers(app, "alice", claims=claims)
        return client.get("/orders/admin", headers=headers).status_code

    assert status(roles=["orders:read", "orders:admin"]) == 200
    assert status(roles=["orders:read"]) == 403
    assert status(roles="orders:admin") == 403  # a string is not the list RFC 9068 defines
    assert status(roles=[], groups=["staff", "support"]) == 200
    assert status(groups=["staff"]) == 403
