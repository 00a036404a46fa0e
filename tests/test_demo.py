"""The demo app works as the README says: header mode, cookie mode, and its DPoP part."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import flask_jwtx
from demo import check
from demo.__main__ import COOKIE_MODE, HEADER_MODE
from demo.app import create_app
from flask_jwtx.testing import serve

from .dpop_proofs import jkt, new_key, proof_with_nonce

ROOT = Path(__file__).resolve().parent.parent
ALICE = {"username": "alice", "password": "wonderland"}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(str(tmp_path / "demo.sqlite3"))
    app.config["TESTING"] = True
    yield app
    app.extensions["flask-jwtx"].manager.close(app)


@pytest.fixture
def client(demo: Flask) -> FlaskClient:
    return demo.test_client()


def bearer(token: str) -> dict[str, Any]:
    return {"headers": {"Authorization": f"Bearer {token}"}}


def test_wrong_password_is_refused(client: FlaskClient) -> None:
    response = client.post("/login", json={"username": "alice", "password": "nope"})
    assert response.status_code == 401


def test_header_mode_login_me_fresh_refresh_logout(client: FlaskClient) -> None:
    tokens = client.post("/login", json=ALICE).get_json()
    me = client.get("/me", **bearer(tokens["access_token"])).get_json()
    assert me == {"id": 1, "username": "alice", "fresh": True, "via": "headers"}
    assert client.post("/password", **bearer(tokens["access_token"])).status_code == 200

    refreshed = client.post("/refresh", **bearer(tokens["refresh_token"])).get_json()
    stale = refreshed["access_token"]
    assert client.get("/me", **bearer(stale)).get_json()["fresh"] is False
    denied = client.post("/password", **bearer(stale))
    assert (denied.status_code, denied.get_json()) == (401, {"msg": "Fresh token required"})

    assert client.post("/logout", **bearer(stale)).status_code == 200
    revoked = client.get("/me", **bearer(stale))
    assert (revoked.status_code, revoked.get_json()) == (401, {"msg": "Token has been revoked"})


def test_logout_ends_the_whole_login(client: FlaskClient) -> None:
    """After /logout, no token of that login works: the other access token, the refresh tokens."""
    tokens = client.post("/login", json=ALICE).get_json()
    refreshed = client.post("/refresh", **bearer(tokens["refresh_token"])).get_json()
    other = client.post("/login", json=ALICE).get_json()
    answer = client.post("/logout", **bearer(refreshed["access_token"]))
    assert answer.get_json() == {"msg": "logged out: every token of this login is revoked"}
    assert client.post("/refresh", **bearer(refreshed["refresh_token"])).status_code == 401
    assert client.get("/me", **bearer(tokens["access_token"])).status_code == 401
    assert client.get("/me", **bearer(other["access_token"])).status_code == 200, "other logins"


def test_logout_with_the_refresh_token_ends_the_login_too(client: FlaskClient) -> None:
    """Logging out with either token of a login ends both."""
    tokens = client.post("/login", json=ALICE).get_json()
    assert client.post("/logout", **bearer(tokens["refresh_token"])).status_code == 200
    assert client.get("/me", **bearer(tokens["access_token"])).status_code == 401


def test_refresh_rotation_and_reuse_detection(client: FlaskClient) -> None:
    """With the demo's own settings, a refresh token used a second time ends its session."""
    first = client.post("/login", json=ALICE).get_json()["refresh_token"]
    second = client.post("/refresh", **bearer(first)).get_json()
    stolen = client.post("/refresh", **bearer(first))
    assert (stolen.status_code, stolen.get_json()) == (401, {"msg": "Token has been revoked"})
    assert client.post("/refresh", **bearer(second["refresh_token"])).status_code == 401
    assert client.get("/me", **bearer(second["access_token"])).status_code == 401


def test_logout_everywhere(client: FlaskClient) -> None:
    laptop = client.post("/login", json=ALICE).get_json()
    phone = client.post("/login", json=ALICE).get_json()
    bob = client.post("/login", json={"username": "bob", "password": "builder"}).get_json()
    assert client.post("/logout/everywhere", **bearer(phone["access_token"])).status_code == 200
    for token in (laptop["access_token"], phone["access_token"]):
        assert client.get("/me", **bearer(token)).status_code == 401
    assert client.post("/refresh", **bearer(laptop["refresh_token"])).status_code == 401
    assert client.get("/me", **bearer(bob["access_token"])).status_code == 200
    again = client.post("/login", json=ALICE).get_json()
    assert client.get("/me", **bearer(again["access_token"])).status_code == 200


