"""The app the load test (bench/load.py) serves under gunicorn, one scenario per run.

``LOAD_SCENARIO`` picks what protects ``/protected``:

* ``unprotected``: nothing (the floor: Flask and gunicorn alone);
* ``nostore``: flask-jwtx, no revocation store;
* ``redis`` / ``postgresql``: flask-jwtx reading the store on every request;
* ``redis+replica`` / ``postgresql+replica``: the same stores through the local replica;
* ``flask-jwt-extended``: Flask-JWT-Extended 4.7.4 with its documented Redis blocklist
  (a ``token_in_blocklist_loader`` doing one ``GET`` of the ``jti``).

``LOAD_STORE_URL`` is the store. Every response names the worker that served
it (``X-Worker``), so the load test can tell which worker refused what.
``/rss`` reports the worker's resident memory.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, jsonify

SECRET = "load-test-secret-that-is-long-enough-0123456789abcdef"
STALENESS = float(os.environ.get("LOAD_MAX_STALENESS", "1.0"))


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1  # pragma: no cover - Linux always reports it


def _common(app: Flask) -> None:
    @app.after_request
    def name_the_worker(response: Response) -> Response:
        response.headers["X-Worker"] = str(os.getpid())
        return response

    @app.get("/open")
    def open_endpoint() -> Any:
        return "ok"

    @app.get("/rss")
    def rss() -> Any:
        return jsonify(pid=os.getpid(), rss_kib=_rss_kib())


def _jwtx(scenario: str, url: str | None) -> Flask:
    import flask_jwtx

    app = Flask("load")
    app.config.update(
        JWT_SECRET_KEY=SECRET,
        JWT_REVOCATION_STORE=url if scenario != "nostore" else None,
        JWT_REVOCATION_REPLICA=scenario.endswith("+replica"),
        JWT_REVOCATION_REPLICA_MAX_STALENESS=STALENESS,
    )
    flask_jwtx.JWTManager(app)
    _common(app)

    @app.get("/protected")
    @flask_jwtx.jwt_required()
    def protected() -> Any:
        return "ok"

    @app.post("/revoke")
    @flask_jwtx.jwt_required()
    def revoke() -> Any:
        flask_jwtx.revoke_token(flask_jwtx.get_jwt())
        return jsonify(revoked=True)

    return app


def _flask_jwt_extended(url: str) -> Flask:
    import flask_jwt_extended as fje
    import redis

    app = Flask("load")
    app.config.update(JWT_SECRET_KEY=SECRET)
    jwt = fje.JWTManager(app)
    blocklist = redis.Redis.from_url(url)
    _common(app)

    @jwt.token_in_blocklist_loader
    def in_blocklist(header: dict[str, Any], payload: dict[str, Any]) -> bool:
        return blocklist.get(payload["jti"]) is not None

    @app.get("/protected")
    @fje.jwt_required()  # type: ignore[untyped-decorator]  # Flask-JWT-Extended is untyped
    def protected() -> Any:
        return "ok"

    @app.post("/revoke")
    @fje.jwt_required()  # type: ignore[untyped-decorator]  # Flask-JWT-Extended is untyped
    def revoke() -> Any:
        blocklist.set(fje.get_jwt()["jti"], "", ex=3600)
        return jsonify(revoked=True)

    return app


def _unprotected() -> Flask:
    app = Flask("load")
    _common(app)

    @app.get("/protected")
    def protected() -> Any:
        return "ok"

    return app


def create_app() -> Flask:
    scenario = os.environ["LOAD_SCENARIO"]
    url = os.environ.get("LOAD_STORE_URL")
    if scenario == "unprotected":
        return _unprotected()
    if scenario == "flask-jwt-extended":
        return _flask_jwt_extended(os.environ["LOAD_STORE_URL"])
    return _jwtx(scenario, url)
