"""One Flask_PyJWT app and its scenarios, run against a given implementation.

    python tests/flask_pyjwt_scenarios.py flask_pyjwt                    # the real package
    python tests/flask_pyjwt_scenarios.py flask_jwtx.compat.flask_pyjwt  # our facade

Prints a JSON object: scenario name -> observed outcome. The real package pins
Flask < 3, so it runs in its own virtual environment; ``test_compat_flask_pyjwt``
runs this script under both and compares the outputs.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from typing import Any

from flask import Flask

SECRET = "compat-secret-long-enough-for-hs512-0123456789abcdef0123456789abcdef"


def outcome(response: Any) -> list[Any]:
    """Status and what the client reads: the JSON, or the HTML error's description."""
    if response.is_json:
        return [response.status_code, response.get_json()]
    text = response.get_data(as_text=True)
    found = re.search(r"<p>(.*?)</p>", text, re.S)
    return [response.status_code, found.group(1) if found else text]


def build(lib: Any) -> tuple[Flask, Any]:
    app = Flask(__name__)
    app.config.update(JWT_ISSUER="Flask_PyJWT", JWT_AUTHTYPE="HS256", JWT_SECRET=SECRET)
    manager = lib.AuthManager(app)
    require_token, current_token = lib.require_token, lib.current_token

    @app.route("/protected")
    @require_token()
    def protected() -> Any:
        return {"message": "ok"}

    @app.route("/refresh", methods=["POST"])
    @require_token("refresh")
    def refresh() -> Any:
        return {"auth_token": manager.auth_token(current_token.sub).signed is not None}

    @app.route("/user/<string:username>")
    @require_token(sub="username")
    def user(username: str) -> Any:
        return {"message": f"Hello, {username}!"}

    @app.route("/admin")
    @require_token(scope={"admin": True})
    def admin() -> Any:
        return {"message": "Hello admin!"}

    @app.route("/scope-string")
    @require_token(scope="read")
    def scope_string() -> Any:
        return {"ok": True}

    @app.route("/claims")
    @require_token(role="editor", level=3)
    def claims() -> Any:
        return {"ok": True}

    @app.route("/org")
    @require_token(org={"id": 2}, role="admin")
    def org() -> Any:
        return {"ok": True}

    @app.route("/groups")
    @require_token(groups=["a", "b"])
    def groups() -> Any:
        return {"ok": True}

    @app.route("/override/<string:username>")
    @require_token(sub="username", override={"admin": True})
    def override(username: str) -> Any:
        return {"admin": bool(current_token.claims.get("admin")), "user": username}

    @app.route("/cookie")
    @require_token(location="cookies", cookie_name="auth_token")
    def cookie() -> Any:
        return {"sub": current_token.sub}

    @app.route("/info")
    @require_token()
    def info() -> Any:
        return {
            "token_type": str(current_token.token_type),
            "subject": current_token.sub,
            "scope": current_token.scope,
            "claim_names": sorted(current_token.claims),
            "is_signed": current_token.is_signed(),
            "signed_is_str": isinstance(current_token.signed, str),
            "alg": current_token.alg,
            "header": current_token.header,
            "max_age": current_token.max_age,
            "iss": current_token.iss,
        }

    return app, manager


def bearer(token: str) -> dict[str, Any]:
    return {"headers": {"Authorization": f"Bearer {token}"}}


