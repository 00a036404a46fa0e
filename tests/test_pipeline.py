"""Every entry point that verifies or mints a token runs the one pipeline and the one issuer.

One hostile app: a ``JWTManager`` subclass that wraps every token it mints
(as a JWE wrapper would) and refuses some when decoding, a blocklist loader,
a verification loader and a user loader that each refuse something, and
routes that require a scope. Each entry point runs a known subset of the
pipeline's steps; for every token, its answer must be what the first failing
step of that subset answers. Before the pipeline was one function, the
adapters skipped the subclass's decode, a patched verifier dropped the
route's scope, and ``flask jwt decode`` called refused tokens "Accepted".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner
from flask import Flask, Request, jsonify

import flask_jwtx
from flask_jwtx import (
    create_access_token,
    create_auth_blueprint,
    create_refresh_token,
    create_token_pair,
    decode_token,
    get_jwt,
    jwt_required,
    rotate_refresh_token,
    verify_jwt_in_request,
    view_decorators,
)
from flask_jwtx import testing as jwt_testing
from flask_jwtx._core.jose import jws
from flask_jwtx.cli import jwt_cli
from flask_jwtx.exceptions import JWTDecodeError, JWTExtendedException

from .dpop_proofs import jkt, new_key, proof
from .helpers import SECRET, bearer


class MarkingManager(flask_jwtx.JWTManager):
    """Marks the tokens it mints, and refuses when decoding any it did not mark or marks evil.

    What a JWE wrapper or an introspecting subclass does, in a form whose
    tokens stay readable in tests: a token minted around the hook lacks the mark.
    """

    def _encode_jwt_from_config(
        self,
        identity: Any,
        token_type: str,
        claims: dict[str, Any] | None = None,
        fresh: Any = False,
        expires_delta: Any = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        marked = {**(claims or {}), "hooked": True}
        return super()._encode_jwt_from_config(
            identity, token_type, marked, fresh, expires_delta, headers
        )

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        if not claims.get("hooked"):
            raise JWTDecodeError("Not minted through the subclass")
        if claims.get("evil"):
            raise JWTDecodeError("Refused by the subclass")
        return claims


def hooked(token: str) -> bool:
    """Whether ``token`` was minted through the subclass's encode hook (read unverified)."""
    return bool(jws.parse(token, 8192).claims().get("hooked"))


def login(request: Request) -> str | None:
    body = request.get_json(silent=True) or {}
    return body.get("username")


def hostile_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        JWT_SECRET_KEY=SECRET,
        JWT_REVOCATION_STORE="memory://",
        JWT_REFRESH_TOKEN_ROTATION=True,
        JWT_REFRESH_REUSE_GRACE=0,
        **config,
    )
    jwt = MarkingManager(app)
    jwt.token_in_blocklist_loader(lambda _h, claims: bool(claims.get("blocked")))
    jwt.token_verification_loader(lambda _h, claims: not claims.get("unverified"))
    jwt.user_lookup_loader(lambda _h, claims: None if claims["sub"] == "ghost" else claims["sub"])

    @app.get("/declared")
    @jwt_required(scope="admin")
    def declared() -> Any:
        return jsonify(ok=True)

    @app.get("/in-view")
    def in_view() -> Any:
        verify_jwt_in_request(scope="admin")
        return jsonify(ok=True)

    @app.get("/custom")
    def custom() -> Any:
        # What custom decorators in the wild do with Flask-JWT-Extended's private helper.
        view_decorators._decode_jwt_from_request(None, False)
        return jsonify(ok=True)

    @app.post("/refresh")
    @jwt_required(refresh=True)
    def refresh() -> Any:
        access, new_refresh = rotate_refresh_token()
        return jsonify(access=access, refresh=new_refresh)

    app.register_blueprint(create_auth_blueprint(login, mode="headers"), url_prefix="/auth")
    return app


#: The pipeline's steps, in order, and what the default loaders answer when each refuses.
STEPS = ("decode", "revocation", "verification", "requirement", "user")
ANSWER = {"decode": 422, "revocation": 401, "verification": 400, "requirement": 403, "user": 401}

