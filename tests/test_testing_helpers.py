"""flask_jwtx.testing and the jwtx pytest fixture: tokens the app would issue, and ones it refuses.

Every helper is checked against the app itself: a token it mints must be
accepted (or, for the negative helpers, refused for exactly the stated
reason) by a real protected view, under the app's own configuration.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import freezegun
import pytest
import time_machine
from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx import testing
from flask_jwtx._core.jose.keyset import Key, KeySet
from flask_jwtx._core.revocation.memory import MemoryStore
from flask_jwtx.exceptions import ConfigurationError

from .helpers import auth_app, dpop_app, make_app, read_key


def protected_app(**config: Any) -> Flask:
    """An app with the views every test here asks: plain, fresh, refresh, scoped."""
    app = make_app(**config)

    @app.route("/api/me", methods=["GET", "POST"])
    @flask_jwtx.jwt_required()
    def me() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity(), claims=flask_jwtx.get_jwt())

    @app.post("/api/fresh")
    @flask_jwtx.jwt_required(fresh=True)
    def fresh_only() -> Any:
        return jsonify(ok=True)

    @app.get("/api/reports")
    @flask_jwtx.jwt_required(scope="reports:read")
    def reports() -> Any:
        return jsonify(ok=True)

    @app.post("/auth/refresh")
    @flask_jwtx.jwt_required(refresh=True)
    def refresh() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity())

    return app


def claims_of(app: Flask, token: str) -> dict[str, Any]:
    with app.app_context():
        return flask_jwtx.decode_token(token, allow_expired=True)


# -- Minting -------------------------------------------------------------------


def test_an_access_token_is_the_apps_own_with_scopes_and_claims() -> None:
    app = protected_app(JWT_ENCODE_ISSUER="https://auth.example")
    token = testing.access_token(app, "alice", scopes=["reports:read", "x"], claims={"org": 7})
    claims = claims_of(app, token)
    assert claims["sub"] == "alice"
    assert claims["type"] == "access"
    assert claims["iss"] == "https://auth.example"
    assert claims["scope"] == "reports:read x"
    assert claims["org"] == 7
    assert claims["fresh"] is False
    client = app.test_client()
    headers = testing.auth_headers(app, token=token)
    assert client.get("/api/reports", headers=headers).status_code == 200


def test_scopes_decide_what_a_scoped_view_allows() -> None:
    app = protected_app()
    client = app.test_client()
    allowed = testing.auth_headers(app, "alice", scopes="reports:read")
    denied = testing.auth_headers(app, "alice", scopes="reports:write")
    assert client.get("/api/reports", headers=allowed).status_code == 200
    assert client.get("/api/reports", headers=denied).status_code == 403
    assert client.get("/api/me", headers=testing.auth_headers(app, "alice")).status_code == 200


def test_the_apps_loaders_shape_the_minted_tokens() -> None:
    app = protected_app()
    jwt: flask_jwtx.JWTManager = app.extensions["flask-jwt-extended"]

    @jwt.additional_claims_loader
    def roles(identity: Any) -> dict[str, Any]:
        return {"roles": ["admin"] if identity == "root" else []}

    assert claims_of(app, testing.access_token(app, "root"))["roles"] == ["admin"]
    assert claims_of(app, testing.refresh_token(app, "ann"))["roles"] == []
    overridden = testing.access_token(app, "root", claims={"roles": ["viewer"]})
    assert claims_of(app, overridden)["roles"] == ["viewer"]


def test_fresh_and_refresh_tokens_reach_their_views_only() -> None:
    app = protected_app()
    client = app.test_client()
    fresh = testing.fresh_token(app, "alice", scopes=["a"], expires_delta=timedelta(minutes=2))
    assert claims_of(app, fresh)["fresh"] is True
    stale = testing.auth_headers(app, "alice")
    assert client.post("/api/fresh", headers=stale).get_json() == {"msg": "Fresh token required"}
    response = client.post("/api/fresh", headers=testing.auth_headers(app, token=fresh))
    assert response.status_code == 200
    refresh = testing.auth_headers(app, "alice", refresh=True)
    assert client.post("/auth/refresh", headers=refresh).get_json() == {"sub": "alice"}
    assert client.get("/api/me", headers=refresh).status_code == 422
    assert claims_of(app, testing.refresh_token(app, "a", scopes="s"))["scope"] == "s"


def test_fresh_for_a_while_and_extra_headers() -> None:
    app = protected_app()
    token = testing.access_token(
        app, "a", fresh=timedelta(minutes=5), expires_delta=False, headers={"x-test": "1"}
    )
    claims = claims_of(app, token)
    assert "exp" not in claims
    assert claims["fresh"] > claims["iat"]
    with app.app_context():
        assert flask_jwtx.get_unverified_jwt_headers(token)["x-test"] == "1"


def test_headers_follow_the_configured_name_and_type() -> None:
    app = protected_app(JWT_HEADER_NAME="X-Api-Token", JWT_HEADER_TYPE="")
    headers = testing.auth_headers(app, "alice")
    assert list(headers) == ["X-Api-Token"]
    assert headers["X-Api-Token"].count(".") == 2  # the bare token, no type
    assert app.test_client().get("/api/me", headers=headers).status_code == 200
    token_app = protected_app(JWT_HEADER_TYPE="JWT")
    assert testing.auth_headers(token_app, token="abc") == {"Authorization": "JWT abc"}


def test_headers_need_an_identity_or_a_token() -> None:
    with pytest.raises(TypeError, match="needs an identity"):
        testing.auth_headers(protected_app())


# -- Cookie mode ---------------------------------------------------------------


COOKIE_CONFIG: dict[str, Any] = {
    "JWT_TOKEN_LOCATION": ["cookies"],
    "JWT_ACCESS_COOKIE_NAME": "acc",
    "JWT_ACCESS_COOKIE_PATH": "/api/",
    "JWT_REFRESH_COOKIE_NAME": "ref",
    "JWT_REFRESH_COOKIE_PATH": "/auth/",
    "JWT_ACCESS_CSRF_COOKIE_NAME": "acc_csrf",
    "JWT_ACCESS_CSRF_HEADER_NAME": "X-Acc-Csrf",
    "JWT_REFRESH_CSRF_HEADER_NAME": "X-Ref-Csrf",
}


def test_login_sets_the_configured_cookies_and_csrf_header() -> None:
    app = protected_app(**COOKIE_CONFIG)
    client = app.test_client()
    login = testing.login(client, "alice", claims={"org": 1})
    access = client.get_cookie("acc", path="/api/")
    assert access is not None
    assert access.value == login.access_token
    refresh = client.get_cookie("ref", path="/auth/")
    assert refresh is not None
    assert refresh.value == login.refresh_token
    csrf_cookie = client.get_cookie("acc_csrf")
    assert csrf_cookie is not None
    assert login.access_csrf == {"X-Acc-Csrf": csrf_cookie.value}
    assert list(login.refresh_csrf) == ["X-Ref-Csrf"]
    # The client sends the access CSRF header by itself: unsafe methods pass.
    response = client.post("/api/me")
    assert response.status_code == 200
    assert response.get_json()["claims"]["org"] == 1
    # The refresh endpoint wants the refresh token's CSRF value.
    assert client.post("/auth/refresh").status_code == 401
    assert client.post("/auth/refresh", headers=login.refresh_csrf).get_json() == {"sub": "alice"}


def test_login_cookies_obey_the_domain() -> None:
    app = protected_app(
        **COOKIE_CONFIG, JWT_COOKIE_DOMAIN=".example.test", SERVER_NAME="app.example.test"
    )
    client = app.test_client()
    testing.login(client, "alice")
    assert client.get_cookie("acc", domain="example.test", path="/api/") is not None
    assert client.get("/api/me").status_code == 200
    other = app.test_client()
    testing.login(other, "alice")
    response = other.get("/api/me", base_url="http://elsewhere.test/")
    assert response.status_code == 401  # a browser would not send it there either


def test_a_same_named_csrf_header_can_be_overridden_per_request() -> None:
    """By default both CSRF headers are X-CSRF-TOKEN: the refresh one overrides the access one."""
    app = protected_app(JWT_TOKEN_LOCATION=["cookies"])
    client = app.test_client()
    login = testing.login(client, "bob")
    assert login.access_csrf.keys() == login.refresh_csrf.keys() == {"X-CSRF-TOKEN"}
    assert client.post("/api/me").status_code == 200
    assert client.post("/auth/refresh", headers=login.refresh_csrf).status_code == 200


def test_login_without_the_csrf_header_is_refused_on_unsafe_methods() -> None:
    app = protected_app(JWT_TOKEN_LOCATION=["cookies"])
    client = app.test_client()
    testing.login(client, "alice", csrf=False)
    assert client.get("/api/me").status_code == 200
    assert client.post("/api/me").get_json() == {"msg": "Missing CSRF token"}


def test_login_fresh_scoped_and_without_refresh() -> None:
    app = protected_app(JWT_TOKEN_LOCATION=["cookies"])
    client = app.test_client()
    login = testing.login(client, "alice", fresh=True, scopes=["reports:read"], refresh=False)
    assert login.refresh_token is None
    assert login.refresh_csrf == {}
    assert client.get_cookie("refresh_token_cookie") is None
    assert client.post("/api/fresh").status_code == 200
    assert client.get("/api/reports").status_code == 200


def test_login_without_csrf_protection_or_csrf_cookies() -> None:
    unprotected = protected_app(JWT_TOKEN_LOCATION=["cookies"], JWT_COOKIE_CSRF_PROTECT=False)
    client = unprotected.test_client()
    login = testing.login(client, "alice")
    assert login.access_csrf == login.refresh_csrf == {}
    assert client.get_cookie("csrf_access_token") is None
    assert client.post("/api/me").status_code == 200

    no_cookie = protected_app(JWT_TOKEN_LOCATION=["cookies"], JWT_CSRF_IN_COOKIES=False)
    client = no_cookie.test_client()
    login = testing.login(client, "alice")
    assert client.get_cookie("csrf_access_token") is None
    assert client.post("/api/me").status_code == 200  # the header alone, from the token


def test_logout_drops_cookies_and_header() -> None:
    app = protected_app(**COOKIE_CONFIG, JWT_COOKIE_DOMAIN="example.test")
    client = app.test_client()
    testing.login(client, "alice")
    testing.logout(client)
    for name in ("acc", "ref", "acc_csrf", "csrf_refresh_token"):
        assert client.get_cookie(name, domain="example.test") is None
    assert "HTTP_X_ACC_CSRF" not in client.environ_base
    assert client.get("/api/me", base_url="http://example.test/").status_code == 401


# -- Tokens the app must refuse ------------------------------------------------


def test_an_expired_token_is_expired_beyond_the_leeway() -> None:
    app = protected_app(JWT_DECODE_LEEWAY=120)
    client = app.test_client()
    # What a hand-built "expired" token gets wrong: the leeway still accepts it.
    with app.app_context():
        naive = flask_jwtx.create_access_token("a", expires_delta=timedelta(seconds=-5))
    assert client.get("/api/me", headers=testing.auth_headers(app, token=naive)).status_code == 200

    token = testing.expired_token(app, "a")
    response = client.get("/api/me", headers=testing.auth_headers(app, token=token))
    assert response.status_code == 401
    assert response.get_json() == {"msg": "Token has expired"}
    claims = claims_of(app, token)
    assert claims["iat"] == claims["nbf"] < claims["exp"]  # a real token that ran out
    assert claims["exp"] - claims["iat"] == 15 * 60  # the configured access lifetime


def test_an_expired_refresh_token_and_a_custom_margin() -> None:
    app = protected_app(JWT_REFRESH_TOKEN_EXPIRES=False, JWT_ENCODE_NBF=False)
    client = app.test_client()
    token = testing.expired_token(app, "a", refresh=True, by=timedelta(days=2), scopes="s")
    claims = claims_of(app, token)
    assert claims["type"] == "refresh"
    assert "nbf" not in claims  # no claim the app would not write
    assert claims["exp"] <= datetime.now(UTC).timestamp() - 2 * 86400
    response = client.post("/auth/refresh", headers=testing.auth_headers(app, token=token))
    assert response.get_json() == {"msg": "Token has expired"}


def test_a_not_yet_valid_token_is_refused_until_its_time() -> None:
    app = protected_app(JWT_DECODE_LEEWAY=timedelta(seconds=30))
    client = app.test_client()
    token = testing.not_yet_valid_token(app, "a", claims={"org": 1})
    response = client.get("/api/me", headers=testing.auth_headers(app, token=token))
    assert response.status_code == 422
    assert response.get_json() == {"msg": "The token is not yet valid (nbf)"}
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=False):
        response = client.get("/api/me", headers=testing.auth_headers(app, token=token))
    assert response.status_code == 200


ALGORITHM_KEYS: dict[str, tuple[str, str] | None] = {
    "HS256": None,
    "HS384": None,
    "HS512": None,
    "RS256": ("rsa_private.pem", "rsa_public.pem"),
    "PS384": ("rsa_private.pem", "rsa_public.pem"),
    "ES256": ("ec256_private.pem", "ec256_public.pem"),
    "ES384": ("ec384_private.pem", "ec384_public.pem"),
    "ES512": ("ec521_private.pem", "ec521_public.pem"),
    "EdDSA": ("ed25519_private.pem", "ed25519_public.pem"),
}


@pytest.mark.parametrize("algorithm", sorted(ALGORITHM_KEYS))
def test_a_wrongly_signed_token_fails_on_its_signature_alone(algorithm: str) -> None:
    files = ALGORITHM_KEYS[algorithm]
    config: dict[str, Any] = {"JWT_ALGORITHM": algorithm}
    if files:
        config.update(JWT_PRIVATE_KEY=read_key(files[0]), JWT_PUBLIC_KEY=read_key(files[1]))
    app = protected_app(**config)
    token = testing.wrongly_signed_token(app, "alice", scopes="reports:read")
    response = app.test_client().get("/api/me", headers=testing.auth_headers(app, token=token))
    assert response.status_code == 422
    assert response.get_json() == {"msg": "Signature verification failed"}
    # Header and claims are what the app itself writes; only the signature differs.
    assert claims_of_unverified(token)["scope"] == "reports:read"
    with app.app_context():
        assert flask_jwtx.get_unverified_jwt_headers(token)["alg"] == algorithm


def claims_of_unverified(token: str) -> dict[str, Any]:
    import jwt

    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_a_wrongly_signed_token_keeps_the_kid_of_a_key_set() -> None:
    keys = KeySet(
        [Key.from_pem(algorithm="ES256", private_key=read_key("ec256_private.pem"), kid="k1")]
    )
    app = protected_app(JWT_KEYS=keys)
    token = testing.wrongly_signed_token(app, "alice", refresh=True)
    with app.app_context():
        assert flask_jwtx.get_unverified_jwt_headers(token)["kid"] == "k1"
    response = app.test_client().post(
        "/auth/refresh", headers=testing.auth_headers(app, token=token)
    )
    assert response.get_json() == {"msg": "Signature verification failed"}


def test_a_revoked_token_is_revoked_through_the_store_and_nothing_else_writes() -> None:
    store = MemoryStore()
    app = protected_app(JWT_REVOCATION_STORE=store, JWT_REFRESH_TOKEN_ROTATION=True)
    client = app.test_client()
    testing.access_token(app, "a")
    testing.refresh_token(app, "a")
    testing.auth_headers(app, "a")
    testing.login(client, "a")
    testing.expired_token(app, "a")
    testing.not_yet_valid_token(app, "a")
    testing.wrongly_signed_token(app, "a")
    assert len(store) == 0

    token = testing.revoked_token(app, "a", fresh=True)
    assert len(store) == 1
    response = client.get("/api/me", headers=testing.auth_headers(app, token=token))
    assert response.get_json() == {"msg": "Token has been revoked"}
    refresh = testing.revoked_token(app, "a", refresh=True)
    response = client.post("/auth/refresh", headers=testing.auth_headers(app, token=refresh))
    assert response.get_json() == {"msg": "Token has been revoked"}


def test_a_revoked_token_needs_a_store() -> None:
    with pytest.raises(ConfigurationError, match="JWT_REVOCATION_STORE"):
        testing.revoked_token(protected_app(), "a")


# -- Frozen and travelling clocks ----------------------------------------------


FROZEN = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)


def test_tokens_follow_freezegun_and_expire_when_it_moves() -> None:
    app = protected_app()
    client = app.test_client()
    with freezegun.freeze_time(FROZEN) as clock:
        token = testing.access_token(app, "alice", expires_delta=timedelta(minutes=10))
        assert claims_of(app, token)["iat"] == int(FROZEN.timestamp())
        headers = testing.auth_headers(app, token=token)
        assert client.get("/api/me", headers=headers).status_code == 200
        clock.tick(timedelta(minutes=9, seconds=59))
        assert client.get("/api/me", headers=headers).status_code == 200
        clock.tick(timedelta(seconds=1))
        assert client.get("/api/me", headers=headers).get_json() == {"msg": "Token has expired"}
        expired = testing.expired_token(app, "alice")
        assert claims_of(app, expired)["exp"] == int(FROZEN.timestamp()) + 600 - 60


def test_tokens_follow_time_machine_and_expire_when_it_moves() -> None:
    app = protected_app()
    client = app.test_client()
    with time_machine.travel(FROZEN, tick=False) as clock:
        token = testing.access_token(app, "alice", expires_delta=timedelta(minutes=10))
        assert claims_of(app, token)["iat"] == int(FROZEN.timestamp())
        headers = testing.auth_headers(app, token=token)
        assert client.get("/api/me", headers=headers).status_code == 200
        clock.shift(timedelta(minutes=10))
        assert client.get("/api/me", headers=headers).get_json() == {"msg": "Token has expired"}
        later = testing.not_yet_valid_token(app, "alice")
        assert claims_of_unverified(later)["nbf"] == int(FROZEN.timestamp()) + 600 + 60


@pytest.fixture(params=["freezegun", "time-machine"])
def frozen_clock(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A clock that stands still until the test moves it: ``move(timedelta)``."""
    if request.param == "freezegun":
        with freezegun.freeze_time(FROZEN) as clock:
            yield clock.tick
    else:
        with time_machine.travel(FROZEN, tick=False) as traveller:
            yield traveller.shift