def test_refresh_tokens_cannot_be_used_as_access_tokens(client: FlaskClient) -> None:
    tokens = client.post("/login", json=ALICE).get_json()
    response = client.get("/me", **bearer(tokens["refresh_token"]))
    assert response.status_code == 422


def test_cookie_mode_with_csrf(client: FlaskClient) -> None:
    assert client.post("/login/cookies", json=ALICE).status_code == 200
    assert client.get("/me").get_json()["via"] == "cookies"
    assert client.post("/password").status_code == 401  # no CSRF header
    csrf = client.get_cookie("csrf_access_token")
    assert csrf is not None
    ok = client.post("/password", headers={"X-CSRF-TOKEN": csrf.value})
    assert ok.status_code == 200

    refresh_csrf = client.get_cookie("csrf_refresh_token")
    assert refresh_csrf is not None
    refreshed = client.post("/refresh", headers={"X-CSRF-TOKEN": refresh_csrf.value})
    assert refreshed.status_code == 200
    assert client.get("/me").get_json()["fresh"] is False

    new_csrf = client.get_cookie("csrf_access_token")
    assert new_csrf is not None
    assert client.post("/logout", headers={"X-CSRF-TOKEN": new_csrf.value}).status_code == 200
    assert client.get_cookie("access_token_cookie") is None
    assert client.get("/me").status_code == 401


def cookie_login(client: FlaskClient) -> dict[str, str]:
    """Log in as the page does (``/auth/login``, JSON); the CSRF header for later calls."""
    assert client.post("/auth/login", json=ALICE).status_code == 200
    return csrf(client, "csrf_access_token")


def csrf(client: FlaskClient, name: str) -> dict[str, str]:
    found = client.get_cookie(name)
    assert found is not None
    return {"X-CSRF-TOKEN": found.value}


def test_other_device_is_a_session_whose_tokens_stay_on_the_server(client: FlaskClient) -> None:
    """The page's other device is a second session of its user, and no token reaches the page."""
    assert client.post("/demo/other-device").status_code == 401, "logged-in users only"
    headers = cookie_login(client)
    response = client.post("/demo/other-device", headers=headers)
    assert response.status_code == 200
    assert set(response.get_json()) == {"session", "device"}
    assert "eyJ" not in response.get_data(as_text=True), "no raw token in the body"
    assert "set-cookie" not in response.headers, "the page's own cookies are left alone"
    listed = client.get("/auth/sessions").get_json()["sessions"]
    other = next(s for s in listed if s["id"] == response.get_json()["session"])
    assert other["current"] is False
    assert "simulated" in other["metadata"]["user_agent"]
    assert len(listed) == 2


def replay_after_a_refresh(client: FlaskClient) -> dict[str, Any]:
    """Log in, rotate once, and have the demo replay the used-up refresh token."""
    cookie_login(client)
    refreshed = client.post("/auth/refresh", headers=csrf(client, "csrf_refresh_token"))
    assert refreshed.status_code == 200
    response = client.post("/demo/replay", headers=csrf(client, "csrf_access_token"))
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def test_replay_is_refused_and_ends_the_session(client: FlaskClient) -> None:
    """The demo's replay is reuse: the thief gets a 401 and the page's session is over."""
    body = replay_after_a_refresh(client)
    assert body["status"] == 401
    assert body["answer"] == {"msg": "Token has been revoked"}
    assert body["session_ended"] is True
    assert body["grace"] == 0
    me = client.get("/auth/me")
    assert (me.status_code, me.get_json()) == (401, {"msg": "Token has been revoked"})


def test_replay_inside_the_grace_window_is_reported_as_let_in(tmp_path: Path) -> None:
    """With a grace window, the replay endpoint says the thief got in and the session lives on."""
    app = create_app(str(tmp_path / "demo.sqlite3"), JWT_REFRESH_REUSE_GRACE=timedelta(hours=1))
    try:
        client = app.test_client()
        body = replay_after_a_refresh(client)
        assert (body["status"], body["answer"]) == (200, {"refreshed": True})
        assert (body["session_ended"], body["grace"]) == (False, 3600)
        assert client.get("/auth/me").status_code == 200
    finally:
        app.extensions["flask-jwtx"].manager.close(app)


def test_the_dpop_login_takes_a_proof_and_binds_the_pair_to_its_key(client: FlaskClient) -> None:
    """``/dpop/login`` without a proof is refused; with one, the pair is bound to its key."""
    bare = client.post("/dpop/login", json=ALICE)
    assert bare.status_code == 400
    assert "access_token" not in bare.get_json()
    key = new_key()
    login = proof_with_nonce(client, "POST", "/dpop/login", key, json=ALICE)
    assert login.status_code == 200
    body = login.get_json()
    assert body["token_type"] == "DPoP"
    with client.application.app_context():
        for token in (body["access_token"], body["refresh_token"]):
            assert flask_jwtx.decode_token(token)["cnf"] == {"jkt": jkt(key)}