#: Each hostile token and the step that refuses it.
TOKENS: dict[str, tuple[dict[str, Any], str | None]] = {
    "good": ({"sub": "alice", "scope": "admin"}, None),
    "evil": ({"sub": "alice", "scope": "admin", "evil": True}, "decode"),
    "blocked": ({"sub": "alice", "scope": "admin", "blocked": True}, "revocation"),
    "unverified": ({"sub": "alice", "scope": "admin", "unverified": True}, "verification"),
    "read-only": ({"sub": "alice", "scope": "read"}, "requirement"),
    "ghost": ({"sub": "ghost", "scope": "admin"}, "user"),
}


def mint(app: Flask, name: str) -> str:
    claims, _ = TOKENS[name]
    with app.app_context():
        extra = {k: v for k, v in claims.items() if k != "sub"}
        return create_access_token(claims["sub"], additional_claims=extra)


def expected(name: str, steps: tuple[str, ...]) -> int:
    refused_by = TOKENS[name][1]
    return ANSWER[refused_by] if refused_by in steps else 200


def answer_of(app: Flask, error: JWTExtendedException) -> int:
    with app.test_request_context():
        return app.make_response(app.handle_user_exception(error)).status_code


def via_route(path: str) -> Callable[[Flask, str], int]:
    def run(app: Flask, token: str) -> int:
        return app.test_client().get(path, headers=bearer(token)).status_code

    return run


def via_patched(target: str) -> Callable[[Flask, str], int]:
    """The declared route while a test wraps one of Flask-JWT-Extended's verifier functions."""

    def run(app: Flask, token: str) -> int:
        original = getattr(view_decorators, target)
        with mock.patch.object(view_decorators, target, wraps=original) as spy:
            status = app.test_client().get("/declared", headers=bearer(token)).status_code
        assert spy.called  # the patched function is what decided, as with Flask-JWT-Extended
        return status

    return run


def via_logout(app: Flask, token: str) -> int:
    """The auth blueprint's logout, which also takes an expired token: its own entry point."""
    return app.test_client().post("/auth/logout", headers=bearer(token)).status_code


def via_decode_token(app: Flask, token: str) -> int:
    with app.app_context():
        try:
            decode_token(token)
        except JWTExtendedException as error:
            return answer_of(app, error)
    return 200


def via_cli(app: Flask, token: str) -> int:
    result = CliRunner().invoke(
        jwt_cli, ["decode", "--json", token], obj=_script_info(app), catch_exceptions=False
    )
    verdict = json.loads(result.output)
    assert result.exit_code == (0 if verdict["accepted"] else 1)
    return 200 if verdict["accepted"] else int(verdict["error"]["status"])


def _script_info(app: Flask) -> Any:
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


ALL = STEPS
#: Each entry point that verifies, and the steps it runs.
ENTRY_POINTS: dict[str, tuple[Callable[[Flask, str], int], tuple[str, ...]]] = {
    "jwt_required": (via_route("/declared"), ALL),
    "verify_jwt_in_request": (via_route("/in-view"), ALL),
    "patched verify_jwt_in_request": (via_patched("verify_jwt_in_request"), ALL),
    "patched _decode_jwt_from_request": (via_patched("_decode_jwt_from_request"), ALL),
    "_decode_jwt_from_request": (via_route("/custom"), ("decode", "revocation", "verification")),
    "auth blueprint": (via_route("/auth/me"), ("decode", "revocation", "verification", "user")),
    "auth blueprint logout": (via_logout, ("decode", "revocation", "verification")),
    "flask jwt decode": (via_cli, ("decode", "revocation", "verification", "user")),
    "decode_token": (via_decode_token, ("decode",)),
}


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    app = hostile_app()
    yield app
    app.extensions["flask-jwtx"].manager.close(app)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("token", list(TOKENS))
def test_every_entry_point_answers_what_its_steps_decide(
    app: Flask, entry: str, token: str
) -> None:
    """An entry point refuses a token exactly when one of the pipeline steps it runs does."""
    run, steps = ENTRY_POINTS[entry]
    assert run(app, mint(app, token)) == expected(token, steps)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_a_token_minted_around_the_hook_is_refused_everywhere(app: Flask, entry: str) -> None:
    """A token signed with the app's key but minted around the hook fails the hook's decode."""
    run, _ = ENTRY_POINTS[entry]
    with app.app_context():
        plain = flask_jwtx.JWTManager._encode_jwt_from_config(
            app.extensions["flask-jwtx"].manager, "alice", "access", {"scope": "admin"}
        )
    assert not hooked(plain)
    assert run(app, plain) == 422


