"""The Flask_PyJWT facade: compared with the real package, then unit by unit."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask

import flask_jwtx
from flask_jwtx.compat import flask_pyjwt as fp

from .helpers import SECRET, bearer, read_key

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = Path(__file__).with_name("flask_pyjwt_scenarios.py")
# The real package pins Flask < 3: it lives in a virtual environment of its own,
# created once and kept (git-ignored) between runs.
REAL_ENV = ROOT / ".cache" / "flask-pyjwt-1.0.0"

#: Scenario -> (ours, theirs): where the facade deliberately differs (docs/flask-pyjwt.md).
KNOWN_DIFFERENCES: dict[str, tuple[Any, Any]] = {
    # Flask_PyJWT documents int subjects, but with PyJWT >= 2.10 its own
    # verification refuses them; the facade keeps the documented behaviour.
    "int subject": ([200, {"message": "ok"}], [401, "auth token is not valid"]),
    # Flask_PyJWT returns early after the first nested dict requirement, so a
    # required claim listed after it is never checked: a token without it passes.
    "claim after a nested claim is missing": (
        [403, "Missing required claim(s)"],
        [200, {"ok": True}],
    ),
}


def _python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _real_flask_pyjwt() -> Path:
    python = _python(REAL_ENV)
    marker = REAL_ENV / ".installed"
    if not marker.exists():
        # No pip of its own (ensurepip takes seconds): the test environment's
        # pip installs into it.
        venv.create(REAL_ENV, with_pip=False, clear=True)
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
                "flask_pyjwt==1.0.0",
            ],
            check=True,
        )
        marker.write_text("flask_pyjwt==1.0.0\n")
    return python


def _scenarios(python: Path | str, module: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": ""}
    completed = subprocess.run(  # noqa: S603 - fixed arguments
        [str(python), str(SCENARIOS), module],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT / "tests",
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@pytest.mark.slow
def test_the_facade_behaves_like_the_real_flask_pyjwt() -> None:
    theirs = _scenarios(_real_flask_pyjwt(), "flask_pyjwt")
    ours = _scenarios(sys.executable, "flask_jwtx.compat.flask_pyjwt")
    assert set(ours) == set(theirs)
    assert len(ours) > 40
    for name, (our_answer, their_answer) in KNOWN_DIFFERENCES.items():
        assert (ours.pop(name), theirs.pop(name)) == (our_answer, their_answer), name
    assert ours == theirs


def make(**config: Any) -> tuple[Flask, fp.AuthManager]:
    app = Flask(__name__)
    app.config.update(JWT_ISSUER="issuer", JWT_AUTHTYPE="HS256", JWT_SECRET=SECRET)
    app.config.update(config)
    return app, fp.AuthManager(app)


class TestTokens:
    def test_auth_token_format(self) -> None:
        _, manager = make(JWT_AUTHMAXAGE=60)
        token = manager.auth_token("alice", {"admin": True}, org="acme")
        assert token.signed is not None
        claims = jwt.decode(token.signed, SECRET, algorithms=["HS256"], issuer="issuer")
        assert claims["type"] == "auth"
        assert claims["scope"] == {"admin": True}
        assert (claims["org"], claims["exp"] - claims["iat"]) == ("acme", 60)
        assert "rid" not in claims
        assert jwt.get_unverified_header(token.signed) == {"alg": "HS256", "typ": "JWT"}

    def test_refresh_token_format(self) -> None:
        _, manager = make()
        token = manager.refresh_token("alice")
        assert token.signed is not None
        claims = jwt.decode(token.signed, SECRET, algorithms=["HS256"], issuer="issuer")
        assert claims["type"] == "refresh"
        assert len(claims["rid"]) >= 16
        assert claims["exp"] - claims["iat"] == 604800

    def test_rsa_keys(self) -> None:
        _, manager = make(
            JWT_AUTHTYPE="RS512",
            JWT_SECRET=read_key("rsa_private.pem").encode(),
            JWT_PUBLICKEY=read_key("rsa_public.pem"),
        )
        token = manager.auth_token("alice")
        assert manager.verify_token(token)
        assert token.signed is not None
        jwt.decode(token.signed, read_key("rsa_public.pem"), algorithms=["RS512"], issuer="issuer")

    def test_a_broken_key_fails_at_init(self) -> None:
        with pytest.raises(fp.InvalidConfigError, match="JWT_SECRET"):
            make(
                JWT_AUTHTYPE="RS256",
                JWT_SECRET=b"not a pem",
                JWT_PUBLICKEY=read_key("rsa_public.pem"),
            )

    def test_verify_refuses_expired_and_foreign_tokens(self) -> None:
        _, manager = make(JWT_AUTHMAXAGE=-5)
        assert not manager.verify_token(manager.auth_token("alice"))
        unsigned = fp.JWT(fp.TokenType.AUTH, "alice")
        assert not manager.verify_token(unsigned)
        assert not manager.verify_token(jwt.encode({"sub": "a"}, None, algorithm="none"))  # type: ignore[arg-type]

    def test_convert_token_requires_the_registered_claims(self) -> None:
        incomplete = jwt.encode({"sub": "a", "iss": "i", "iat": 1, "exp": 2}, SECRET)
        with pytest.raises(jwt.InvalidTokenError):
            fp.AuthManager.convert_token(incomplete)
        with pytest.raises(jwt.InvalidTokenError):
            fp.AuthManager.convert_token("garbage")

    def test_manager_without_app(self) -> None:
        with pytest.raises(fp.MissingSignerError):
            fp.AuthManager().auth_token("alice")


class TestConfiguration:
    def test_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("JWT_ISSUER", "env-issuer")
        monkeypatch.setenv("JWT_AUTHTYPE", "HS512")
        monkeypatch.setenv("JWT_SECRET", SECRET)
        monkeypatch.setenv("JWT_AUTHMAXAGE", "120")
        manager = fp.AuthManager(Flask(__name__))
        assert manager.signer is not None
        assert (manager.signer.issuer, manager.signer.algorithm()) == ("env-issuer", "HS512")
        assert manager.signer.auth_max_age == 120

    def test_short_secret_warns(self) -> None:
        with pytest.warns(flask_jwtx.WeakSecretWarning):
            make(JWT_SECRET="SuperSecretKey")

    def test_errors_are_configuration_errors(self) -> None:
        assert issubclass(fp.MissingConfigError, RuntimeError)
        assert issubclass(fp.InvalidConfigError, RuntimeError)


def test_current_token_outside_a_request_is_none() -> None:
    assert not fp.current_token


class TestForeignTokensNeverAnswer500:
    """Validly signed tokens that are not in Flask_PyJWT's format are refused (401)."""

    @pytest.mark.parametrize(
        "extra",
        [
            {},  # no 'type' at all
            {"type": ["auth"]},
            {"type": {"auth": True}},
            {"type": 7},
            {"type": "bogus"},
            {"type": "auth", "self": 1},
            {"type": "auth", "token_type": "refresh"},
            {"type": "auth", "sub": "alice", "scope": None, "kwargs": 1},
        ],
    )
    def test_signed_foreign_token(self, extra: dict[str, Any]) -> None:
        app, _ = make()

        @app.get("/p")
        @fp.require_token()
        def protected() -> str:
            return "ok"

        now = int(time.time())
        claims = {"sub": "alice", "iss": "issuer", "iat": now, "exp": now + 60, **extra}
        encoded = jwt.encode(claims, SECRET, algorithm="HS256")
        response = app.test_client().get("/p", headers=bearer(encoded))
        expected = 200 if extra.get("type") == "auth" else 401
        assert response.status_code == expected

    def test_claims_named_like_parameters_survive_conversion(self) -> None:
        now = 1_700_000_000
        claims = {"sub": "a", "iss": "i", "iat": now, "exp": now + 1, "type": "auth", "self": 1}
        token = fp.AuthManager.convert_token(jwt.encode(claims, SECRET))
        assert token.claims["self"] == 1
        assert token.token_type is fp.TokenType.AUTH

    def test_convert_token_refuses_an_odd_alg_header_cleanly(self) -> None:
        body = "eyJzdWIiOiJhIn0"
        for header in ('{"alg":["HS256"],"typ":"JWT"}', '{"alg":{},"typ":"JWT"}'):
            segment = base64.urlsafe_b64encode(header.encode()).rstrip(b"=")
            with pytest.raises(jwt.InvalidTokenError):
                fp.AuthManager.convert_token(f"{segment.decode()}.{body}.c2ln")