def test_revoke_all_returns_under_a_frozen_clock_and_fails_closed(frozen_clock: Any) -> None:
    """It used to wait forever for the next millisecond; a frozen clock has none."""
    app = protected_app(JWT_REVOCATION_STORE="memory://")
    client = app.test_client()
    before = testing.auth_headers(app, "alice")
    with app.app_context():
        flask_jwtx.revoke_all("alice")
    revoked = {"msg": "Token has been revoked"}
    assert client.get("/api/me", headers=before).get_json() == revoked
    # Minted at the very instant of the watermark: cannot be told apart, so refused.
    same_instant = testing.auth_headers(app, "alice")
    assert client.get("/api/me", headers=same_instant).get_json() == revoked
    frozen_clock(timedelta(milliseconds=1))
    after = testing.auth_headers(app, "alice")
    assert client.get("/api/me", headers=after).status_code == 200
    assert client.get("/api/me", headers=before).get_json() == revoked


def test_revoke_all_under_a_running_clock_lets_the_next_token_in() -> None:
    app = protected_app(JWT_REVOCATION_STORE="memory://")
    client = app.test_client()
    with time_machine.travel(FROZEN, tick=True):
        before = testing.auth_headers(app, "alice")
        with app.app_context():
            flask_jwtx.revoke_all("alice")
        after = testing.auth_headers(app, "alice")
        assert client.get("/api/me", headers=before).status_code == 401
        assert client.get("/api/me", headers=after).status_code == 200