#: The entry points that verify a request (not a token alone): (method, path, patched function).
REQUEST_ENTRY_POINTS: dict[str, tuple[str, str, str | None]] = {
    "jwt_required": ("GET", "/declared", None),
    "verify_jwt_in_request": ("GET", "/in-view", None),
    "patched verify_jwt_in_request": ("GET", "/declared", "verify_jwt_in_request"),
    "patched _decode_jwt_from_request": ("GET", "/declared", "_decode_jwt_from_request"),
    "_decode_jwt_from_request": ("GET", "/custom", None),
    "auth blueprint": ("GET", "/auth/me", None),
    "auth blueprint logout": ("POST", "/auth/logout", None),
}


def test_the_request_entry_points_are_every_entry_point_but_the_token_decoders() -> None:
    """An entry point added to ENTRY_POINTS that reads a request is checked with DPoP too."""
    assert set(REQUEST_ENTRY_POINTS) == set(ENTRY_POINTS) - {"flask jwt decode", "decode_token"}


@pytest.fixture(scope="module")
def required_dpop_app() -> Iterator[Flask]:
    app = hostile_app(JWT_DPOP="required")
    yield app
    app.extensions["flask-jwtx"].manager.close(app)


@pytest.mark.parametrize("entry", list(REQUEST_ENTRY_POINTS))
def test_where_dpop_is_required_every_request_entry_point_wants_a_proof(
    required_dpop_app: Flask, entry: str
) -> None:
    """With JWT_DPOP='required', each entry point refuses a bearer token and takes a proven one."""
    app = required_dpop_app
    method, path, patched = REQUEST_ENTRY_POINTS[entry]
    key = new_key()
    with app.app_context():
        plain = create_access_token("alice", additional_claims={"scope": "admin"})
        bound = create_access_token(
            "alice", additional_claims={"scope": "admin", "cnf": {"jkt": jkt(key)}}
        )

    def send(headers: dict[str, str]) -> int:
        if patched is None:
            return app.test_client().open(path, method=method, headers=headers).status_code
        original = getattr(view_decorators, patched)
        with mock.patch.object(view_decorators, patched, wraps=original) as spy:
            status = app.test_client().open(path, method=method, headers=headers).status_code
        assert spy.called
        return status

    assert send(bearer(plain)) == 401
    signed = proof(key, method=method, url=f"http://localhost{path}", token=bound)
    assert send({"Authorization": f"DPoP {bound}", "DPoP": signed}) == 200


def test_a_patched_verifier_that_records_no_token_does_not_pass_a_declared_scope(
    app: Flask,
) -> None:
    """A mock that replaces verification outright leaves the route's scope unmet: 403."""
    with mock.patch.object(view_decorators, "verify_jwt_in_request"):
        response = app.test_client().get("/declared")
    assert response.status_code == 403
    assert response.json == {"msg": "Missing required scope: admin"}


