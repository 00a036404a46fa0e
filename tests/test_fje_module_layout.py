"""Flask-JWT-Extended's module layout under flask_jwtx, and install_as_flask_jwt_extended().

Names are checked against the real Flask-JWT-Extended (imported here), the
``config`` object and the default callbacks differentially against it, and
``install_as_flask_jwt_extended`` in fresh interpreters, including a real
Flask-AppBuilder app in an environment of its own.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import importlib
import inspect
import json
import os
import subprocess
import sys
import textwrap
import tomllib
import uuid
import venv
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import flask_jwt_extended
import flask_jwt_extended.config
import jwt
import pytest
from dateutil.relativedelta import relativedelta
from flask import Flask

import flask_jwtx
from flask_jwtx import config as our_config_module
from flask_jwtx import default_callbacks, internal_utils, view_decorators
from flask_jwtx import tokens as our_tokens
from flask_jwtx._core.jose.keyset import Key, KeySet
from flask_jwtx.exceptions import RevokedTokenError, UserClaimsVerificationError, WrongTokenError

from .helpers import SECRET, bearer, read_key

ROOT = Path(__file__).resolve().parent.parent

#: Flask-JWT-Extended's modules ("" is the package itself), each mirrored by ours.
MODULES = (
    "",
    ".config",
    ".default_callbacks",
    ".exceptions",
    ".internal_utils",
    ".jwt_manager",
    ".tokens",
    ".typing",
    ".utils",
    ".view_decorators",
)

#: (module, name) Flask-JWT-Extended has and flask_jwtx deliberately does not, with why.
#: Empty: every name is provided. Keep it short and give a reason for each entry.
NOT_PROVIDED: dict[tuple[str, str], str] = {}

#: Private helpers that code in the wild imports from Flask-JWT-Extended's modules.
PRIVATE_PROVIDED = {
    ".view_decorators": {
        "_decode_jwt_from_request",
        "_decode_jwt_from_headers",
        "_decode_jwt_from_cookies",
        "_decode_jwt_from_query_string",
        "_decode_jwt_from_json",
        "_load_user",
        "_verify_token_is_fresh",
    },
    ".tokens": {"_encode_jwt", "_decode_jwt"},
    ".jwt_manager": {"_encode_jwt", "_decode_jwt"},
}


def _flask_jwt_extended(suffix: str) -> ModuleType:
    return importlib.import_module(f"flask_jwt_extended{suffix}")


def _ours(suffix: str) -> ModuleType:
    return importlib.import_module(f"flask_jwtx{suffix}")


def defined_names(module: ModuleType) -> set[str]:
    """Names a module defines or takes from its own package, read from its source.

    Names it imports from third parties (``jwt``, ``flask``, ``typing``) are
    not its API; names from ``TYPE_CHECKING`` blocks do not exist at run time.
    """
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, ast.ImportFrom) and (
                node.level or (node.module or "").startswith("flask_jwt_extended")
            ):
                names.update(alias.asname or alias.name for alias in node.names)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
            elif isinstance(node, ast.If) and not (
                isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            ):
                visit(node.body)
                visit(node.orelse)

    visit(ast.parse(inspect.getsource(module)).body)
    return names


@pytest.mark.parametrize("suffix", MODULES)
def test_every_public_name_of_flask_jwt_extended_module_is_importable(suffix: str) -> None:
    theirs, ours = _flask_jwt_extended(suffix), _ours(suffix)
    public = {n for n in defined_names(theirs) if not n.startswith("_")}
    assert public, "Flask-JWT-Extended's names could not be read"
    expected = public | PRIVATE_PROVIDED.get(suffix, set())
    missing = sorted(
        name for name in expected if not hasattr(ours, name) and (suffix, name) not in NOT_PROVIDED
    )
    assert missing == [], f"flask_jwtx{suffix} lacks {missing}"


def test_the_allow_lists_name_only_real_flask_jwt_extended_names() -> None:
    for (suffix, name), reason in NOT_PROVIDED.items():
        assert hasattr(_flask_jwt_extended(suffix), name), reason
    for suffix, names in PRIVATE_PROVIDED.items():
        assert all(hasattr(_flask_jwt_extended(suffix), name) for name in names)


def _parameters(function: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("suffix", MODULES)
def test_functions_take_flask_jwt_extendeds_parameters(suffix: str) -> None:
    """Same names, kinds and defaults; ours may only add keyword-only parameters."""
    theirs, ours = _flask_jwt_extended(suffix), _ours(suffix)
    for name in sorted(defined_names(theirs) | PRIVATE_PROVIDED.get(suffix, set())):
        their_function = getattr(theirs, name)
        if not inspect.isfunction(their_function) or (suffix, name) in NOT_PROVIDED:
            continue
        expected = _parameters(their_function)
        actual = _parameters(getattr(ours, name))
        assert actual[: len(expected)] == expected, f"{suffix}.{name}"
        for extra_name, kind, default in actual[len(expected) :]:
            assert kind is inspect.Parameter.KEYWORD_ONLY, f"{suffix}.{name}({extra_name})"
            assert default is not inspect.Parameter.empty, f"{suffix}.{name}({extra_name})"


def test_the_public_objects_are_flask_jwtxs_own() -> None:
    from flask_jwtx import jwt_manager, utils

    assert utils.get_jwt is flask_jwtx.get_jwt
    assert utils.create_access_token is flask_jwtx.create_access_token
    assert utils.current_user is flask_jwtx.current_user
    assert view_decorators.jwt_required is flask_jwtx.jwt_required
    assert jwt_manager.JWTManager is flask_jwtx.JWTManager
    assert jwt_manager.config is our_config_module.config


def test_type_aliases_equal_flask_jwt_extendeds() -> None:
    from flask_jwt_extended import typing as their_typing

    from flask_jwtx import typing as our_typing

    assert our_typing.ExpiresDelta == their_typing.ExpiresDelta
    assert our_typing.Fresh == their_typing.Fresh
    assert our_tokens.ExpiresDelta is our_typing.ExpiresDelta


# --- config: Flask-JWT-Extended's properties, answered from our settings -------------

APPS: dict[str, dict[str, Any]] = {
    "defaults": {"JWT_SECRET_KEY": SECRET},
    "flask SECRET_KEY only": {"SECRET_KEY": SECRET},
    "everything changed": {
        "JWT_SECRET_KEY": SECRET,
        "JWT_ALGORITHM": "HS512",
        "JWT_DECODE_ALGORITHMS": ["HS384"],
        "JWT_TOKEN_LOCATION": ["headers", "cookies", "query_string", "json"],
        "JWT_ACCESS_TOKEN_EXPIRES": 600,
        "JWT_REFRESH_TOKEN_EXPIRES": False,
        "JWT_HEADER_NAME": "X-Token",
        "JWT_HEADER_TYPE": "",
        "JWT_QUERY_STRING_NAME": "token",
        "JWT_QUERY_STRING_VALUE_PREFIX": "Bearer ",
        "JWT_JSON_KEY": "at",
        "JWT_REFRESH_JSON_KEY": "rt",
        "JWT_ACCESS_COOKIE_NAME": "a",
        "JWT_REFRESH_COOKIE_NAME": "r",
        "JWT_ACCESS_COOKIE_PATH": "/api",
        "JWT_REFRESH_COOKIE_PATH": "/auth",
        "JWT_COOKIE_SECURE": True,
        "JWT_COOKIE_DOMAIN": "example.org",
        "JWT_COOKIE_SAMESITE": "Strict",
        "JWT_SESSION_COOKIE": False,
        "JWT_COOKIE_CSRF_PROTECT": False,
        "JWT_CSRF_METHODS": ["POST", "DELETE"],
        "JWT_CSRF_IN_COOKIES": False,
        "JWT_CSRF_CHECK_FORM": True,
        "JWT_ACCESS_CSRF_COOKIE_NAME": "ca",
        "JWT_REFRESH_CSRF_COOKIE_NAME": "cr",
        "JWT_ACCESS_CSRF_COOKIE_PATH": "/c1",
        "JWT_REFRESH_CSRF_COOKIE_PATH": "/c2",
        "JWT_ACCESS_CSRF_HEADER_NAME": "X-A",
        "JWT_REFRESH_CSRF_HEADER_NAME": "X-R",
        "JWT_ACCESS_CSRF_FIELD_NAME": "fa",
        "JWT_REFRESH_CSRF_FIELD_NAME": "fr",
        "JWT_IDENTITY_CLAIM": "identity",
        "JWT_ERROR_MESSAGE_KEY": "error",
        "JWT_DECODE_LEEWAY": 10,
        "JWT_ENCODE_ISSUER": "issuer",
        "JWT_DECODE_ISSUER": "issuer",
        "JWT_ENCODE_AUDIENCE": "api",
        "JWT_DECODE_AUDIENCE": "api",
        "JWT_VERIFY_SUB": False,
        "JWT_ENCODE_NBF": False,
    },
    "RS256 key pair": {
        "JWT_ALGORITHM": "RS256",
        "JWT_DECODE_ALGORITHMS": ["RS256", "RS512"],
        "JWT_PRIVATE_KEY": read_key("rsa_private.pem"),
        "JWT_PUBLIC_KEY": read_key("rsa_public.pem"),
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(hours=2),
        "JWT_REFRESH_TOKEN_EXPIRES": relativedelta(months=1),
        "JWT_ENCODE_AUDIENCE": ["a", "b"],
        "JWT_DECODE_AUDIENCE": ["a", "b"],
        "JWT_TOKEN_LOCATION": "cookies",
    },
}

#: Properties whose values are compared after a normalization (see config.py).
NORMALIZED: dict[str, Callable[[Any], Any]] = {
    "token_location": list,
    "json_encoder": lambda encoder: json.dumps(
        {"id": uuid.UUID(int=7), "when": timedelta(0).days}, cls=encoder
    ),
}


def _property_names() -> list[str]:
    their_class = type(flask_jwt_extended.config.config)
    return sorted(name for name, value in vars(their_class).items() if isinstance(value, property))


def test_config_has_every_property_of_flask_jwt_extended() -> None:
    ours = type(our_config_module.config)
    missing = [n for n in _property_names() if not isinstance(getattr(ours, n, None), property)]
    assert missing == []


@pytest.fixture(params=sorted(APPS))
def twin_apps(request: pytest.FixtureRequest) -> tuple[Flask, Flask]:
    theirs, ours = Flask("theirs"), Flask("ours")
    for app in (theirs, ours):
        # A copy each: Flask-JWT-Extended appends to JWT_DECODE_ALGORITHMS in place.
        app.config.update(copy.deepcopy(APPS[request.param]))
    flask_jwt_extended.JWTManager(theirs)
    flask_jwtx.JWTManager(ours)
    return theirs, ours


def _read(app: Flask, config: Any, name: str) -> Any:
    with app.app_context():
        try:
            return NORMALIZED.get(name, lambda value: value)(getattr(config, name))
        except RuntimeError:  # what both libraries raise for a missing key
            return "RuntimeError"


def test_config_answers_like_flask_jwt_extended(twin_apps: tuple[Flask, Flask]) -> None:
    theirs, ours = twin_apps
    for name in _property_names():
        expected = _read(theirs, flask_jwt_extended.config.config, name)
        actual = _read(ours, our_config_module.config, name)
        assert actual == expected, name


def test_config_reads_changes_made_after_init_app() -> None:
    app = Flask(__name__)
    app.config["JWT_SECRET_KEY"] = SECRET
    flask_jwtx.JWTManager(app)
    with app.app_context():
        assert our_config_module.config.access_expires == timedelta(minutes=15)
        app.config["JWT_ACCESS_TOKEN_EXPIRES"] = 60
        assert our_config_module.config.access_expires == timedelta(seconds=60)


def test_config_keys_from_a_key_set() -> None:
    app = Flask(__name__)
    app.config["JWT_KEYS"] = KeySet(
        [Key.from_pem(algorithm="RS256", private_key=read_key("rsa_private.pem"), kid="k1")]
    )
    app.config["JWT_ALGORITHM"] = "RS256"
    flask_jwtx.JWTManager(app)
    with app.app_context():
        signing_key = our_config_module.config.encode_key
        assert jwt.decode(
            jwt.encode({"sub": "a"}, signing_key, algorithm="RS256"),
            read_key("rsa_public.pem"),
            algorithms=["RS256"],
        ) == {"sub": "a"}
        with pytest.raises(RuntimeError, match="no single verification key"):
            _ = our_config_module.config.decode_key


def test_config_outside_an_app_context_raises_as_flask_jwt_extended_does() -> None:
    with pytest.raises(RuntimeError):
        _ = flask_jwt_extended.config.config.algorithm
    with pytest.raises(RuntimeError):
        _ = our_config_module.config.algorithm


# --- default_callbacks ----------------------------------------------------------

RESPONSE_CALLBACKS: list[tuple[str, tuple[Any, ...]]] = [
    ("default_expired_token_callback", ({}, {"sub": "7"})),
    ("default_invalid_token_callback", ("Signature verification failed",)),
    ("default_unauthorized_callback", ("Missing Authorization Header",)),
    ("default_needs_fresh_token_callback", ({}, {"sub": "7"})),
    ("default_revoked_token_callback", ({}, {"sub": "7"})),
    ("default_user_lookup_error_callback", ({}, {"sub": "7", "identity": "alice"})),
    ("default_token_verification_failed_callback", ({}, {"sub": "7"})),
]


@pytest.mark.parametrize(
    "settings",
    [{}, {"JWT_ERROR_MESSAGE_KEY": "error", "JWT_IDENTITY_CLAIM": "identity"}],
    ids=["defaults", "custom keys"],
)
@pytest.mark.parametrize(
    ("name", "args"), RESPONSE_CALLBACKS, ids=[n for n, _ in RESPONSE_CALLBACKS]
)
def test_default_response_callbacks_answer_like_flask_jwt_extendeds(
    name: str, args: tuple[Any, ...], settings: dict[str, Any]
) -> None:
    answers = []
    for library in (flask_jwt_extended, flask_jwtx):
        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY=SECRET, **settings)
        library.JWTManager(app)
        callback = getattr(importlib.import_module(f"{library.__name__}.default_callbacks"), name)
        with app.test_request_context():
            response = app.make_response(callback(*args))
        answers.append((response.status_code, response.get_json()))
    assert answers[1] == answers[0]


def test_default_value_callbacks_answer_like_flask_jwt_extendeds() -> None:
    from flask_jwt_extended import default_callbacks as theirs

    app = Flask(__name__)
    app.config["JWT_SECRET_KEY"] = SECRET
    flask_jwtx.JWTManager(app)
    flask_jwt_extended.JWTManager(app)
    user = object()
    with app.app_context():
        for module in (theirs, default_callbacks):
            assert module.default_additional_claims_callback(user) == {}
            assert module.default_jwt_headers_callback({"alg": "HS256"}) == {}
            assert module.default_user_identity_callback(user) is user
            assert module.default_blocklist_callback({}, {}) is False
            assert module.default_token_verification_callback({}, {}) is True
            assert module.default_encode_key_callback(user) == SECRET
            assert module.default_decode_key_callback({}, {}) == SECRET


# --- internal_utils ---------------------------------------------------------------


def test_internal_utils_run_the_checks_of_a_protected_route() -> None:
    app = Flask(__name__)
    app.config["JWT_SECRET_KEY"] = SECRET
    manager = flask_jwtx.JWTManager(app)
    with app.test_request_context():
        assert internal_utils.get_jwt_manager() is manager
        assert not internal_utils.has_user_lookup()
        assert internal_utils.user_lookup({}, {}) is None
        manager.user_lookup_loader(lambda header, claims: claims["sub"].upper())
        manager.token_in_blocklist_loader(lambda header, claims: claims["jti"] == "gone")
        manager.token_verification_loader(lambda header, claims: claims.get("ok", True))
        assert internal_utils.has_user_lookup()
        assert internal_utils.user_lookup({}, {"sub": "ada"}) == "ADA"

        internal_utils.verify_token_type({"type": "access"}, refresh=False)
        internal_utils.verify_token_type({"type": "refresh"}, refresh=True)
        with pytest.raises(WrongTokenError, match="Only non-refresh tokens are allowed"):
            internal_utils.verify_token_type({"type": "refresh"}, refresh=False)
        with pytest.raises(WrongTokenError, match="Only refresh tokens are allowed"):
            internal_utils.verify_token_type({"type": "access"}, refresh=True)

        internal_utils.verify_token_not_blocklisted({}, {"jti": "kept"})
        with pytest.raises(RevokedTokenError):
            internal_utils.verify_token_not_blocklisted({}, {"jti": "gone"})
        internal_utils.custom_verification_for_token({}, {})
        with pytest.raises(UserClaimsVerificationError, match="User claims verification failed"):
            internal_utils.custom_verification_for_token({}, {"ok": False})

        encoder = internal_utils.get_json_encoder(app)
        assert json.loads(json.dumps({"id": uuid.UUID(int=1)}, cls=encoder)) == {
            "id": str(uuid.UUID(int=1))
        }


# --- view_decorators' private helpers, differentially ------------------------------


def _custom_decorator_app(library: ModuleType) -> Flask:
    """A custom decorator as projects write it on Flask-JWT-Extended's private helpers."""
    helpers = importlib.import_module(f"{library.__name__}.view_decorators")
    app = Flask(__name__)
    app.config.update(
        JWT_SECRET_KEY=SECRET,
        JWT_TOKEN_LOCATION=["headers", "query_string"],
        JWT_COOKIE_CSRF_PROTECT=False,
    )
    library.JWTManager(app)

    @app.route("/custom")
    def custom() -> Any:
        claims, header, location = helpers._decode_jwt_from_request(None, fresh=False)
        return {"sub": claims["sub"], "alg": header["alg"], "location": location}

    @app.route("/custom-refresh")
    def custom_refresh() -> Any:
        claims, _, _ = helpers._decode_jwt_from_request(["headers"], False, refresh=True)
        return {"type": claims["type"]}

    @app.route("/fresh")
    def fresh() -> Any:
        claims, header, _ = helpers._decode_jwt_from_request("headers", True)
        helpers._verify_token_is_fresh(header, claims)
        return {"fresh": True}

    @app.route("/raw")
    def raw() -> Any:
        token, csrf = helpers._decode_jwt_from_headers()
        return {"dots": token.count("."), "csrf": csrf}

    @app.route("/tokens")
    def tokens() -> Any:
        return {
            "access": library.create_access_token("alice"),
            "fresh": library.create_access_token("alice", fresh=True),
            "refresh": library.create_refresh_token("alice"),
        }

    return app