def test_fresh_for_a_while_follows_the_frozen_clock(frozen_clock: Any) -> None:
    app = protected_app()
    client = app.test_client()
    headers = testing.auth_headers(app, "a", fresh=timedelta(minutes=5))
    assert client.post("/api/fresh", headers=headers).status_code == 200
    frozen_clock(timedelta(minutes=5, seconds=1))
    assert client.post("/api/fresh", headers=headers).get_json() == {"msg": "Fresh token required"}


def test_rotation_reuse_grace_follows_the_frozen_clock(frozen_clock: Any) -> None:
    app = protected_app(
        JWT_REVOCATION_STORE="memory://",
        JWT_REFRESH_TOKEN_ROTATION=True,
        JWT_REFRESH_REUSE_GRACE=10,
    )

    @app.post("/auth/rotate")
    @flask_jwtx.jwt_required(refresh=True)
    def rotate() -> Any:
        access, refresh = flask_jwtx.rotate_refresh_token()
        return jsonify(access=access, refresh=refresh)

    client = app.test_client()
    headers = testing.auth_headers(app, "a", refresh=True)
    assert client.post("/auth/rotate", headers=headers).status_code == 200
    frozen_clock(timedelta(seconds=5))
    assert client.post("/auth/rotate", headers=headers).status_code == 200  # within the grace
    frozen_clock(timedelta(seconds=6))
    assert client.post("/auth/rotate", headers=headers).status_code == 401  # reuse


