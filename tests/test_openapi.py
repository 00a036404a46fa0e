"""APIFlask, flask-smorest and Flask-RESTX documents show what ``jwt_required`` declares.

Each framework's app declares the same routes (a plain protected route, a
fresh one, scopes, optional, a refresh route, a claim bound to the URL, a
public one). The document is fetched from the framework's own spec endpoint,
validated with openapi-spec-validator, and read operation by operation. The
routes still enforce what the document says.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import apiflask
import flask_restx
import flask_smorest
import pytest
from flask import Flask
from flask.views import MethodView
from openapi_spec_validator import validate

import flask_jwtx
from flask_jwtx import create_access_token, create_refresh_token, jwt_required, route_var
from flask_jwtx._core.web.authorization import RouteRequirement, declared_requirements
from flask_jwtx.exceptions import ConfigurationError
from flask_jwtx.openapi import Operation, annotate, document, rule_path, security_schemes

from .helpers import SECRET, bearer

BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
PROTECTED = [
    ("/items", "get"),
    ("/items", "post"),
    ("/reports/{report_id}", "get"),
    ("/feed", "get"),
    ("/token/refresh", "post"),
    ("/users/{username}", "get"),
]


def configure(app: Flask, config: dict[str, Any]) -> None:
    app.config.update(JWT_SECRET_KEY=SECRET)
    app.config.update(config)
    flask_jwtx.JWTManager(app)


def apiflask_app(**config: Any) -> Flask:
    app = apiflask.APIFlask(__name__)
    configure(app, config)

    @app.get("/items")
    @jwt_required()
    def list_items() -> Any:
        return {"items": []}

    @app.post("/items")
    @jwt_required(fresh=True)
    def add_item() -> Any:
        return {}

    @app.get("/reports/<int:report_id>")
    @jwt_required(scope="reports:read reports:export")
    def report(report_id: int) -> Any:
        return {"id": report_id}

    @app.get("/feed")
    @jwt_required(optional=True)
    def feed() -> Any:
        return {"personal": flask_jwtx.get_jwt_identity() is not None}

    @app.post("/token/refresh")
    @jwt_required(refresh=True)
    def refresh() -> Any:
        return {}

    @app.get("/users/<username>")
    @jwt_required(claims={"sub": route_var("username")})
    def user(username: str) -> Any:
        return {"name": username}

    @app.get("/public")
    def public() -> Any:
        return {}

    document(app)
    return app


def smorest_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        API_TITLE="smorest", API_VERSION="1", OPENAPI_VERSION="3.0.3", OPENAPI_URL_PREFIX="/"
    )
    configure(app, config)
    api = flask_smorest.Api(app)
    app.extensions["test-api"] = api
    document(api)
    blp = flask_smorest.Blueprint("shop", __name__)

    @blp.route("/items")
    class Items(MethodView):
        @jwt_required()
        def get(self) -> Any:
            return {"items": []}

        @jwt_required(fresh=True)
        def post(self) -> Any:
            return {}

    @blp.route("/reports/<int:report_id>")
    class Report(MethodView):
        @jwt_required(scope=["reports:read", "reports:export"])
        def get(self, report_id: int) -> Any:
            return {"id": report_id}

    @blp.route("/feed")
    class Feed(MethodView):
        @jwt_required(optional=True)
        def get(self) -> Any:
            return {"personal": flask_jwtx.get_jwt_identity() is not None}

    @blp.route("/token/refresh")
    class Refresh(MethodView):
        decorators: ClassVar[list[Callable[..., Any]]] = [
            jwt_required(refresh=True)
        ]  # on the class: every method

        def post(self) -> Any:
            return {}

    @blp.route("/users/<username>")
    class User(MethodView):
        @jwt_required(claims={"sub": route_var("username")})
        def get(self, username: str) -> Any:
            return {"name": username}

    @blp.route("/public")
    class Public(MethodView):
        def get(self) -> Any:
            return {}

    api.register_blueprint(blp)
    return app


def restx_app(**config: Any) -> Flask:
    app = Flask(__name__)
    configure(app, config)
    api = flask_restx.Api(app)
    app.extensions["test-api"] = api
    document(api)

    @api.route("/items")
    class Items(flask_restx.Resource):
        @jwt_required()
        def get(self) -> Any:
            return {"items": []}

        @jwt_required(fresh=True)
        def post(self) -> Any:
            return {}

    @api.route("/reports/<int:report_id>")
    class Report(flask_restx.Resource):
        method_decorators = (jwt_required(scope="reports:read reports:export"),)

        def get(self, report_id: int) -> Any:
            return {"id": report_id}

    @api.route("/feed")
    class Feed(flask_restx.Resource):
        method_decorators = (jwt_required(optional=True),)

        def get(self) -> Any:
            return {"personal": flask_jwtx.get_jwt_identity() is not None}

    @api.route("/token/refresh")
    class Refresh(flask_restx.Resource):
        @jwt_required(refresh=True)
        def post(self) -> Any:
            return {}

    @api.route("/users/<username>")
    class User(flask_restx.Resource):
        @jwt_required(claims={"sub": route_var("username")})
        def get(self, username: str) -> Any:
            return {"name": username}

    @api.route("/public")
    class Public(flask_restx.Resource):
        def get(self) -> Any:
            return {}

    return app


BUILDERS = {"apiflask": apiflask_app, "smorest": smorest_app, "restx": restx_app}
SPEC_URLS = {"apiflask": "/openapi.json", "smorest": "/openapi.json", "restx": "/swagger.json"}


def fetch(
    framework: str, app: Flask, url: str | None = None, token: str | None = None
) -> dict[str, Any]:
    """The document from the framework's own endpoint, validated."""
    headers = bearer(token) if token else {}
    response = app.test_client().get(url or SPEC_URLS[framework], headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    spec: dict[str, Any] = response.get_json()
    validate(spec)
    return spec


def spec_of(framework: str, **config: Any) -> dict[str, Any]:
    return fetch(framework, BUILDERS[framework](**config))


def schemes(spec: dict[str, Any]) -> dict[str, Any]:
    if "swagger" in spec:
        return dict(spec["securityDefinitions"])
    return dict(spec["components"]["securitySchemes"])


def operation(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["paths"][path][method]
    return found


def error_schema(spec: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = (
        spec["definitions"]["JWTError"]
        if "swagger" in spec
        else spec["components"]["schemas"]["JWTError"]
    )
    return found


FRAMEWORKS = pytest.mark.parametrize("framework", list(BUILDERS))


@FRAMEWORKS
def test_every_protected_operation_requires_the_bearer_token(framework: str) -> None:
    spec = spec_of(framework)
    for path, method in PROTECTED:
        security = operation(spec, path, method)["security"]
        assert list(security[0]) == ["jwt_header"], (path, method)
    assert "security" not in operation(spec, "/public", "get")


@FRAMEWORKS
def test_the_header_scheme_is_registered_once(framework: str) -> None:
    registered = schemes(spec_of(framework))
    assert list(registered) == ["jwt_header"]
    scheme = registered["jwt_header"]
    if framework == "restx":  # Swagger 2.0 has no bearer scheme: the header as an API key
        assert scheme["type"] == "apiKey"
        assert (scheme["in"], scheme["name"]) == ("header", "Authorization")
        assert "Bearer <JWT>" in scheme["description"]
    else:
        assert {k: scheme[k] for k in BEARER} == BEARER


@FRAMEWORKS
def test_protected_operations_document_401_and_422_with_the_error_body(framework: str) -> None:
    spec = spec_of(framework)
    for path, method in PROTECTED:
        responses = operation(spec, path, method)["responses"]
        assert {"401", "422"} <= set(responses), (path, method)
        if "swagger" in spec:
            assert responses["401"]["schema"] == {"$ref": "#/definitions/JWTError"}
        else:
            body = responses["401"]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/JWTError"}
    assert error_schema(spec)["required"] == ["msg"]
    public = operation(spec, "/public", "get")["responses"]
    assert "401" not in public


@FRAMEWORKS
def test_403_is_documented_only_where_the_route_declares_authorization(framework: str) -> None:
    spec = spec_of(framework)
    refusing = {("/reports/{report_id}", "get"), ("/users/{username}", "get")}
    for path, method in PROTECTED:
        assert ("403" in operation(spec, path, method)["responses"]) == (
            (path, method) in refusing
        ), (path, method)


@FRAMEWORKS
def test_an_optional_route_also_accepts_no_security(framework: str) -> None:
    feed = operation(spec_of(framework), "/feed", "get")  # no scopes: [] in every version
    assert feed["security"] == [{"jwt_header": []}, {}]
    assert feed["x-jwt"]["optional"] is True


@FRAMEWORKS
def test_scopes_are_listed_where_openapi_3_0_and_swagger_2_allow(framework: str) -> None:
    spec = spec_of(framework, OPENAPI_VERSION="3.0.3")  # APIFlask's default is 3.1.0
    report = operation(spec, "/reports/{report_id}", "get")
    # 3.0 and 2.0: the list is reserved to OAuth 2 / OpenID Connect, so it stays empty
    assert report["security"] == [{"jwt_header": []}]
    assert report["x-required-scopes"] == ["reports:read", "reports:export"]
    assert "`reports:read`, `reports:export`" in report["description"]
    assert report["x-jwt"]["scopes"] == ["reports:read", "reports:export"]


@pytest.mark.parametrize("framework", ["apiflask", "smorest"])
def test_openapi_3_1_lists_the_scopes_as_role_names(framework: str) -> None:
    spec = spec_of(framework, OPENAPI_VERSION="3.1.0")  # APIFlask's default
    assert spec["openapi"] == "3.1.0"
    report = operation(spec, "/reports/{report_id}", "get")
    assert report["security"] == [{"jwt_header": ["reports:read", "reports:export"]}]
    assert operation(spec, "/items", "get")["security"] == [{"jwt_header": []}]


def test_openapi_3_1_puts_the_scopes_on_the_token_schemes_not_on_the_csrf_header() -> None:
    """The CSRF value next to a cookie grants no scope: its list stays empty."""
    app = Flask(__name__)
    configure(app, {"JWT_TOKEN_LOCATION": ["headers", "cookies"]})

    @app.post("/reports")
    @jwt_required(scope="reports:write")
    def write_report() -> str:
        return "ok"

    settings = app.extensions["flask-jwtx"].settings.get()
    base: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "hand-made", "version": "1"},
        "paths": {"/reports": {"post": {"responses": {"200": {"description": "ok"}}}}},
    }
    spec = annotate(base, flask_jwtx.openapi.rule_operations(app), settings)
    validate(spec)
    assert operation(spec, "/reports", "post")["security"] == [
        {"jwt_header": ["reports:write"]},
        {"jwt_cookie": ["reports:write"], "jwt_csrf": []},
    ]


@FRAMEWORKS
def test_fresh_refresh_and_claims_are_described(framework: str) -> None:
    spec = spec_of(framework)
    fresh = operation(spec, "/items", "post")
    assert fresh["x-jwt"]["fresh"] is True
    assert "not fresh" in fresh["responses"]["401"]["description"]
    assert fresh["description"].startswith("Requires a fresh access token")
    refresh = operation(spec, "/token/refresh", "post")
    assert refresh["x-jwt"]["token"] == "refresh"
    assert refresh["description"] == (
        "Requires a refresh token (JWT) in the `Authorization` header."
    )
    user = operation(spec, "/users/{username}", "get")
    assert user["x-jwt"]["claims"] == ["sub"]  # the claim's name, never its required value
    assert "x-required-scopes" not in user


@FRAMEWORKS
def test_cookie_mode_documents_the_cookie_and_the_csrf_header_for_unsafe_methods(
    framework: str,
) -> None:
    spec = spec_of(framework, JWT_TOKEN_LOCATION=["headers", "cookies"])
    registered = schemes(spec)
    assert set(registered) == {
        "jwt_header",
        "jwt_cookie",
        "jwt_csrf",
        "jwt_refresh_cookie",
        "jwt_refresh_csrf",
    }
    csrf = registered["jwt_csrf"]
    assert (csrf["type"], csrf["in"], csrf["name"]) == ("apiKey", "header", "X-CSRF-TOKEN")
    # The same header on refresh routes, but the value of the refresh token's CSRF cookie.
    refresh_csrf = registered["jwt_refresh_csrf"]
    assert refresh_csrf["name"] == "X-CSRF-TOKEN"
    assert "`csrf_refresh_token` cookie" in refresh_csrf["description"]
    assert "csrf_access_token" not in refresh_csrf["description"]
    assert "`csrf_access_token` cookie" in csrf["description"]
    cookie = registered["jwt_cookie"]
    if framework == "restx":  # Swagger 2.0: the cookie travels in the Cookie header
        assert (cookie["in"], cookie["name"]) == ("header", "Cookie")
        assert "access_token_cookie" in cookie["description"]
    else:
        assert (cookie["type"], cookie["in"], cookie["name"]) == (
            "apiKey",
            "cookie",
            "access_token_cookie",
        )
        assert registered["jwt_refresh_cookie"]["name"] == "refresh_token_cookie"
    assert operation(spec, "/items", "get")["security"] == [
        {"jwt_header": []},
        {"jwt_cookie": []},
    ]
    assert operation(spec, "/items", "post")["security"] == [
        {"jwt_header": []},
        {"jwt_cookie": [], "jwt_csrf": []},
    ]
    assert operation(spec, "/token/refresh", "post")["security"] == [
        {"jwt_header": []},
        {"jwt_refresh_cookie": [], "jwt_refresh_csrf": []},
    ]
    assert "CSRF" in operation(spec, "/items", "post")["responses"]["401"]["description"]


def test_without_csrf_protection_the_cookie_alone_is_required() -> None:
    spec = spec_of("apiflask", JWT_TOKEN_LOCATION="cookies", JWT_COOKIE_CSRF_PROTECT=False)
    assert set(schemes(spec)) == {"jwt_cookie", "jwt_refresh_cookie"}
    assert operation(spec, "/items", "post")["security"] == [{"jwt_cookie": []}]


def test_csrf_names_and_form_field_follow_the_settings() -> None:
    spec = spec_of(
        "smorest",
        JWT_TOKEN_LOCATION="cookies",
        JWT_ACCESS_CSRF_HEADER_NAME="X-Access-CSRF",
        JWT_REFRESH_CSRF_HEADER_NAME="X-Refresh-CSRF",
        JWT_CSRF_IN_COOKIES=False,
        JWT_CSRF_CHECK_FORM=True,
    )
    registered = schemes(spec)
    assert registered["jwt_csrf"]["name"] == "X-Access-CSRF"
    assert registered["jwt_refresh_csrf"]["name"] == "X-Refresh-CSRF"
    assert "csrf_token" in registered["jwt_csrf"]["description"]
    assert "get_csrf_token" in registered["jwt_csrf"]["description"]
    assert operation(spec, "/token/refresh", "post")["security"] == [
        {"jwt_refresh_cookie": [], "jwt_refresh_csrf": []}
    ]


@FRAMEWORKS
def test_query_string_and_json_locations(framework: str) -> None:
    spec = spec_of(
        framework,
        JWT_TOKEN_LOCATION=["query_string", "json"],
        JWT_QUERY_STRING_NAME="token",
        JWT_QUERY_STRING_VALUE_PREFIX="Bearer ",
    )
    assert schemes(spec) == {
        "jwt_query": {
            "type": "apiKey",
            "in": "query",
            "name": "token",
            "description": "`Bearer <JWT>` in the query string.",
        }
    }
    items = operation(spec, "/items", "get")
    # A token in the JSON body has no OpenAPI scheme: named in x-jwt and the description.
    assert items["security"] == [{"jwt_query": []}]
    assert items["x-jwt"]["locations"] == ["query_string", "json"]
    assert items["description"] == (
        "Requires an access token (JWT) in the `token` query parameter "
        "or the `access_token` key of the JSON body."
    )


def test_another_header_name_or_type_is_an_api_key_header() -> None:
    registered = schemes(spec_of("apiflask", JWT_HEADER_NAME="X-Token", JWT_HEADER_TYPE=""))
    assert registered["jwt_header"]["type"] == "apiKey"
    assert (registered["jwt_header"]["in"], registered["jwt_header"]["name"]) == (
        "header",
        "X-Token",
    )
    assert "`X-Token: <JWT>`" in registered["jwt_header"]["description"]
    typed = schemes(spec_of("smorest", JWT_HEADER_TYPE="JWT"))["jwt_header"]
    assert typed["type"] == "apiKey"
    assert "`Authorization: JWT <JWT>`" in typed["description"]


@FRAMEWORKS
def test_the_error_body_uses_the_configured_message_key(framework: str) -> None:
    app = BUILDERS[framework](JWT_ERROR_MESSAGE_KEY="error")
    spec = fetch(framework, app)
    assert error_schema(spec) == {
        "type": "object",
        "properties": {"error": {"type": "string", "description": "What was wrong."}},
        "required": ["error"],
    }
    answer = app.test_client().get("/items")
    assert answer.status_code == 401
    assert answer.get_json() == {"error": "Missing Authorization Header"}


@FRAMEWORKS
def test_the_documented_routes_still_enforce(framework: str) -> None:
    app = BUILDERS[framework]()
    fetch(framework, app)  # documenting changes nothing about the requests
    client = app.test_client()
    with app.app_context():
        access = create_access_token("alice", additional_claims={"scope": "reports:read"})
        refresh = create_refresh_token("alice")
    headers = bearer(access)
    for path in ("/items", "/reports/7", "/users/alice"):
        answer = client.get(path)
        assert answer.status_code == 401, path
        assert answer.get_json() == {"msg": "Missing Authorization Header"}
    assert client.get("/items", headers=headers).status_code == 200
    assert client.get("/users/alice", headers=headers).status_code == 200
    assert client.get("/users/bob", headers=headers).status_code == 403
    assert client.get("/reports/7", headers=headers).get_json() == {
        "msg": "Missing required scope: reports:export"
    }
    assert client.post("/items", headers=headers).status_code == 401  # not fresh
    assert client.post("/token/refresh", headers=headers).status_code == 422  # wrong type
    refreshed = client.post("/token/refresh", headers=bearer(refresh))
    assert refreshed.status_code == 200
    assert client.get("/feed").get_json() == {"personal": False}
    assert client.get("/feed", headers=headers).get_json() == {"personal": True}
    assert client.get("/feed", headers={"Authorization": "Bearer x.y"}).status_code == 422


@FRAMEWORKS
def test_documenting_twice_changes_nothing(framework: str) -> None:
    app = BUILDERS[framework]()
    first = fetch(framework, app)
    document(app if framework == "apiflask" else app.extensions["test-api"])
    app.config["JWT_ERROR_MESSAGE_KEY"] = "msg"  # same value: nothing to rebuild
    assert fetch(framework, app) == first


def test_responses_the_route_documents_itself_are_kept() -> None:
    app = apiflask.APIFlask(__name__)
    configure(app, {})

    @app.get("/items")
    @app.doc(responses={401: "Log in first", 200: "The items"})
    @jwt_required()
    def items() -> Any:
        return {}

    document(app)
    responses = operation(fetch("apiflask", app), "/items", "get")["responses"]
    assert responses["401"]["description"] == "Log in first"
    assert "422" in responses


def test_the_apps_own_spec_processor_runs_first() -> None:
    app = apiflask.APIFlask(__name__)
    configure(app, {})

    @app.spec_processor
    def titled(spec: Any) -> Any:
        spec["info"]["title"] = "Shop"
        return spec

    @app.get("/items")
    @jwt_required()
    def items() -> Any:
        return {}

    document(app)
    spec = fetch("apiflask", app)
    assert spec["info"]["title"] == "Shop"
    assert operation(spec, "/items", "get")["security"] == [{"jwt_header": []}]


def test_apiflask_spec_processor_given_the_spec_object() -> None:
    app = apiflask.APIFlask(__name__)
    configure(app, {"SPEC_PROCESSOR_PASS_OBJECT": True})

    @app.get("/items")
    @jwt_required()
    def items() -> Any:
        return {}

    document(app)
    spec = fetch("apiflask", app)
    assert operation(spec, "/items", "get")["security"] == [{"jwt_header": []}]


def test_stacked_and_class_level_declarations_add_up() -> None:
    app = Flask(__name__)
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    app.config.update(OPENAPI_URL_PREFIX="/")
    configure(app, {})
    api = flask_smorest.Api(app)
    document(api)
    blp = flask_smorest.Blueprint("admin", __name__)

    @blp.route("/admin/reports")
    class Reports(MethodView):
        decorators: ClassVar[list[Callable[..., Any]]] = [jwt_required(claims={"role": "admin"})]

        @jwt_required(fresh=True, scope="reports:write")
        def post(self) -> Any:
            return {}

        def get(self) -> Any:
            return {}

    api.register_blueprint(blp)
    spec = fetch("smorest", app)
    post = operation(spec, "/admin/reports", "post")
    assert post["x-jwt"]["fresh"] is True
    assert post["x-jwt"]["claims"] == ["role"]
    assert post["x-required-scopes"] == ["reports:write"]
    get = operation(spec, "/admin/reports", "get")
    assert get["x-jwt"]["claims"] == ["role"]
    assert get["x-jwt"]["fresh"] is False


def test_restx_api_wide_decorators_and_namespaces() -> None:
    app = Flask(__name__)
    configure(app, {})
    api = flask_restx.Api(app, prefix="/v1", decorators=[jwt_required(verify_type=False)])
    document(api)
    shop = flask_restx.Namespace("shop", path="/shop")

    @shop.route("/items/<int:item_id>")
    class Item(flask_restx.Resource):
        @jwt_required(scope={"shop": True})
        def delete(self, item_id: int) -> Any:
            return {}

    api.add_namespace(shop)
    # Api-wide decorators protect the Swagger endpoint too.
    assert app.test_client().get("/v1/swagger.json").status_code == 401
    with app.app_context():
        token = create_access_token("alice")
    spec = fetch("restx", app, "/v1/swagger.json", token)
    assert spec["basePath"] == "/v1"
    delete = operation(spec, "/shop/items/{item_id}", "delete")
    assert delete["x-jwt"]["token"] == "any"
    assert delete["x-jwt"]["claims"] == ["scope"]  # a scope object is matched as a claim
    assert "403" in delete["responses"]
    assert app.test_client().delete("/v1/shop/items/1").status_code == 401


def test_a_restx_api_not_documented_is_left_as_restx_makes_it() -> None:
    app = Flask(__name__)
    configure(app, {})
    api = flask_restx.Api(app)

    @api.route("/items")
    class Items(flask_restx.Resource):
        @jwt_required()
        def get(self) -> Any:
            return {}

    spec = fetch("restx", app)
    assert "securityDefinitions" not in spec
    assert "security" not in operation(spec, "/items", "get")


def test_an_object_of_no_supported_framework_is_refused() -> None:
    with pytest.raises(TypeError, match=r"flask_smorest\.Api \(pip install flask-smorest\)"):
        document(Flask(__name__))


def test_a_smorest_api_without_its_app_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"after Api\(app\) or api.init_app\(app\)"):
        document(flask_smorest.Api())