def test_custom_decorators_on_the_private_helpers_behave_alike() -> None:
    answers = []
    for library in (flask_jwt_extended, flask_jwtx):
        app = _custom_decorator_app(library)
        client = app.test_client()
        minted = client.get("/tokens").get_json()
        seen = []
        for path, token in [
            ("/custom", minted["access"]),
            ("/custom", None),
            ("/custom", minted["refresh"]),
            ("/custom", "garbage"),
            ("/custom-refresh", minted["refresh"]),
            ("/custom-refresh", minted["access"]),
            ("/fresh", minted["access"]),
            ("/fresh", minted["fresh"]),
            ("/raw", minted["access"]),
            ("/raw", None),
        ]:
            headers = {} if token is None else bearer(token)
            response = client.get(path, headers=headers)
            seen.append((path, response.status_code, response.get_json()))
        seen.append(("query", *_query(client, minted["access"])))
        answers.append(seen)
    assert answers[1] == answers[0]


def _query(client: Any, token: str) -> tuple[int, Any]:
    response = client.get(f"/custom?jwt={token}")
    return response.status_code, response.get_json()


def test_load_user_helper() -> None:
    app = Flask(__name__)
    app.config["JWT_SECRET_KEY"] = SECRET
    manager = flask_jwtx.JWTManager(app)
    with app.test_request_context():
        assert view_decorators._load_user({}, {"sub": "ada"}) is None
        manager.user_lookup_loader(lambda header, claims: {"name": claims["sub"]})
        assert view_decorators._load_user({}, {"sub": "ada"}) == {"loaded_user": {"name": "ada"}}