# -- The kit and the pytest fixture --------------------------------------------


def test_the_kit_binds_every_helper_to_one_app(app: Flask, jwtx: testing.JWTTestKit) -> None:
    """``jwtx`` is found through this suite's own ``app`` fixture."""
    assert jwtx.app is app
    assert claims_of(app, jwtx.access_token("a", scopes=["s"]))["scope"] == "s"
    assert claims_of(app, jwtx.fresh_token("a"))["fresh"] is True
    assert claims_of(app, jwtx.refresh_token("a"))["type"] == "refresh"
    assert list(jwtx.auth_headers("a")) == ["Authorization"]
    for make in (jwtx.expired_token, jwtx.not_yet_valid_token, jwtx.wrongly_signed_token):
        assert make("a").count(".") == 2
    client = app.test_client()
    assert jwtx.login(client, "a").refresh_token is not None
    jwtx.logout(client)
    with pytest.raises(ConfigurationError):
        jwtx.revoked_token("a")


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh interpreter, in ``project``, with this environment's plugins."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("PYTHONPATH", None)
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write(project: Path, name: str, text: str) -> None:
    (project / name).write_text(textwrap.dedent(text))


@pytest.mark.slow
def test_the_plugin_is_loaded_through_its_entry_point(tmp_path: Path) -> None:
    write(
        tmp_path,
        "conftest.py",
        """
        import pytest
        from flask import Flask, jsonify
        from flask_jwtx import JWTManager, jwt_required, get_jwt_identity

        @pytest.fixture
        def app():
            app = Flask(__name__)
            app.config["JWT_SECRET_KEY"] = "k" * 64
            app.config["JWT_TOKEN_LOCATION"] = ["headers", "cookies"]
            JWTManager(app)

            @app.post("/me")
            @jwt_required()
            def me():
                return jsonify(me=get_jwt_identity())

            return app
        """,
    )
    write(
        tmp_path,
        "test_app.py",
        """
        def test_header_mode(app, jwtx):
            response = app.test_client().post("/me", headers=jwtx.auth_headers("ann"))
            assert response.get_json() == {"me": "ann"}

        def test_cookie_mode(app, jwtx):
            client = app.test_client()
            jwtx.login(client, "bob")
            assert client.post("/me").get_json() == {"me": "bob"}

        def test_negative(app, jwtx):
            headers = jwtx.auth_headers(token=jwtx.expired_token("ann"))
            assert app.test_client().post("/me", headers=headers).status_code == 401
        """,
    )
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    switched_off = run_pytest(tmp_path, "-p", "no:flask_jwtx")
    assert switched_off.returncode == 1
    assert "fixture 'jwtx' not found" in switched_off.stdout