def test_an_app_without_jwt_manager_fails_with_the_fix() -> None:
    app = apiflask.APIFlask(__name__)
    document(app)
    with pytest.raises(ConfigurationError, match=r"call JWTManager\(app\)"):
        app.spec  # noqa: B018 - generating the document is the point


def test_smorest_outside_an_app_context_says_where_to_generate() -> None:
    app = smorest_app()
    api = app.extensions["test-api"]
    with pytest.raises(ConfigurationError, match=r"inside app.app_context\(\)"):
        api.spec.to_dict()
    with app.app_context():
        validate(api.spec.to_dict())


def test_jwt_required_attaches_its_declaration() -> None:
    declare = jwt_required(optional=True, locations="cookies", scope="a b")

    def view() -> str:
        return "ok"

    async def async_view() -> str:
        return "ok"

    protected = declare(view)
    (requirement,) = declared_requirements(protected)
    assert requirement == declared_requirements(declare)[0]
    assert requirement.optional
    assert requirement.locations == ("cookies",)
    assert requirement.authorization is not None
    assert requirement.authorization.scopes == ("a", "b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        requirement.optional = False  # type: ignore[misc]
    assert declared_requirements(declare(async_view)) == (requirement,)
    assert asyncio.iscoroutinefunction(declare(async_view))
    outer = jwt_required(fresh=True)(protected)
    assert [r.fresh for r in declared_requirements(outer)] == [True, False]
    assert declared_requirements(view) == ()
    view.__jwt_requirements__ = "not ours"  # type: ignore[attr-defined]
    assert declared_requirements(view) == ()


def test_the_core_needs_no_framework() -> None:
    app = Flask(__name__)
    configure(app, {"JWT_TOKEN_LOCATION": ["headers"]})

    @app.get("/items")
    @jwt_required(scope="items:read")
    def item() -> str:
        return "ok"

    settings = app.extensions["flask-jwtx"].settings.get()
    base: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "hand-made", "version": "1"},
        "paths": {"/items": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    operations = list(flask_jwtx.openapi.rule_operations(app))
    assert operations == [
        Operation("/items", "get", declared_requirements(app.view_functions["item"]))
    ]
    spec = annotate(
        base, [*operations, Operation("/elsewhere", "get", operations[0].requirements)], settings
    )
    validate(spec)
    assert base["paths"]["/items"]["get"] == {
        "responses": {"200": {"description": "ok"}}
    }  # the input is left alone
    assert spec["paths"]["/items"]["get"]["security"] == [{"jwt_header": ["items:read"]}]
    assert security_schemes(settings)["jwt_header"]["scheme"] == "bearer"
    assert rule_path("/a/<path:rest>/<b>") == "/a/{rest}/{b}"
    with pytest.raises(ValueError, match=r"not an OpenAPI 3 or Swagger 2\.0 document"):
        annotate({"openapi": "2.0"}, operations, settings)
    assert RouteRequirement().locations is None
    body_only = Operation("/items", "get", (RouteRequirement(locations=("json",)),))
    only_json = annotate(base, [body_only], settings)["paths"]["/items"]["get"]
    assert "security" not in only_json  # "[]" would say the route is public
    assert only_json["x-jwt"]["locations"] == ["json"]
    assert "401" in only_json["responses"]


def test_flask_smorest_in_swagger_2_mode_gets_swagger_2_schemes() -> None:
    spec = spec_of("smorest", OPENAPI_VERSION="2.0", JWT_TOKEN_LOCATION=["headers", "cookies"])
    assert spec["swagger"] == "2.0"
    assert schemes(spec)["jwt_header"]["type"] == "apiKey"
    assert schemes(spec)["jwt_cookie"]["name"] == "Cookie"
    assert operation(spec, "/items", "post")["security"] == [
        {"jwt_header": []},
        {"jwt_cookie": [], "jwt_csrf": []},
    ]
    assert error_schema(spec)["required"] == ["msg"]
