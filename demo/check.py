"""``python -m demo --check``: prove the demo works where it was set up, then exit.

``bash demo/run.sh --check`` installs exactly what ``bash demo/run.sh`` does
(the package and its ``demo`` extra), builds the same app with the same
settings, serves it on a real server (loopback, a free port) and walks one
login through it over HTTP: the page, a login, a protected call, a refresh,
a logout that ends the login, and a DPoP-bound login with its proofs (the
part of the demo that needs ``cryptography``). Each step is printed; the exit
status is 0 if every step answered as expected, else 1.

CI (``.ci/run``) runs it in a venv that holds the ``demo`` extra alone, where
the test suite's venv (every extra) could hide a package the extra lacks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from http import HTTPStatus
from typing import Any

import jwt

import flask_jwtx
from flask_jwtx.testing import serve

from .app import create_app

#: The widest answer printed in full.
WIDTH = 80
ALICE = {"username": "alice", "password": "wonderland"}

Answer = tuple[int, Any, dict[str, str]]


def call(
    method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None
) -> Answer:
    """One HTTP request: status, JSON body (``None`` if not JSON) and headers."""
    data = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, headers=sent, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, _json(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, _json(error.read()), dict(error.headers)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


class DPoPClient:
    """A client's DPoP key (RFC 9449): a proof per request, with the server's latest nonce."""

    def __init__(self) -> None:
        # Imported here: the rest of the check runs (and reports) without it.
        from cryptography.hazmat.primitives.asymmetric import ec

        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        self.nonce: str | None = None

    def proof(self, method: str, url: str, token: str | None) -> str:
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
        }
        if self.nonce is not None:
            claims["nonce"] = self.nonce
        if token is not None:
            digest = hashlib.sha256(token.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        return jwt.encode(claims, self.key, "ES256", headers={"typ": "dpop+jwt", "jwk": self.jwk})

    def call(self, method: str, url: str, *, token: str | None = None, body: Any = None) -> Answer:
        """``url`` with a proof; once more with a fresh one if the server asks for its nonce."""
        answer: Answer = (0, None, {})
        for _ in range(2):
            headers = {"DPoP": self.proof(method, url, token)}
            if token is not None:
                headers["Authorization"] = f"DPoP {token}"
            answer = call(method, url, body=body, headers=headers)
            nonce = answer[2].get("DPoP-Nonce")
            if nonce is None or nonce == self.nonce:
                return answer
            self.nonce = nonce
            if answer[0] != HTTPStatus.UNAUTHORIZED:  # a nonce for next time, on a real answer
                return answer
        return answer


def run(base: str) -> int:
    """Walk one login through the demo at ``base``; the number of steps that went wrong."""
    failures = 0

    def step(label: str, expected: int, answer: Answer) -> Any:
        nonlocal failures
        status, body, _headers = answer
        ok = status == expected
        failures += not ok
        shown = json.dumps(body) if body is not None else "(not JSON)"
        shown = shown if len(shown) <= WIDTH else shown[: WIDTH - 3] + "..."
        print(f"[{'ok' if ok else 'FAIL'}] {label}: {status} {shown}", flush=True)
        return body if isinstance(body, dict) else {}

    def bearer(token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    page = call("GET", f"{base}/")
    step("the browser page is served", 200, page)
    tokens = step("alice logs in", 200, call("POST", f"{base}/login", body=ALICE))
    access = tokens.get("access_token")
    step("a protected call", 200, call("GET", f"{base}/me", headers=bearer(access)))
    renewed = step(
        "refresh: a new pair",
        200,
        call("POST", f"{base}/refresh", headers=bearer(tokens.get("refresh_token"))),
    )
    access, refresh = renewed.get("access_token"), renewed.get("refresh_token")
    step(
        "a protected call with the new access token",
        200,
        call("GET", f"{base}/me", headers=bearer(access)),
    )
    step("logout", 200, call("POST", f"{base}/logout", headers=bearer(access)))
    step("the logged-out access token", 401, call("GET", f"{base}/me", headers=bearer(access)))
    step(
        "the same login's refresh token",
        401,
        call("POST", f"{base}/refresh", headers=bearer(refresh)),
    )
    client = DPoPClient()
    bound = step(
        "a DPoP login (tokens bound to this client's key)",
        200,
        client.call("POST", f"{base}/dpop/login", body=ALICE),
    )
    step(
        "the DPoP-only API, with a proof",
        200,
        client.call("GET", f"{base}/dpop/profile", token=bound.get("access_token")),
    )
    return failures


def main(db_path: str) -> int:
    """Build the demo app on ``db_path``, serve it, run the steps; the exit status."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log between the steps
    print(f"flask-jwtx {flask_jwtx.__version__}: checking the demo (SQLite at {db_path})")
    app = create_app(db_path)
    try:
        with serve(app) as base:
            print(f"serving on {base}\n")
            failures = run(base)
    finally:
        app.extensions["flask-jwtx"].manager.close(app)
    print(f"\n{'all steps passed' if not failures else f'{failures} step(s) failed'}")
    return 1 if failures else 0