# --- tokens: _encode_jwt / _decode_jwt with Flask-JWT-Extended's keyword arguments --------


def _encode_kwargs(**changes: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "algorithm": "HS256",
        "audience": ["api"],
        "claim_overrides": {"role": "admin"},
        "csrf": True,
        "expires_delta": timedelta(minutes=5),
        "fresh": timedelta(minutes=1),
        "header_overrides": {"kid": "k1"},
        "identity": "alice",
        "identity_claim_key": "sub",
        "issuer": "me",
        "json_encoder": None,
        "secret": SECRET,
        "token_type": "access",
        "nbf": True,
    }
    return {**kwargs, **changes}


def _decode_kwargs(token: str, **changes: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "algorithms": ["HS256"],
        "allow_expired": False,
        "audience": "api",
        "csrf_value": None,
        "encoded_token": token,
        "identity_claim_key": "sub",
        "issuer": "me",
        "leeway": 0,
        "secret": SECRET,
        "verify_aud": True,
        "verify_sub": True,
    }
    return {**kwargs, **changes}


def test_token_helpers_interoperate_with_flask_jwt_extendeds() -> None:
    from flask_jwt_extended import tokens as theirs

    app = Flask(__name__)  # Flask-JWT-Extended's json_encoder needs an app context
    with app.app_context():
        for encode, decode in [
            (our_tokens._encode_jwt, theirs._decode_jwt),
            (theirs._encode_jwt, our_tokens._decode_jwt),
        ]:
            token = encode(**_encode_kwargs())
            claims = decode(**_decode_kwargs(token))
            assert (claims["sub"], claims["type"], claims["role"]) == ("alice", "access", "admin")
            assert (claims["aud"], claims["iss"]) == (["api"], "me")
            assert (claims["exp"] - claims["iat"], claims["nbf"]) == (300, claims["iat"])
            assert claims["iat"] < claims["fresh"] <= claims["iat"] + 61
            assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "k1"}
            assert decode(**_decode_kwargs(token, csrf_value=claims["csrf"]))["csrf"]


