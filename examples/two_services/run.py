"""Start the auth and resource services on loopback and walk through a session.

    python -m examples.two_services.run

Both services run in real WSGI servers (werkzeug, threaded) on free ports;
the client talks HTTP to both. Exits non-zero if any step does not answer as
expected.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from flask_jwtx.testing import serve

from . import auth_service, resource_service

#: The widest answer the walkthrough prints in full.
WIDTH = 90


def call(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in the walkthrough
    failures = 0
    with serve(auth_service.create_app()) as auth:
        jwks_url = f"{auth}/.well-known/jwks.json"
        with serve(resource_service.create_app(jwks_url)) as api:
            print(f"auth service     {auth}  (JWKS at {jwks_url})")
            print(f"resource service {api}  (trusts only that JWKS)\n")

            def step(label: str, expected: int, answer: tuple[int, Any]) -> Any:
                nonlocal failures
                ok = answer[0] == expected
                failures += not ok
                shown = json.dumps(answer[1])
                shown = shown if len(shown) <= WIDTH else shown[: WIDTH - 3] + "..."
                print(f"[{'ok' if ok else 'FAIL'}] {label}: {answer[0]} {shown}")
                return answer[1]

            step("JWKS published", 200, call("GET", jwks_url))
            alice = step(
                "alice logs in",
                200,
                call("POST", f"{auth}/login", {"username": "alice", "password": "wonderland"}),
            )
            bob = step(
                "bob logs in",
                200,
                call("POST", f"{auth}/login", {"username": "bob", "password": "builder"}),
            )
            step("no token", 401, call("GET", f"{api}/reports"))
            step("alice reads", 200, call("GET", f"{api}/reports", token=alice["access_token"]))
            step(
                "alice may not delete",
                403,
                call("DELETE", f"{api}/reports/q3.pdf", token=alice["access_token"]),
            )
            step(
                "bob deletes",
                200,
                call("DELETE", f"{api}/reports/q3.pdf", token=bob["access_token"]),
            )
            step(
                "tampered token",
                422,
                call("GET", f"{api}/reports", token=alice["access_token"][:-4] + "AAAA"),
            )
            step("auth service rotates its key", 200, call("POST", f"{auth}/admin/rotate"))
            time.sleep(0.3)  # the resource service's minimum refetch interval, shortened
            fresh = step(
                "alice logs in again",
                200,
                call("POST", f"{auth}/login", {"username": "alice", "password": "wonderland"}),
            )
            step(
                "new key, fetched on its unknown kid",
                200,
                call("GET", f"{api}/reports", token=fresh["access_token"]),
            )
            step(
                "token from the retired key still verifies",
                200,
                call("GET", f"{api}/reports", token=alice["access_token"]),
            )
    print(f"\n{'all steps passed' if not failures else f'{failures} step(s) failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