def run(module: str) -> dict[str, Any]:
    lib = importlib.import_module(module)
    app, manager = build(lib)
    results: dict[str, Any] = {}
    with app.app_context():
        alice = manager.auth_token("alice").signed
        refresh = manager.refresh_token("alice")
        admin = manager.auth_token("root", {"admin": True}, admin=True).signed
        scoped = manager.auth_token("alice", "read").signed
        editor = manager.auth_token("alice", role="editor", level=3).signed
        wrong_level = manager.auth_token("alice", role="editor", level=4).signed
        grouped = manager.auth_token("alice", groups=["b", "c", "a"]).signed
        partial_group = manager.auth_token("alice", groups=["a"]).signed
        numeric = manager.auth_token(42).signed
        nested = manager.auth_token("alice", org={"id": 2}).signed
        other_issuer = lib.AuthManager()
        foreign_app = Flask("foreign")
        foreign_app.config.update(JWT_ISSUER="Other", JWT_AUTHTYPE="HS256", JWT_SECRET=SECRET)
        other_issuer.init_app(foreign_app)
        foreign = other_issuer.auth_token("alice").signed

        results["refresh token claims"] = sorted(refresh.claims)
        results["refresh max_age"] = refresh.max_age
        results["verify garbage"] = manager.verify_token("garbage")
        results["verify own"] = manager.verify_token(alice)
        results["verify object"] = manager.verify_token(refresh)
        results["verify other issuer"] = manager.verify_token(foreign)
        converted = manager.convert_token(editor)
        results["convert"] = [str(converted.token_type), converted.sub, converted.claims["role"]]

    requests: dict[str, tuple[str, str, dict[str, Any]]] = {
        "no header": ("GET", "/protected", {}),
        "lowercase bearer": (
            "GET",
            "/protected",
            {"headers": {"Authorization": f"bearer {alice}"}},
        ),
        "basic auth": ("GET", "/protected", {"headers": {"Authorization": "Basic abc"}}),
        "bearer with space": ("GET", "/protected", {"headers": {"Authorization": "Bearer a b"}}),
        "garbage token": ("GET", "/protected", bearer("garbage")),
        "tampered token": ("GET", "/protected", bearer(alice[:-3] + "abc")),
        "other issuer": ("GET", "/protected", bearer(foreign)),
        "valid auth": ("GET", "/protected", bearer(alice)),
        "refresh on auth route": ("GET", "/protected", bearer(refresh.signed)),
        "auth on refresh route": ("POST", "/refresh", bearer(alice)),
        "refresh on refresh route": ("POST", "/refresh", bearer(refresh.signed)),
        "route variable match": ("GET", "/user/alice", bearer(alice)),
        "route variable mismatch": ("GET", "/user/bob", bearer(alice)),
        "scope present": ("GET", "/admin", bearer(admin)),
        "scope missing": ("GET", "/admin", bearer(alice)),
        "string scope present": ("GET", "/scope-string", bearer(scoped)),
        "string scope missing": ("GET", "/scope-string", bearer(alice)),
        "claims present": ("GET", "/claims", bearer(editor)),
        "claims wrong value": ("GET", "/claims", bearer(wrong_level)),
        "claims missing": ("GET", "/claims", bearer(alice)),
        "list claim superset": ("GET", "/groups", bearer(grouped)),
        "list claim subset": ("GET", "/groups", bearer(partial_group)),
        "override as owner": ("GET", "/override/alice", bearer(alice)),
        "override as admin": ("GET", "/override/alice", bearer(admin)),
        "override neither": ("GET", "/override/bob", bearer(alice)),
        "cookie missing": ("GET", "/cookie", {}),
        "int subject": ("GET", "/protected", bearer(numeric)),
        "claim after a nested claim is missing": ("GET", "/org", bearer(nested)),
        "info": ("GET", "/info", bearer(scoped)),
    }
    client = app.test_client()
    for name, (method, path, kwargs) in requests.items():
        results[name] = outcome(client.open(path, method=method, **kwargs))
    client.set_cookie("auth_token", alice)
    results["cookie present"] = outcome(client.get("/cookie"))

    bad_configs: dict[str, dict[str, Any]] = {
        "missing issuer": {"JWT_AUTHTYPE": "HS256", "JWT_SECRET": SECRET},
        "bad auth type": {"JWT_ISSUER": "i", "JWT_AUTHTYPE": "ES256", "JWT_SECRET": SECRET},
        "bytes secret for HS": {"JWT_ISSUER": "i", "JWT_AUTHTYPE": "HS256", "JWT_SECRET": b"x"},
        "rsa without public key": {"JWT_ISSUER": "i", "JWT_AUTHTYPE": "RS256", "JWT_SECRET": b"k"},
        "max age not int": {
            "JWT_ISSUER": "i",
            "JWT_AUTHTYPE": "HS256",
            "JWT_SECRET": SECRET,
            "JWT_AUTHMAXAGE": "60",
        },
    }
    for name, config in bad_configs.items():
        bad = Flask(name)
        bad.config.update(config)
        try:
            lib.AuthManager(bad)
            results[f"config: {name}"] = "accepted"
        except Exception as error:
            results[f"config: {name}"] = [type(error).__name__, str(error)]

    for name, kwargs in {
        "bad token type": {"token_type": "access"},
        "bad location": {"location": "query"},
        "cookies without name": {"location": "cookies"},
    }.items():
        try:
            lib.require_token(**kwargs)
            results[f"decorator: {name}"] = "accepted"
        except Exception as error:
            results[f"decorator: {name}"] = [type(error).__name__, str(error)]
    return results


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1]), indent=1, sort_keys=True))