@pytest.mark.slow
def test_the_plugin_is_inert_when_unused(tmp_path: Path) -> None:
    """Loaded in every run, it imports neither Flask nor flask-jwtx until jwtx is asked for."""
    write(
        tmp_path,
        "test_other.py",
        """
        import sys

        def test_nothing_of_ours_was_imported(request):
            plugin = request.config.pluginmanager.get_plugin("flask_jwtx")
            assert plugin is not None and plugin.__name__ == "flask_jwtx_pytest"
            assert not any(name.split(".")[0] == "flask" for name in sys.modules)
            assert "flask_jwtx" not in sys.modules

        def test_an_unrelated_app_fixture_is_untouched(request):
            assert "jwtx" not in request.fixturenames
        """,
    )
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


@pytest.mark.slow
def test_the_fixture_says_what_it_needs(tmp_path: Path) -> None:
    write(
        tmp_path,
        "test_misuse.py",
        """
        import pytest

        def test_no_app_fixture(jwtx):
            pass

        class TestNotAnApp:
            @pytest.fixture
            def app(self):
                return object()

            def test_it(self, jwtx):
                pass
        """,
    )
    result = run_pytest(tmp_path)
    assert result.returncode == 1
    assert "The jwtx fixture needs a fixture named 'app'" in result.stdout
    assert "which is not a Flask app with a JWTManager initialised on it" in result.stdout
    assert "2 errors" in result.stdout


