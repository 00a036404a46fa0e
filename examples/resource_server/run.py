"""A client, a real OAuth authorization server and a flask-jwtx API, on loopback.

    python -m examples.resource_server.run    (or: bash examples/resource_server/run.sh)

The authorization server is oidc-provider (Node.js, ``tests/oidc/server.mjs``,
installed with ``npm ci`` in ``tests/oidc``). The client starts from the API's
URL alone: a 401 names the API's metadata (RFC 9728), which names the
authorization server, whose metadata names its token endpoint. It then gets
tokens with the client credentials grant (``resource=`` the API), bearer and
DPoP-bound, and calls the API with them. Exits non-zero if any step does not
answer as expected.

The API is ``https://orders.example/`` (its ``JWT_RESOURCE``), as if deployed
behind a reverse proxy that terminates TLS: the client plays the proxy's
part with ``X-Forwarded-Proto``/``X-Forwarded-Host`` headers, and the API
trusts one proxy (``ProxyFix``), so Flask sees the public URL that DPoP
proofs name (docs/resource-server.md, "Behind a proxy").
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_jwtx.testing import serve
from tests.oidc import launch

from . import api

RESOURCE = "https://orders.example/"
#: What the reverse proxy in front of the API adds to each request it forwards.
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "orders.example"}
CLIENT_ID = "api-client"
CLIENT_SECRET = "a-client-secret-for-tests-only-0123456789"
WIDTH = 90

Answer = tuple[int, Any, dict[str, str]]


@contextlib.contextmanager
def authorization_server() -> Iterator[str]:
    """oidc-provider on an ephemeral loopback port; yields its issuer URL."""
    settings = {"RESOURCE": RESOURCE, "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET}
    try:
        with launch.running(settings) as issuer:
            yield issuer
    except launch.ServerMissingError as missing:
        raise SystemExit(f"{missing} (run.sh does)") from None


def call(
    method: str,
    url: str,
    *,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read()), dict(error.headers)


def dpop_proof(key: ec.EllipticCurvePrivateKey, method: str, url: str, token: str | None) -> str:
    """A DPoP proof (RFC 9449) for one request, signed with the client's key."""
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    claims: dict[str, Any] = {
        "jti": str(uuid.uuid4()),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
    }
    if token is not None:
        digest = hashlib.sha256(token.encode()).digest()
        claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return jwt.encode(claims, key, "ES256", headers={"typ": "dpop+jwt", "jwk": public})


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    failures = 0

    def step(label: str, expected: int, answer: Answer) -> Any:
        nonlocal failures
        ok = answer[0] == expected
        failures += not ok
        shown = json.dumps(answer[1])
        shown = shown if len(shown) <= WIDTH else shown[: WIDTH - 3] + "..."
        print(f"[{'ok' if ok else 'FAIL'}] {label}: {answer[0]} {shown}")
        return answer[1]

    with authorization_server() as issuer:
        app = api.create_app(issuer, RESOURCE)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # type: ignore[method-assign]
        with serve(app) as base:
            _walk(step, issuer, base)  # step() counts the failures
    print(f"\n{'all steps passed' if not failures else f'{failures} step(s) failed'}")
    return 1 if failures else 0


def _walk(step: Any, issuer: str, base: str) -> None:
    """The client's steps against the API served at ``base`` (public URL: ``RESOURCE``)."""

    def to_api(method: str, path: str, headers: dict[str, str] | None = None) -> Answer:
        # Through the "proxy": the API sees https://orders.example/...
        return call(method, f"{base}{path}", headers={**FORWARDED, **(headers or {})})

    orders = urllib.parse.urljoin(RESOURCE, "orders")  # the public URL a proof names
    print(f"authorization server {issuer}  (oidc-provider)")
    print(f"orders API           {base}  (resource {RESOURCE})\n")

    status, body, headers = to_api("GET", "/orders")
    step("no token", 401, (status, body, headers))
    challenge = headers.get("WWW-Authenticate", "")
    print(f"       WWW-Authenticate: {challenge}")
    found = re.search(r'resource_metadata="([^"]+)"', challenge)
    metadata_path = urllib.parse.urlsplit(found.group(1)).path if found else ""
    metadata = step("the API's metadata", 200, to_api("GET", metadata_path))
    server = metadata["authorization_servers"][0]
    discovery = step(
        "the server's metadata",
        200,
        call("GET", f"{server}/.well-known/openid-configuration"),
    )
    token_endpoint = discovery["token_endpoint"]
    credentials = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "resource": RESOURCE,
    }
    reader = step(
        "token for orders:read",
        200,
        call("POST", token_endpoint, form={**credentials, "scope": "orders:read"}),
    )["access_token"]
    bearer = {"Authorization": f"Bearer {reader}"}
    step("list orders", 200, to_api("GET", "/orders", bearer))
    step("create an order with orders:read", 403, to_api("POST", "/orders", bearer))

    key = ec.generate_private_key(ec.SECP256R1())
    bound = step(
        "DPoP-bound token for orders:write",
        200,
        call(
            "POST",
            token_endpoint,
            form={**credentials, "scope": "orders:read orders:write"},
            headers={"DPoP": dpop_proof(key, "POST", token_endpoint, None)},
        ),
    )["access_token"]
    proof = dpop_proof(key, "POST", orders, bound)
    with_proof = {"Authorization": f"DPoP {bound}", "DPoP": proof}
    step("create an order with its proof", 201, to_api("POST", "/orders", with_proof))
    step("the same proof again", 401, to_api("POST", "/orders", with_proof))
    step(
        "the bound token as a bearer token",
        401,
        to_api("POST", "/orders", {"Authorization": f"Bearer {bound}"}),
    )
    thief = ec.generate_private_key(ec.SECP256R1())
    stolen = {
        "Authorization": f"DPoP {bound}",
        "DPoP": dpop_proof(thief, "POST", orders, bound),
    }
    step("the bound token with a thief's proof", 401, to_api("POST", "/orders", stolen))


if __name__ == "__main__":
    sys.exit(main())