def test_the_dpop_profile_takes_bound_tokens_with_their_proofs_only(client: FlaskClient) -> None:
    """``GET /dpop/profile`` answers the key holder, and refuses bearer tokens of any kind."""
    key = new_key()
    access = proof_with_nonce(client, "POST", "/dpop/login", key, json=ALICE).get_json()[
        "access_token"
    ]
    served = proof_with_nonce(client, "GET", "/dpop/profile", key, token=access)
    assert served.status_code == 200
    assert served.get_json()["username"] == "alice"
    assert served.get_json()["bound_to"] == jkt(key)
    assert client.get("/dpop/profile", **bearer(access)).status_code == 401
    unbound = client.post("/login", json=ALICE).get_json()["access_token"]
    refused = client.get("/dpop/profile", **bearer(unbound))
    assert (refused.status_code, refused.get_json()) == (
        401,
        {"msg": "This resource requires a DPoP-bound token and a DPoP proof"},
    )
    assert client.get("/me", **bearer(unbound)).status_code == 200, "other routes take bearer"


def test_the_check_walks_a_login_through_the_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m demo --check`` (as ``bash demo/run.sh --check`` runs it) passes, exit 0."""
    assert check.main(str(tmp_path / "demo.sqlite3")) == 0
    output = capsys.readouterr().out
    assert "[FAIL]" not in output
    assert "all steps passed" in output
    for step in ("alice logs in: 200", "the same login's refresh token: 401"):
        assert step in output
    assert "the DPoP-only API, with a proof: 200" in output


def test_the_check_fails_where_the_demo_cannot_be_built(tmp_path: Path) -> None:
    """Without cryptography (the demo extra once lacked it), the check fails, saying why."""
    hidden = (
        "import runpy, sys; sys.modules['cryptography'] = None; "
        "sys.argv = ['demo', '--check']; runpy.run_module('demo', run_name='__main__')"
    )
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-c", hidden],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert "all steps passed" not in completed.stdout
    assert "pip install 'flask-jwtx[crypto]'" in completed.stderr


def run_in_bash(commands: str, cwd: Path) -> list[Any]:
    """Run walkthrough lines as a user pasting them into bash would; each answer's JSON."""
    assert shutil.which("curl"), "the walkthrough uses curl"
    completed = subprocess.run(  # noqa: S603 - our own walkthrough, against loopback
        ["bash", "-c", f"set -u\n{commands}"],  # noqa: S607 - bash from PATH, as users run it
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (completed.returncode, completed.stderr) == (0, "")
    return [json.loads(line) for line in completed.stdout.splitlines()]


@pytest.mark.slow  # bash, curl and a python3 per token read
def test_the_printed_curl_walkthrough_works_as_written(tmp_path: Path) -> None:
    """The header and cookie lines ``python -m demo`` prints, run verbatim, answer as said."""
    app = create_app(str(tmp_path / "demo.sqlite3"))
    try:
        with serve(app) as base:
            port = int(base.rsplit(":", 1)[1])
            headers = run_in_bash(HEADER_MODE.format(port=port), tmp_path)
            cookies = run_in_bash(COOKIE_MODE.format(port=port), tmp_path)
    finally:
        app.extensions["flask-jwtx"].manager.close(app)
    alice = {"id": 1, "username": "alice"}
    revoked = {"msg": "Token has been revoked"}
    assert headers == [
        {**alice, "fresh": True, "via": "headers"},
        {"msg": "password change allowed for alice"},
        {**alice, "fresh": False, "via": "headers"},
        revoked,  # the used-up refresh token again
        revoked,  # and the pair it was rotated into: reuse ended the login
        {"msg": "logged out: every token of this login is revoked"},
        revoked,  # that login's refresh token
        {"msg": "every session of this user is logged out"},
    ]
    assert cookies == [
        {"login": True},
        {**alice, "fresh": True, "via": "cookies"},
        {"msg": "password change allowed for alice"},
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _call(url: str, data: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


@pytest.mark.slow
def test_python_m_demo_serves_over_http(tmp_path: Path) -> None:
    """The command the README's demo script ends with, on a real server socket."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "demo", "--port", str(port), "--db", str(tmp_path / "d.db")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                tokens = _call(f"{base}/login", ALICE)
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        assert _call(f"{base}/me", token=tokens["access_token"])["username"] == "alice"
        with pytest.raises(urllib.error.HTTPError) as info:
            _call(f"{base}/me")
        assert info.value.code == 401
        info.value.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        assert server.stdout is not None
        server.stdout.close()
