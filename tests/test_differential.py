"""The same app on flask-jwtx and on the real Flask-JWT-Extended answers alike.

One factory builds an identical app on either library. Each scenario sends the
same request to both (tokens are minted by each app for itself; forged tokens
are byte-identical for both) and the status codes, JSON bodies and cookie
attributes must be equal. Deliberate differences are tested elsewhere and
listed in docs/differences.md.
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import flask_jwt_extended
import jwt
import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

import flask_jwtx

from .helpers import SECRET, bearer, needs_cryptography, read_key

LIBRARIES = {"ours": flask_jwtx, "Flask-JWT-Extended": flask_jwt_extended}
ALL_LOCATIONS = ["headers", "cookies", "query_string", "json"]


def build_app(lib: types.ModuleType, config: dict[str, Any]) -> Flask:
    app = Flask(f"diff_{lib.__name__}")
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)
    app.config.update(config)
    manager = lib.JWTManager(app)

    @manager.token_in_blocklist_loader
    def blocked(_header: dict[str, Any], claims: dict[str, Any]) -> bool:
        return bool(claims.get("revoked"))

    @manager.token_verification_loader
    def verify(_header: dict[str, Any], claims: dict[str, Any]) -> bool:
        return not claims.get("reject")

    @manager.user_lookup_loader
    def lookup(_header: dict[str, Any], claims: dict[str, Any]) -> Any:
        return None if claims[config.get("JWT_IDENTITY_CLAIM", "sub")] == "ghost" else "a-user"

    @app.post("/login")
    def login() -> Any:
        extra = {"role": "admin"}
        return jsonify(
            access=lib.create_access_token("alice", additional_claims=extra),
            fresh=lib.create_access_token("alice", fresh=True),
            short_fresh=lib.create_access_token("alice", fresh=timedelta(seconds=-10)),
            refresh=lib.create_refresh_token("alice"),
            revoked=lib.create_access_token("alice", additional_claims={"revoked": True}),
            rejected=lib.create_access_token("alice", additional_claims={"reject": True}),
            ghost=lib.create_access_token("ghost"),
            # Identities real apps pass (user.id, [namespace, keyname]): usable
            # where the installed PyJWT checks no 'sub' (before 2.10), refused
            # on use after, by both libraries alike.
            int_identity=lib.create_access_token(42),
            list_identity=lib.create_access_token(["tenant", "key"]),
        )

    @app.post("/cookie-login")
    def cookie_login() -> Any:
        response = jsonify(login=True)
        lib.set_access_cookies(response, lib.create_access_token("alice"))
        lib.set_refresh_cookies(response, lib.create_refresh_token("alice"), max_age=60)
        return response

    @app.post("/logout")
    def logout() -> Any:
        response = jsonify(logout=True)
        lib.unset_jwt_cookies(response)
        return response

    def describe() -> Any:
        return jsonify(
            id=lib.get_jwt_identity(),
            role=lib.get_jwt().get("role"),
            type=lib.get_jwt().get("type"),
            where=lib.get_jwt_request_location(),
            user=lib.get_current_user(),
            alg=lib.get_jwt_header().get("alg"),
        )

    app.add_url_rule(
        "/protected",
        "protected",
        lib.jwt_required()(describe),
        methods=["GET", "POST", "DELETE", "OPTIONS"],
    )
    app.add_url_rule("/optional", "optional", lib.jwt_required(optional=True)(describe))
    app.add_url_rule("/fresh", "fresh", lib.jwt_required(fresh=True)(describe))
    app.add_url_rule(
        "/refresh", "refresh", lib.jwt_required(refresh=True)(describe), methods=["POST"]
    )
    app.add_url_rule("/either", "either", lib.jwt_required(verify_type=False)(describe))
    app.add_url_rule(
        "/headers-only", "headers_only", lib.jwt_required(locations="headers")(describe)
    )
    app.add_url_rule(
        "/unchecked", "unchecked", lib.jwt_required(skip_revocation_check=True)(describe)
    )
    return app


def forge(
    claims: dict[str, Any] | None = None,
    key: str = SECRET,
    alg: str = "HS256",
    headers: dict[str, Any] | None = None,
    **override: Any,
) -> str:
    now = int(time.time())
    body: dict[str, Any] = {
        "sub": "alice",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "j1",
        "type": "access",
        "fresh": False,
    }
    body.update(claims or {})
    for name, value in override.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return jwt.encode(body, key, algorithm=alg, headers=headers)


def with_bearer(token: str) -> dict[str, Any]:
    """Test-client keyword arguments that send ``token`` as a bearer token."""
    return {"headers": bearer(token)}


Request = tuple[str, str, dict[str, Any]]
Scenario = Callable[[dict[str, str]], Request]

# PyJWT types the key as required, but "none" takes none.
UNSIGNED = jwt.encode({"sub": "alice"}, None, algorithm="none")  # type: ignore[arg-type]

HEADER_SCENARIOS: dict[str, Scenario] = {
    "valid access token": lambda t: ("GET", "/protected", with_bearer(t["access"])),
    "no token": lambda t: ("GET", "/protected", {}),
    "wrong header type": lambda t: (
        "GET",
        "/protected",
        {"headers": {"Authorization": f"Token {t['access']}"}},
    ),
    "bearer without token": lambda t: (
        "GET",
        "/protected",
        {"headers": {"Authorization": "Bearer"}},
    ),
    "bearer with two parts": lambda t: (
        "GET",
        "/protected",
        {"headers": {"Authorization": "Bearer a b"}},
    ),
    "two bearer credentials": lambda t: (
        "GET",
        "/protected",
        {"headers": {"Authorization": f"Bearer {t['access']}, Bearer {t['access']}"}},
    ),
    "bearer among other credentials": lambda t: (
        "GET",
        "/protected",
        {"headers": {"Authorization": f"Basic Zm9vOmJhcg==, Bearer {t['access']}"}},
    ),
    "garbage token": lambda t: ("GET", "/protected", with_bearer("garbage")),
    "one-char header segment": lambda t: ("GET", "/protected", with_bearer("a.b.c")),
    "bad signature": lambda t: ("GET", "/protected", with_bearer(t["access"][:-4] + "AAAA")),
    "other secret": lambda t: (
        "GET",
        "/protected",
        with_bearer(forge(key="another-secret-of-sufficient-length-xx")),
    ),
    "alg none": lambda t: ("GET", "/protected", with_bearer(UNSIGNED)),
    "disallowed algorithm": lambda t: ("GET", "/protected", with_bearer(forge(alg="HS512"))),
    "expired": lambda t: ("GET", "/protected", with_bearer(forge(exp=int(time.time()) - 30))),
    "not yet valid": lambda t: (
        "GET",
        "/protected",
        with_bearer(forge(nbf=int(time.time()) + 3600)),
    ),
    "missing identity claim": lambda t: ("GET", "/protected", with_bearer(forge(sub=None))),
    "integer subject": lambda t: ("GET", "/protected", with_bearer(forge(sub=42))),
    "int identity from create_access_token": lambda t: (
        "GET",
        "/protected",
        with_bearer(t["int_identity"]),
    ),
    "list identity from create_access_token": lambda t: (
        "GET",
        "/protected",
        with_bearer(t["list_identity"]),
    ),
    "non-string jti": lambda t: ("GET", "/protected", with_bearer(forge(jti=7))),
    "foreign token without type": lambda t: (
        "GET",
        "/protected",
        with_bearer(forge(type=None, fresh=None, jti=None)),
    ),
    "refresh token on access route": lambda t: ("GET", "/protected", with_bearer(t["refresh"])),
    "access token on refresh route": lambda t: ("POST", "/refresh", with_bearer(t["access"])),
    "refresh token on refresh route": lambda t: ("POST", "/refresh", with_bearer(t["refresh"])),
    "either type accepts refresh": lambda t: ("GET", "/either", with_bearer(t["refresh"])),
    "optional without token": lambda t: ("GET", "/optional", {}),
    "optional with token": lambda t: ("GET", "/optional", with_bearer(t["access"])),
    "optional with bad token": lambda t: ("GET", "/optional", with_bearer("x.y.z")),
    "fresh route, stale token": lambda t: ("GET", "/fresh", with_bearer(t["access"])),
    "fresh route, fresh token": lambda t: ("GET", "/fresh", with_bearer(t["fresh"])),
    "fresh route, freshness over": lambda t: ("GET", "/fresh", with_bearer(t["short_fresh"])),
    "revoked": lambda t: ("GET", "/protected", with_bearer(t["revoked"])),
    "revocation check skipped": lambda t: ("GET", "/unchecked", with_bearer(t["revoked"])),
    "custom verification fails": lambda t: ("GET", "/protected", with_bearer(t["rejected"])),
    "user lookup fails": lambda t: ("GET", "/protected", with_bearer(t["ghost"])),
}

ALL_LOCATION_SCENARIOS: dict[str, Scenario] = {
    "nothing anywhere": lambda t: ("GET", "/protected", {}),
    "header wins": lambda t: ("GET", "/protected", with_bearer(t["access"])),
    "query string": lambda t: ("GET", f"/protected?jwt={t['access']}", {}),
    "empty query string": lambda t: ("GET", "/protected?jwt=", {}),
    "json body": lambda t: ("POST", "/protected", {"json": {"access_token": t["access"]}}),
    "json without key": lambda t: ("POST", "/protected", {"json": {"other": 1}}),
    "refresh from json": lambda t: ("POST", "/refresh", {"json": {"refresh_token": t["refresh"]}}),
    "per-route headers only": lambda t: ("GET", f"/headers-only?jwt={t['access']}", {}),
    "bad token in query": lambda t: ("GET", "/protected?jwt=abc", {}),
}

COOKIE_SCENARIOS: dict[str, Callable[[FlaskClient], Request]] = {
    "cookie GET needs no csrf": lambda c: ("GET", "/protected", {}),
    "cookie POST without csrf": lambda c: ("POST", "/protected", {}),
    "cookie POST with csrf header": lambda c: (
        "POST",
        "/protected",
        {"headers": {"X-CSRF-TOKEN": _cookie(c, "csrf_access_token")}},
    ),
    "cookie POST with wrong csrf": lambda c: (
        "POST",
        "/protected",
        {"headers": {"X-CSRF-TOKEN": "nope"}},
    ),
    "cookie DELETE with csrf": lambda c: (
        "DELETE",
        "/protected",
        {"headers": {"X-CSRF-TOKEN": _cookie(c, "csrf_access_token")}},
    ),
    "refresh cookie with csrf": lambda c: (
        "POST",
        "/refresh",
        {"headers": {"X-CSRF-TOKEN": _cookie(c, "csrf_refresh_token")}},
    ),
    "refresh cookie without csrf": lambda c: ("POST", "/refresh", {}),
}


def _cookie(client: FlaskClient, name: str) -> str:
    if not hasattr(client, "get_cookie"):  # Werkzeug < 2.3 (the minimum-versions run)
        jar: Any = client.cookie_jar  # type: ignore[attr-defined]
        found = [cookie.value for cookie in jar if cookie.name == name]
        assert found, name
        return str(found[0])
    cookie = client.get_cookie(name)
    assert cookie is not None, name
    return cookie.value


def _answer(client: FlaskClient, request: Request) -> tuple[int, Any]:
    method, path, kwargs = request
    response = client.open(path, method=method, **kwargs)
    return response.status_code, response.get_json(silent=True)


def _tokens(client: FlaskClient) -> dict[str, str]:
    tokens: dict[str, str] = client.post("/login").get_json()
    return tokens


def _run(config: dict[str, Any], scenario: Scenario) -> dict[str, tuple[int, Any]]:
    answers = {}
    for name, lib in LIBRARIES.items():
        with build_app(lib, config).test_client() as client:
            answers[name] = _answer(client, scenario(_tokens(client)))
    return answers


@pytest.mark.parametrize("name", sorted(HEADER_SCENARIOS))
def test_header_scenarios_match_flask_jwt_extended(name: str) -> None:
    answers = _run({}, HEADER_SCENARIOS[name])
    assert answers["ours"] == answers["Flask-JWT-Extended"]


@pytest.mark.parametrize("name", sorted(ALL_LOCATION_SCENARIOS))
def test_all_locations_scenarios_match_flask_jwt_extended(name: str) -> None:
    answers = _run({"JWT_TOKEN_LOCATION": ALL_LOCATIONS}, ALL_LOCATION_SCENARIOS[name])
    assert answers["ours"] == answers["Flask-JWT-Extended"]


@pytest.mark.parametrize("csrf_in_form", [False, True])
@pytest.mark.parametrize("name", sorted(COOKIE_SCENARIOS))
def test_cookie_scenarios_match_flask_jwt_extended(name: str, csrf_in_form: bool) -> None:
    config = {"JWT_TOKEN_LOCATION": ["cookies"], "JWT_CSRF_CHECK_FORM": csrf_in_form}
    answers = {}
    for lib_name, lib in LIBRARIES.items():
        with build_app(lib, config).test_client() as client:
            client.post("/cookie-login")
            answers[lib_name] = _answer(client, COOKIE_SCENARIOS[name](client))
    assert answers["ours"] == answers["Flask-JWT-Extended"]


def test_csrf_from_form_field_matches_flask_jwt_extended() -> None:
    config = {"JWT_TOKEN_LOCATION": ["cookies"], "JWT_CSRF_CHECK_FORM": True}
    answers = {}
    for lib_name, lib in LIBRARIES.items():
        with build_app(lib, config).test_client() as client:
            client.post("/cookie-login")
            form = {"csrf_token": _cookie(client, "csrf_access_token")}
            answers[lib_name] = _answer(client, ("POST", "/protected", {"data": form}))
    assert answers["ours"] == answers["Flask-JWT-Extended"]
    assert answers["ours"][0] == 200


def _attribute(attribute: str) -> str:
    """A Set-Cookie attribute, lower-cased; an expiry date in the future is only
    'set' (the two apps answer a second apart), a past one (deletion) stays."""
    text = attribute.lower()
    if text.startswith("expires=") and "1970" not in text:
        return "expires=<future>"
    return text


def _set_cookies(client: FlaskClient, path: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(path)
    described = []
    for header in response.headers.getlist("Set-Cookie"):
        name_value, *attributes = [p.strip() for p in header.split(";")]
        name = name_value.split("=", 1)[0]
        described.append({"name": name, "attributes": sorted(map(_attribute, attributes))})
    return described


@pytest.mark.parametrize(
    "config",
    [
        {},
        {
            "JWT_SESSION_COOKIE": False,
            "JWT_COOKIE_SECURE": True,
            "JWT_COOKIE_SAMESITE": "Lax",
            "JWT_COOKIE_DOMAIN": "example.org",
            "JWT_ACCESS_COOKIE_PATH": "/api/",
        },
        {"JWT_CSRF_IN_COOKIES": False},
        {
            "JWT_COOKIE_CSRF_PROTECT": False,
            "JWT_ACCESS_COOKIE_NAME": "a",
            "JWT_REFRESH_CSRF_COOKIE_PATH": "/refresh",
        },
    ],
    ids=["defaults", "hardened", "no-csrf-cookie", "renamed"],
)
@pytest.mark.parametrize("path", ["/cookie-login", "/logout"])
def test_cookie_attributes_match_flask_jwt_extended(config: dict[str, Any], path: str) -> None:
    config = {"JWT_TOKEN_LOCATION": ["cookies"], **config}
    described = {}
    for lib_name, lib in LIBRARIES.items():
        with build_app(lib, config).test_client() as client:
            described[lib_name] = _set_cookies(client, path, config)
    assert described["ours"] == described["Flask-JWT-Extended"]
    assert described["ours"], "the response set cookies"


CONFIG_VARIANTS: dict[str, tuple[dict[str, Any], Scenario]] = {
    "custom header name and bare token": (
        {"JWT_HEADER_NAME": "X-Auth", "JWT_HEADER_TYPE": ""},
        lambda t: ("GET", "/protected", {"headers": {"X-Auth": t["access"]}}),
    ),
    "bare token with spaces": (
        {"JWT_HEADER_NAME": "X-Auth", "JWT_HEADER_TYPE": ""},
        lambda t: ("GET", "/protected", {"headers": {"X-Auth": "a b"}}),
    ),
    "custom header missing": ({"JWT_HEADER_NAME": "X-Auth"}, lambda t: ("GET", "/protected", {})),
    "query prefix accepted": (
        {"JWT_TOKEN_LOCATION": "query_string", "JWT_QUERY_STRING_VALUE_PREFIX": "Bearer "},
        lambda t: ("GET", f"/protected?jwt=Bearer {t['access']}", {}),
    ),
    "query prefix missing": (
        {"JWT_TOKEN_LOCATION": "query_string", "JWT_QUERY_STRING_VALUE_PREFIX": "Bearer "},
        lambda t: ("GET", f"/protected?jwt={t['access']}", {}),
    ),
    "json content type wrong": (
        {"JWT_TOKEN_LOCATION": ["json"]},
        lambda t: ("POST", "/protected", {"data": "x"}),
    ),
    "error message key": ({"JWT_ERROR_MESSAGE_KEY": "error"}, lambda t: ("GET", "/protected", {})),
    "audience accepted": (
        {"JWT_ENCODE_AUDIENCE": "api", "JWT_DECODE_AUDIENCE": "api"},
        lambda t: ("GET", "/protected", with_bearer(t["access"])),
    ),
    "audience mismatch": (
        {"JWT_DECODE_AUDIENCE": "api"},
        lambda t: ("GET", "/protected", with_bearer(forge(aud="other"))),
    ),
    "audience missing": (
        {"JWT_DECODE_AUDIENCE": ["api", "web"]},
        lambda t: ("GET", "/protected", with_bearer(t["access"])),
    ),
    "issuer accepted": (
        {"JWT_ENCODE_ISSUER": "me", "JWT_DECODE_ISSUER": "me"},
        lambda t: ("GET", "/protected", with_bearer(t["access"])),
    ),
    "issuer mismatch": (
        {"JWT_DECODE_ISSUER": "me"},
        lambda t: ("GET", "/protected", with_bearer(forge(iss="you"))),
    ),
    "issuer missing": (
        {"JWT_DECODE_ISSUER": "me"},
        lambda t: ("GET", "/protected", with_bearer(t["access"])),
    ),
    "leeway rescues recently expired": (
        {"JWT_DECODE_LEEWAY": 60},
        lambda t: ("GET", "/protected", with_bearer(forge(exp=int(time.time()) - 10))),
    ),
    "custom identity claim": (
        {"JWT_IDENTITY_CLAIM": "identity"},
        lambda t: ("GET", "/protected", with_bearer(t["access"])),
    ),
    "verify sub off accepts int subject": (
        {"JWT_VERIFY_SUB": False},
        lambda t: ("GET", "/protected", with_bearer(forge(sub=42))),
    ),
    "extra decode algorithm": (
        {"JWT_DECODE_ALGORITHMS": ["HS512"]},
        lambda t: ("GET", "/protected", with_bearer(forge(alg="HS512"))),
    ),
    "token never expires": (
        {"JWT_ACCESS_TOKEN_EXPIRES": False},
        lambda t: ("GET", "/protected", with_bearer(t["access"])),
    ),
    "integer lifetime": (
        {"JWT_ACCESS_TOKEN_EXPIRES": 3600},
        lambda t: ("GET", "/protected", with_bearer(t["access"])),
    ),
}


@pytest.mark.parametrize("name", sorted(CONFIG_VARIANTS))
def test_configuration_variants_match_flask_jwt_extended(name: str) -> None:
    config, scenario = CONFIG_VARIANTS[name]
    answers = _run(config, scenario)
    assert answers["ours"] == answers["Flask-JWT-Extended"]


def test_tokens_have_flask_jwt_extendeds_claims() -> None:
    shapes = {}
    for lib_name, lib in LIBRARIES.items():
        with build_app(lib, {}).test_client() as client:
            tokens = _tokens(client)
            claims = jwt.decode(tokens["fresh"], SECRET, algorithms=["HS256"])
            header = jwt.get_unverified_header(tokens["fresh"])
            shapes[lib_name] = (sorted(claims), sorted(header), claims["exp"] - claims["iat"])
    assert shapes["ours"] == shapes["Flask-JWT-Extended"]


def test_tokens_are_interchangeable_between_libraries() -> None:
    """A token minted by either library is accepted by the other: a rolling migration works."""
    apps = {name: build_app(lib, {}) for name, lib in LIBRARIES.items()}
    for minted_by, verified_by in (("ours", "Flask-JWT-Extended"), ("Flask-JWT-Extended", "ours")):
        with apps[minted_by].test_client() as minting, apps[verified_by].test_client() as other:
            token = _tokens(minting)["access"]
            response = other.get("/protected", **with_bearer(token))
            assert response.status_code == 200, (minted_by, response.get_json())
            assert response.get_json()["id"] == "alice"


# --- Where Flask-JWT-Extended fails with a 500, flask-jwtx answers -----------------

IMPROVEMENTS: dict[str, tuple[dict[str, Any], Request, tuple[int, Any]]] = {
    "options preflight reaches a view that reads the token": (
        {},
        ("OPTIONS", "/protected", {}),
        (200, {"id": None, "role": None, "type": None, "where": None, "user": None, "alg": None}),
    ),
    "json body that is a list": (
        {"JWT_TOKEN_LOCATION": ["json"]},
        ("POST", "/protected", {"json": [1, 2]}),
        (401, {"msg": 'Missing "access_token" key in json data.'}),
    ),
}


@pytest.mark.parametrize("name", sorted(IMPROVEMENTS))
def test_where_flask_jwt_extended_crashes_we_answer(name: str) -> None:
    config, request, expected = IMPROVEMENTS[name]
    with build_app(flask_jwtx, config).test_client() as client:
        assert _answer(client, request) == expected
    with (
        build_app(flask_jwt_extended, config).test_client() as client,
        pytest.raises((RuntimeError, AttributeError)),
    ):
        _answer(client, request)


RENAMED = {
    "JWT_TOKEN_LOCATION": ["cookies", "query_string", "json"],
    "JWT_QUERY_STRING_NAME": "token",
    "JWT_JSON_KEY": "at",
    "JWT_REFRESH_JSON_KEY": "rt",
    "JWT_ACCESS_COOKIE_NAME": "a_cookie",
    "JWT_REFRESH_COOKIE_NAME": "r_cookie",
    "JWT_ACCESS_COOKIE_PATH": "/",
    "JWT_REFRESH_COOKIE_PATH": "/",
    "JWT_ACCESS_CSRF_COOKIE_NAME": "a_csrf",
    "JWT_REFRESH_CSRF_COOKIE_NAME": "r_csrf",
    "JWT_ACCESS_CSRF_COOKIE_PATH": "/",
    "JWT_REFRESH_CSRF_COOKIE_PATH": "/",
    "JWT_ACCESS_CSRF_HEADER_NAME": "X-A-CSRF",
    "JWT_REFRESH_CSRF_HEADER_NAME": "X-R-CSRF",
    "JWT_ACCESS_CSRF_FIELD_NAME": "a_field",
    "JWT_REFRESH_CSRF_FIELD_NAME": "r_field",
    "JWT_CSRF_CHECK_FORM": True,
}

RENAMED_SCENARIOS: dict[str, Callable[[FlaskClient, dict[str, str]], Request]] = {
    "nothing anywhere lists renamed places": lambda c, t: ("POST", "/refresh", {}),
    "query string under its new name": lambda c, t: ("GET", f"/protected?token={t['access']}", {}),
    "old query name falls through to the cookie": lambda c, t: (
        "GET",
        f"/protected?jwt={t['access']}",
        {},
    ),
    "json access key": lambda c, t: ("GET", "/protected", {"json": {"at": t["access"]}}),
    "json refresh key behind a cookie that needs csrf": lambda c, t: (
        "POST",
        "/refresh",
        {"json": {"rt": t["refresh"]}},
    ),
    "access cookie with renamed csrf header": lambda c, t: (
        "POST",
        "/protected",
        {"headers": {"X-A-CSRF": _cookie(c, "a_csrf")}},
    ),
    "access cookie with the refresh csrf header": lambda c, t: (
        "POST",
        "/protected",
        {"headers": {"X-R-CSRF": _cookie(c, "a_csrf")}},
    ),
    "refresh cookie with renamed csrf header": lambda c, t: (
        "POST",
        "/refresh",
        {"headers": {"X-R-CSRF": _cookie(c, "r_csrf")}},
    ),
    "access cookie with renamed form field": lambda c, t: (
        "POST",
        "/protected",
        {"data": {"a_field": _cookie(c, "a_csrf")}},
    ),
    "refresh cookie with renamed form field": lambda c, t: (
        "POST",
        "/refresh",
        {"data": {"r_field": _cookie(c, "r_csrf")}},
    ),
    "refresh cookie with the access form field": lambda c, t: (
        "POST",
        "/refresh",
        {"data": {"a_field": _cookie(c, "r_csrf")}},
    ),
}


@pytest.mark.parametrize("name", sorted(RENAMED_SCENARIOS))
def test_renamed_locations_match_flask_jwt_extended(name: str) -> None:
    answers = {}
    for lib_name, lib in LIBRARIES.items():
        with build_app(lib, RENAMED).test_client() as client:
            tokens = _tokens(client)
            client.post("/cookie-login")
            answers[lib_name] = _answer(client, RENAMED_SCENARIOS[name](client, tokens))
    assert answers["ours"] == answers["Flask-JWT-Extended"]


def _raised(lib: types.ModuleType, token: str, **kwargs: Any) -> type[BaseException] | None:
    """What ``decode_token`` raises on ``token``; ``None`` when it accepts it."""
    app = build_app(lib, {})
    with app.app_context():
        try:
            lib.decode_token(token, **kwargs)
        except Exception as error:
            return type(error)
    return None


DECODE_ERRORS: dict[str, Callable[[], str]] = {
    "garbage": lambda: "garbage",
    "bad signature": lambda: forge()[:-4] + "AAAA",
    "expired": lambda: forge(exp=int(time.time()) - 30),
    "not yet valid": lambda: forge(nbf=int(time.time()) + 3600),
    "disallowed algorithm": lambda: forge(alg="HS512"),
    "alg none": lambda: UNSIGNED,
    "integer subject": lambda: forge(sub=42),
    "list subject": lambda: forge(sub=["tenant", "key"]),
    "non-string jti": lambda: forge(jti=7),
    "missing identity claim": lambda: forge(sub=None),
}


@pytest.mark.parametrize("name", sorted(DECODE_ERRORS))
def test_decode_token_raises_what_flask_jwt_extended_raises(name: str) -> None:
    """Code that catches Flask-JWT-Extended's exception (PyJWT's or its own) still catches ours."""
    token = DECODE_ERRORS[name]()
    theirs = _raised(flask_jwt_extended, token)
    ours = _raised(flask_jwtx, token)
    if theirs is None:  # accepted (an int 'sub' where PyJWT checks none): by both
        assert ours is None
        return
    assert ours is not None, f"we accepted what raised {theirs}"
    assert ours.__name__ == theirs.__name__
    if theirs.__module__.startswith("jwt"):
        assert issubclass(ours, theirs), f"{ours} is not a {theirs}"


@pytest.mark.parametrize(
    ("algorithm", "private", "public"),
    [
        ("RS256", "rsa_private.pem", "rsa_public.pem"),
        ("ES256", "ec256_private.pem", "ec256_public.pem"),
    ],
)
@pytest.mark.parametrize(
    "name",
    [
        "valid access token",
        "refresh token on access route",
        "fresh route, stale token",
        "no token",
    ],
)
@needs_cryptography
def test_asymmetric_algorithms_match_flask_jwt_extended(
    algorithm: str, private: str, public: str, name: str
) -> None:
    config = {
        "JWT_ALGORITHM": algorithm,
        "JWT_PRIVATE_KEY": read_key(private),
        "JWT_PUBLIC_KEY": read_key(public),
    }
    answers = _run(config, HEADER_SCENARIOS[name])
    assert answers["ours"] == answers["Flask-JWT-Extended"]