# -- DPoP -------------------------------------------------------------------------


STRICT = "http://localhost/strict"


def test_a_dpop_bound_token_with_the_helpers_proof_reaches_a_dpop_only_route() -> None:
    """``dpop_token`` binds to the key's thumbprint; ``dpop_headers`` proves it per request."""
    app = dpop_app()
    client = app.test_client()
    key = testing.dpop_key()
    token = testing.dpop_token(app, "alice", key, scopes="read")
    claims = claims_of_unverified(token)
    assert claims["cnf"] == {"jkt": flask_jwtx.jwk_thumbprint(key.jwk)}
    assert claims["scope"] == "read"
    assert client.get("/strict", headers=testing.dpop_headers(key, "GET", STRICT, token)).json == {
        "ok": True
    }
    # The same token without a proof, or as a bearer token, is refused.
    assert client.get("/strict", headers={"Authorization": f"DPoP {token}"}).status_code == 401
    bearer_headers = testing.auth_headers(app, token=token)
    assert client.get("/resource", headers=bearer_headers).status_code == 401


def test_a_helper_proof_is_single_use_and_names_its_request() -> None:
    """The server refuses a proof used twice, made for another URL or method, or another key."""
    app = dpop_app()
    client = app.test_client()
    key = testing.dpop_key()
    token = testing.dpop_token(app, "alice", key)
    headers = testing.dpop_headers(key, "GET", STRICT, token)
    assert client.get("/strict", headers=headers).status_code == 200
    assert client.get("/strict", headers=headers).json == {
        "msg": "DPoP proof has already been used"
    }
    for method, url in (("POST", STRICT), ("GET", "http://localhost/resource")):
        wrong = testing.dpop_headers(key, method, url, token)
        assert client.get("/strict", headers=wrong).status_code == 401
    thief = testing.dpop_headers(testing.dpop_key(), "GET", STRICT, token)
    assert client.get("/strict", headers=thief).status_code == 401