def test_token_helpers_refuse_as_flask_jwt_extendeds_do() -> None:
    from flask_jwt_extended import tokens as theirs

    for module in (theirs, our_tokens):
        expired = module._encode_jwt(
            **_encode_kwargs(expires_delta=timedelta(seconds=-10), csrf=False)
        )
        with pytest.raises(jwt.ExpiredSignatureError):
            module._decode_jwt(**_decode_kwargs(expired))
        assert module._decode_jwt(**_decode_kwargs(expired, allow_expired=True))["sub"] == "alice"
        token = module._encode_jwt(**_encode_kwargs(expires_delta=False))
        assert "exp" not in module._decode_jwt(**_decode_kwargs(token))
        with pytest.raises(module.CSRFError):
            module._decode_jwt(**_decode_kwargs(token, csrf_value="forged"))
        with pytest.raises(jwt.InvalidAudienceError):
            module._decode_jwt(**_decode_kwargs(token, audience="other"))
        with pytest.raises(jwt.InvalidSignatureError):
            module._decode_jwt(**_decode_kwargs(token, secret=SECRET[::-1]))
        assert module._decode_jwt(**_decode_kwargs(token, audience="other", verify_aud=False))
        no_identity = module._encode_jwt(**_encode_kwargs(identity_claim_key="uid"))
        with pytest.raises(module.JWTDecodeError, match="Missing claim: sub"):
            module._decode_jwt(**_decode_kwargs(no_identity))


