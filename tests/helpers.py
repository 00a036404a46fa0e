"""What many test modules share: the secret, the key files, app builders, the bearer header.

Test modules import shared code from here and from the other helper modules
beside it (``stores``, ``jwks_issuer``, ``tls``, ``crafted_tokens``,
``dpop_proofs``, ``introspection_server``), never from another test module or from ``conftest.py``:
``tests/test_import_graph.py`` checks that. Fixtures live in ``conftest.py``,
where pytest finds them; they build on these functions.

This module imports in the minimum-versions environments too
(``scripts/test-min.sh``: Flask 2.0, no ``cryptography``, no store servers),
so what needs more is imported inside the function that needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Request, jsonify

import flask_jwtx
from flask_jwtx._core.jose.keys import ASYMMETRIC_ALGORITHMS, HAS_CRYPTOGRAPHY
from flask_jwtx.exceptions import PYJWT_CHECKS_SUB

#: The key pairs the tests sign with, as PEM files.
KEYS = Path(__file__).parent / "keys"
#: Long enough for HS512, so no test trips the short-secret warning by accident.
SECRET = "test-secret-that-is-long-enough-for-hs512-0123456789abcdef0123456789"


def read_key(name: str) -> str:
    """The PEM text of ``tests/keys/<name>``."""
    return (KEYS / name).read_text()


#: Tests that sign or verify with key pairs. ``cryptography`` is optional (the
#: ``crypto`` extra): the minimum-versions run without it skips them.
needs_cryptography = pytest.mark.skipif(
    not HAS_CRYPTOGRAPHY, reason="cryptography is not installed (the crypto extra)"
)
#: Behaviour that depends on whether the installed PyJWT checks ``sub`` (2.10+):
#: Flask-JWT-Extended inherits that check, so flask-jwtx follows it.
with_sub_check = pytest.mark.skipif(not PYJWT_CHECKS_SUB, reason="PyJWT < 2.10 checks no sub")
without_sub_check = pytest.mark.skipif(PYJWT_CHECKS_SUB, reason="PyJWT >= 2.10 checks sub")


def algorithms(*names: str) -> list[Any]:
    """``names`` as pytest parameters, the key-pair ones marked :data:`needs_cryptography`."""
    return [
        pytest.param(name, marks=needs_cryptography) if name in ASYMMETRIC_ALGORITHMS else name
        for name in names
    ]


def bearer(token: str) -> dict[str, str]:
    """The request headers that present ``token`` as a bearer token."""
    return {"Authorization": f"Bearer {token}"}


#: Every kind of revocation store (see ``stores.store_config``), and those
#: several app instances can share.
ALL_STORES = ["memory", "redis", "sqlite", "postgresql"]
SHARED_STORES = ["redis", "sqlite", "postgresql"]


# -- Apps --------------------------------------------------------------------------------

_OPEN_APPS: list[Flask] = []


def closed_after_test(app: Flask) -> Flask:
    """``app``, whose revocation store connections close when the test ends.

    ``conftest.py``'s autouse fixture calls :func:`close_apps` after every
    test, so a test that builds apps on Redis or PostgreSQL leaks no sockets
    (warnings are errors: an unclosed one fails a later test).
    """
    _OPEN_APPS.append(app)
    return app


def close_apps() -> None:
    """Close the store connections of every app :func:`closed_after_test` was given."""
    while _OPEN_APPS:
        app = _OPEN_APPS.pop()
        app.extensions["flask-jwtx"].manager.close(app)


def make_app(**config: Any) -> Flask:
    """A bare app with flask-jwtx initialised; tests add their own routes."""
    app = Flask(__name__)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)
    app.config.update(config)
    flask_jwtx.JWTManager(app)
    return app


def revocation_app(**config: Any) -> Flask:
    """An app for revocation: ``GET /me``, ``POST /refresh`` (rotating) and ``POST /logout``.

    ``/me`` answers the identity, ``/refresh`` a new pair from
    :func:`~flask_jwtx.rotate_refresh_token`, ``/logout`` revokes the token
    it was called with. Closed after the test.
    """
    app = closed_after_test(make_app(**config))

    @app.get("/me")
    @flask_jwtx.jwt_required()
    def me() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity())

    @app.post("/refresh")
    @flask_jwtx.jwt_required(refresh=True)
    def refresh() -> Any:
        access, refresh_token = flask_jwtx.rotate_refresh_token()
        return jsonify(access_token=access, refresh_token=refresh_token)

    @app.post("/logout")
    @flask_jwtx.jwt_required(verify_type=False)
    def logout() -> Any:
        flask_jwtx.revoke_token(flask_jwtx.get_jwt())
        return jsonify(ok=True)

    return app


#: What a revoked token is answered.
REVOKED = (401, {"msg": "Token has been revoked"})


def write_non_ascii_json(app: Flask) -> Flask:
    """``app`` with a JSON provider that writes non-ASCII characters as they are.

    Apps' orjson providers do; an error body built from a claim must still
    serialise. The provider API is Flask 2.2+, hence the import in here.
    """
    from flask.json.provider import DefaultJSONProvider

    class NonAsciiJSON(DefaultJSONProvider):
        ensure_ascii = False

    app.json = NonAsciiJSON(app)
    return app


def dpop_app(**config: Any) -> Flask:
    """An app that mints its own tokens (HS256) and takes them DPoP-bound (``JWT_DPOP`` allowed).

    Routes: ``/resource`` (GET, POST; any token), ``/strict`` (DPoP required)
    and ``/scoped`` (scope ``read write``). A memory store keeps proofs
    single-use unless ``config`` names another.
    """
    settings: dict[str, Any] = {"JWT_DPOP": "allowed", "JWT_REVOCATION_STORE": "memory://"}
    settings.update(config)
    app = closed_after_test(make_app(**settings))

    @app.route("/resource", methods=["GET", "POST"])
    @flask_jwtx.jwt_required()
    def resource() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity())

    @app.get("/strict")
    @flask_jwtx.jwt_required(dpop="required")
    def strict() -> Any:
        return jsonify(ok=True)

    @app.get("/scoped")
    @flask_jwtx.jwt_required(scope="read write")
    def scoped() -> Any:
        return jsonify(ok=True)

    return app


# -- The auth blueprint ------------------------------------------------------------------

#: The auth blueprint tests' users and their passwords.
USERS = {"alice": "wonderland", "bob": "builder"}


def check_password(request: Request) -> str | None:
    """The blueprint's login check: a JSON body whose username and password match ``USERS``."""
    body = request.get_json(silent=True) or {}
    name = body.get("username")
    return name if isinstance(name, str) and USERS.get(name) == body.get("password") else None


def auth_app(
    mode: str,
    login: Any = check_password,
    trusted_origins: tuple[str, ...] = (),
    **config: Any,
) -> Flask:
    """An app with the auth blueprint at ``/auth`` in ``mode``, rotating refresh tokens.

    Tokens are read from headers and cookies; a reused refresh token ends its
    session at once (no grace). Closed after the test.
    """
    app = make_app(
        JWT_TOKEN_LOCATION=["headers", "cookies"],
        JWT_REFRESH_TOKEN_ROTATION=True,
        JWT_REFRESH_REUSE_GRACE=0,
        **config,
    )
    options = {"trusted_origins": trusted_origins} if trusted_origins else {}
    blueprint = flask_jwtx.create_auth_blueprint(login, mode=mode, **options)  # type: ignore[arg-type]
    app.register_blueprint(blueprint, url_prefix="/auth")
    return closed_after_test(app)