def test_the_helpers_proof_logs_in_through_the_auth_blueprint_bound_to_the_key() -> None:
    """A login proof (no ``ath``) gets a pair bound to the key, used with the helper's headers."""
    app = auth_app("headers", JWT_DPOP="allowed", JWT_REVOCATION_STORE="memory://")

    @app.get("/me")
    @flask_jwtx.jwt_required(dpop="required")
    def me() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity())

    client = app.test_client()
    key = testing.dpop_key("EdDSA")
    login_proof = testing.dpop_proof(key, "post", "http://localhost/auth/login")
    answer = client.post(
        "/auth/login",
        json={"username": "alice", "password": "wonderland"},
        headers={"DPoP": login_proof},
    )
    body: dict[str, Any] = answer.get_json()
    assert answer.status_code == 200, body
    assert body["token_type"] == "DPoP"
    access = body["access_token"]
    assert claims_of_unverified(access)["cnf"]["jkt"] == key.thumbprint
    me_url = "http://localhost/me"
    assert client.get("/me", headers=testing.dpop_headers(key, "GET", me_url, access)).json == {
        "sub": "alice"
    }


def test_the_kit_offers_the_dpop_helpers() -> None:
    """``JWTTestKit`` (the ``jwtx`` fixture) binds ``dpop_token`` to its app."""
    app = dpop_app()
    kit = testing.JWTTestKit(app)
    key = kit.dpop_key()
    token = kit.dpop_token("bob", key)
    headers = kit.dpop_headers(key, "GET", STRICT, token)
    assert app.test_client().get("/strict", headers=headers).status_code == 200