class TestOneIssuer:
    """Every way of minting goes through the subclass's encode hook."""

    def test_the_public_creators(self, app: Flask) -> None:
        with app.app_context():
            minted = [create_access_token("alice"), create_refresh_token("alice")]
            minted.extend(create_token_pair("alice"))
        assert all(hooked(token) for token in minted)

    def test_a_session_minted_through_the_hook_is_registered_and_can_be_ended(
        self, app: Flask
    ) -> None:
        with app.app_context():
            access, _ = create_token_pair("carol")
            sessions = flask_jwtx.list_sessions("carol")
            assert [s.id for s in sessions] == [decode_token(access)["fam"]]
            assert flask_jwtx.revoke_session(sessions[0].id)
        assert app.test_client().get("/auth/me", headers=bearer(access)).status_code == 401

    def test_rotation_and_the_blueprint(self, app: Flask) -> None:
        client = app.test_client()
        body = client.post("/auth/login", json={"username": "dave"}).get_json()
        assert hooked(body["access_token"])
        assert hooked(body["refresh_token"])
        rotated = client.post("/refresh", headers=bearer(body["refresh_token"])).get_json()
        assert hooked(rotated["access"])
        assert hooked(rotated["refresh"])
        with app.app_context():
            assert (
                decode_token(rotated["refresh"])["fam"]
                == decode_token(body["access_token"])["fam"]
            )
            assert decode_token(rotated["access"])["sub"] == "dave"
        assert client.get("/auth/me", headers=bearer(rotated["access"])).status_code == 200

    def test_the_cli_and_the_testing_helpers(self, app: Flask) -> None:
        result = CliRunner().invoke(jwt_cli, ["token", "erin"], obj=_script_info(app))
        assert result.exit_code == 0, result.output
        assert hooked(result.output.strip())
        assert hooked(jwt_testing.access_token(app, "erin", scopes=["admin"]))
        headers = jwt_testing.auth_headers(app, "erin", scopes=["admin"])
        assert app.test_client().get("/declared", headers=headers).status_code == 200

    def test_get_jwt_in_a_hooked_app_sees_the_unwrapped_claims(self, app: Flask) -> None:
        token = mint(app, "good")
        with app.test_request_context(headers=bearer(token)):
            verify_jwt_in_request()
            assert get_jwt()["sub"] == "alice"


class PrefixingManager(flask_jwtx.JWTManager):
    """Hands out tokens in its own format, which is no compact JWS (as a JWE wrapper does)."""

    def _encode_jwt_from_config(self, *args: Any, **kwargs: Any) -> str:
        return "own~" + super()._encode_jwt_from_config(*args, **kwargs)

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        if not encoded_token.startswith("own~"):
            raise JWTDecodeError("Not in this app's format")
        inner = encoded_token.removeprefix("own~")
        return super()._decode_jwt_from_config(inner, csrf_value, allow_expired)


def test_a_subclass_format_that_is_no_jws_passes_every_entry_point() -> None:
    """The header of a token in a subclass's own format is not required to parse."""
    app = Flask(__name__)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)
    PrefixingManager(app)

    @app.get("/custom")
    def custom() -> Any:
        claims, header, _ = view_decorators._decode_jwt_from_request(None, False)
        return jsonify(sub=claims["sub"], header=header)

    @app.get("/declared")
    @jwt_required()
    def declared() -> Any:
        return jsonify(sub=get_jwt()["sub"])

    with app.app_context():
        token = create_access_token("alice")
    assert token.startswith("own~")
    client = app.test_client()
    assert client.get("/declared", headers=bearer(token)).json == {"sub": "alice"}
    assert client.get("/custom", headers=bearer(token)).json == {"sub": "alice", "header": {}}
    assert via_cli(app, token) == 200


class CSRFBlindManager(flask_jwtx.JWTManager):
    """Decodes tokens its own way and never looks at the CSRF value it is handed."""

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        return super()._decode_jwt_from_config(encoded_token, None, allow_expired)


def test_a_cookie_token_needs_its_csrf_value_whatever_decoded_it() -> None:
    """A subclass's decode hook that skips the CSRF value does not let a cookie token skip it."""
    app = Flask(__name__)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET, JWT_TOKEN_LOCATION=["cookies"])
    CSRFBlindManager(app)

    @app.post("/transfer")
    @jwt_required()
    def transfer() -> Any:
        return jsonify(sub=get_jwt()["sub"])

    with app.app_context():
        token = create_access_token("alice")
        csrf = decode_token(token)["csrf"]
    client = app.test_client()
    client.set_cookie("access_token_cookie", token)
    forged = client.post("/transfer", headers={"X-CSRF-TOKEN": "made-up"})
    assert forged.status_code == 401
    assert forged.json == {"msg": "CSRF double submit tokens do not match"}
    with app.app_context(), pytest.raises(JWTExtendedException, match="CSRF"):
        decode_token(token, csrf_value="made-up")
    assert client.post("/transfer", headers={"X-CSRF-TOKEN": csrf}).json == {"sub": "alice"}
