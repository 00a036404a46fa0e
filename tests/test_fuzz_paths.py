"""Property tests: no token answers 500 on the trusted-issuer and Flask_PyJWT facade paths.

``test_fuzz`` covers the core and the default request path. These follow
validly signed tokens with arbitrary headers and claims where they meet other
code: the issuer chosen by the unverified ``iss``, the audience inherited by
that issuer, and the facade's conversion of claims into its ``JWT`` object.
Answers may be anything a client can be told (2xx, 401, 403, 422, 503),
never a 500, including with a JSON provider that writes non-ASCII as is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flask_jwtx
from flask_jwtx import tokens
from flask_jwtx._core.jose.keyset import KeySet
from flask_jwtx.compat import flask_pyjwt as fp
from flask_jwtx.testing import serve

from .crafted_tokens import JSON, signed
from .helpers import bearer, write_non_ascii_json
from .jwks_issuer import ISSUER, OLD, JWKSServer

CLIENT_ANSWERS = {200, 401, 403, 422, 503}

CLAIMS = st.dictionaries(
    st.sampled_from(["sub", "iss", "aud", "exp", "nbf", "iat", "type", "jti", "fresh", "x"])
    | st.text(max_size=8),
    JSON,
    max_size=8,
)
HEADERS = st.dictionaries(
    st.sampled_from(["kid", "crit", "typ", "jku", "x5u", "b64"]) | st.text(max_size=6),
    JSON,
    max_size=4,
)


@pytest.fixture(scope="module")
def trusting_client() -> Iterator[FlaskClient]:
    server = JWKSServer()
    server.keys = KeySet([OLD])
    with serve(server.app) as base:
        app = Flask(__name__)
        write_non_ascii_json(app)
        app.config.update(
            JWT_DECODE_AUDIENCE="api",
            JWT_TRUSTED_ISSUERS=[
                {"issuer": ISSUER, "jwks_url": f"{base}/jwks", "algorithms": ["RS256"]},
                {"issuer": "https://other.test", "jwks_url": f"{base}/jwks", "audience": "x"},
            ],
        )
        flask_jwtx.JWTManager(app)

        @app.get("/data")
        @flask_jwtx.jwt_required(scope="read")
        def data() -> Any:
            return jsonify(sub=flask_jwtx.get_jwt_identity())

        yield app.test_client()


@pytest.mark.slow
@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claims=CLAIMS, header=HEADERS, iss=st.sampled_from([ISSUER, "https://other.test"]) | JSON)
def test_trusted_issuers_never_answer_500(
    trusting_client: FlaskClient, claims: dict[str, Any], header: dict[str, Any], iss: Any
) -> None:
    assert OLD.signing is not None
    body = {**claims, "iss": iss}
    try:
        encoded = tokens.encode(body, OLD.signing, headers={**header, "kid": "old"})
    except (TypeError, ValueError):  # a header our encoder refuses to write
        return
    response = trusting_client.get("/data", headers=bearer(encoded))
    assert response.status_code in CLIENT_ANSWERS, response.get_data()


FACADE_SECRET = "facade-fuzz-secret-long-enough-for-hs512-0123456789abcdef0123456789"


@pytest.fixture(scope="module")
def facade_client() -> FlaskClient:
    app = Flask(__name__)
    write_non_ascii_json(app)
    app.config.update(JWT_ISSUER="issuer", JWT_AUTHTYPE="HS256", JWT_SECRET=FACADE_SECRET)
    fp.AuthManager(app)

    @app.get("/users/<name>")
    @fp.require_token(scope={"read": True}, sub="name", override={"admin": True})
    def user(name: str) -> Any:
        return jsonify(name=name, sub=fp.current_token.sub)

    @app.get("/refresh")
    @fp.require_token("refresh")
    def refresh() -> Any:
        return jsonify(ok=True)

    return app.test_client()


@pytest.mark.slow
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claims=CLAIMS, registered=st.booleans(), path=st.sampled_from(["/users/a", "/refresh"]))
def test_the_flask_pyjwt_facade_never_answers_500(
    facade_client: FlaskClient, claims: dict[str, Any], registered: bool, path: str
) -> None:
    if registered:  # most of them verify, so conversion and requirements are reached
        claims = {"iss": "issuer", "iat": 1, "exp": 4_000_000_000, "sub": "a", **claims}
    key = fp.AuthData(fp.AuthType.HS256, FACADE_SECRET, "issuer", 60, 60).signing_key
    try:
        payload = json.dumps(claims).encode()
    except ValueError:
        return
    signing_input = signed(b'{"alg":"HS256","typ":"JWT"}', payload).rsplit(".", 1)[0]
    encoded = f"{signing_input}.{tokens.b64url_encode(key.sign(signing_input.encode()))}"
    response = facade_client.get(path, headers=bearer(encoded))
    assert response.status_code in CLIENT_ANSWERS, response.get_data()