# --- install_as_flask_jwt_extended(), in fresh interpreters --------------------------


def _run(code: str, python: Path | str = sys.executable) -> Any:
    """Run ``code`` in a fresh interpreter; return the JSON it prints last."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [str(python), "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_install_serves_every_flask_jwt_extended_module_from_flask_jwtx() -> None:
    result = _run(
        """
        import json, sys
        import flask_jwtx
        assert "flask_jwt_extended" not in sys.modules  # importing flask_jwtx installs nothing
        flask_jwtx.install_as_flask_jwt_extended()
        flask_jwtx.install_as_flask_jwt_extended()  # twice: harmless

        import flask_jwt_extended
        import flask_jwt_extended.view_decorators
        from flask import Flask
        from flask_jwt_extended import JWTManager, create_access_token, get_jwt_identity
        from flask_jwt_extended.config import config
        from flask_jwt_extended.exceptions import NoAuthorizationError
        from flask_jwt_extended.utils import get_jwt
        from flask_jwt_extended.view_decorators import jwt_required

        names = ["config", "default_callbacks", "exceptions", "internal_utils",
                 "jwt_manager", "tokens", "typing", "utils", "view_decorators"]
        served = {
            name: sys.modules[f"flask_jwt_extended.{name}"] is sys.modules[f"flask_jwtx.{name}"]
            and getattr(flask_jwt_extended, name) is sys.modules[f"flask_jwtx.{name}"]
            for name in names
        }
        app = Flask(__name__)
        app.config["JWT_SECRET_KEY"] = "x" * 64

        @app.route("/me")
        @jwt_required()
        def me():
            return {"sub": get_jwt_identity(), "type": get_jwt()["type"]}

        manager = JWTManager(app)
        with app.app_context():
            token = create_access_token("ada")
            verified = flask_jwtx.decode_token(token)["sub"]
            header_type = config.header_type
        client = app.test_client()
        ok = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        missing = client.get("/me")
        print(json.dumps({
            "package": [flask_jwt_extended.__name__, flask_jwt_extended.__file__],
            "served": served,
            "manager": isinstance(manager, flask_jwtx.JWTManager),
            "error": NoAuthorizationError is flask_jwtx.exceptions.NoAuthorizationError,
            "verified": verified,
            "header_type": header_type,
            "ok": [ok.status_code, ok.get_json()],
            "missing": [missing.status_code, missing.get_json()],
        }))
        """
    )
    assert result["package"] == ["flask_jwtx", str(ROOT / "src" / "flask_jwtx" / "__init__.py")]
    assert result["served"] == dict.fromkeys(result["served"], True)
    assert len(result["served"]) == len(MODULES) - 1
    assert (result["manager"], result["error"]) == (True, True)
    assert (result["verified"], result["header_type"]) == ("ada", "Bearer")
    assert result["ok"] == [200, {"sub": "ada", "type": "access"}]
    assert result["missing"] == [401, {"msg": "Missing Authorization Header"}]


def test_install_refuses_once_the_real_package_was_imported() -> None:
    result = _run(
        """
        import json
        import flask_jwt_extended.utils
        import flask_jwtx
        try:
            flask_jwtx.install_as_flask_jwt_extended()
        except RuntimeError as error:
            print(json.dumps({"refused": str(error),
                              "untouched": flask_jwt_extended.__name__ == "flask_jwt_extended"}))
        else:
            print(json.dumps({"refused": None}))
        """
    )
    assert result["untouched"] is True
    assert "already imported" in result["refused"]
    assert "Call install_as_flask_jwt_extended() before" in result["refused"]


# --- A real Flask-AppBuilder app on flask-jwtx ---------------------------------------

FAB_REQUIREMENT = "Flask-AppBuilder==5.3.0"
FAB_ENV = ROOT / ".cache" / "flask-appbuilder-5.3.0"
FAB_SCENARIOS = Path(__file__).with_name("fab_scenarios.py")


def _fab_environment() -> Path:
    """A virtual environment with Flask-AppBuilder and flask-jwtx (editable), made once.

    Flask-AppBuilder brings a dozen extensions we do not want in the test
    environment, so it lives in its own (git-ignored), reused while neither
    the requirement nor our dependencies change. Flask-JWT-Extended is
    installed there too, as Flask-AppBuilder's dependency: the scenarios run
    on it once, for comparison.
    """
    python = FAB_ENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    stamp = hashlib.sha256(
        json.dumps([FAB_REQUIREMENT, project["dependencies"]]).encode()
    ).hexdigest()
    marker = FAB_ENV / ".installed"
    if not marker.exists() or marker.read_text() != stamp:
        # No pip of its own (ensurepip takes seconds): the test environment's
        # pip installs into it.
        venv.create(FAB_ENV, with_pip=False, clear=True)
        subprocess.run(  # noqa: S603 - fixed arguments
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(python),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                FAB_REQUIREMENT,
                "-e",
                str(ROOT),
            ],
            check=True,
        )
        marker.write_text(stamp)
    return python


def _fab_scenarios(python: Path, mode: str) -> dict[str, Any]:
    completed = subprocess.run(  # noqa: S603 - fixed arguments
        [str(python), str(FAB_SCENARIOS), mode],
        capture_output=True,
        text=True,
        cwd=ROOT / "tests",
        env={**os.environ, "PYTHONPATH": ""},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@pytest.mark.slow
def test_flask_appbuilder_runs_on_flask_jwtx() -> None:
    python = _fab_environment()
    theirs = _fab_scenarios(python, "real")
    ours = _fab_scenarios(python, "shim")

    # The shim was in place: Flask-AppBuilder's JWTManager and tokens are flask-jwtx's.
    facts = ours["facts"]
    assert facts["flask_jwt_extended"] == "flask_jwtx"
    assert Path(facts["flask_jwt_extended file"]) == ROOT / "src" / "flask_jwtx" / "__init__.py"
    assert facts["fab manager class"] == "flask_jwtx._core.web.extension"
    assert facts["manager is flask_jwtx's"] is True
    assert facts["verified by flask_jwtx"] == facts["admin id"] == facts["sub"]
    assert (facts["fresh"], facts["refreshed fresh"]) == (True, False)
    assert theirs["facts"]["flask_jwt_extended"] == "flask_jwt_extended"

    scenarios = ours["scenarios"]
    assert scenarios["login"] == [200, {"access_token": "<token>", "refresh_token": "<token>"}]
    assert scenarios["refresh"] == [200, {"access_token": "<token>"}]
    assert scenarios["menu with the access token"][0] == 200
    assert scenarios["menu with the refreshed token"][0] == 200
    assert scenarios["create a note"][0] == 201
    assert scenarios["list notes"] == [200, [{"text": "hello"}]]
    assert scenarios["menu without a token"] == [401, {"msg": "Missing Authorization Header"}]
    # ...and every answer is the one Flask-AppBuilder gives on Flask-JWT-Extended.
    assert scenarios == theirs["scenarios"]
