"""Property tests: whatever bytes arrive, verification raises only our token errors.

A request's token is attacker input. Hypothesis generates arbitrary strings,
near-valid tokens and validly signed tokens carrying arbitrary payload bytes;
``tokens.decode`` must either return claims (only for well-formed, correctly
signed tokens) or raise a :class:`~flask_jwtx.exceptions.JWTExtendedException`
(a 4xx), never anything that would become a 500.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_jwtx import exceptions as exc
from flask_jwtx import tokens

from .crafted_tokens import HS256, JSON, signed
from .helpers import SECRET

POLICY = tokens.VerifyPolicy(algorithms=frozenset({"HS256"}), max_bytes=65536)


def decode(token: Any) -> dict[str, Any] | None:
    try:
        return tokens.decode(token, POLICY, lambda _a, _h, _t: HS256)[1]
    except exc.JWTExtendedException:
        return None


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.binary(), st.text(alphabet="ab.-_=AQgw", max_size=60)))
def test_arbitrary_input_never_escapes_as_another_exception(token: str | bytes) -> None:
    assert decode(token) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_validly_signed_arbitrary_bytes(header: bytes, payload: bytes) -> None:
    """Refused as one of our token errors, or accepted as a JSON object with its identity."""
    result = decode(signed(header, payload))
    assert result is None or "sub" in result


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=10), JSON, max_size=6))
def test_signed_json_payloads_decode_or_are_refused_cleanly(payload: dict[str, Any]) -> None:
    token = signed(b'{"alg":"HS256","typ":"JWT"}', json.dumps(payload).encode())
    result = decode(token)
    if result is not None:
        assert "sub" in result, "a token is accepted only with its identity claim"


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=10).filter(
            lambda k: k not in {"exp", "nbf", "iat", "sub", "type", "fresh", "jti", "aud", "iss"}
        ),
        JSON,
        max_size=6,
    ),
    st.text(min_size=1, max_size=20),
)
def test_our_tokens_round_trip(extra: dict[str, Any], subject: str) -> None:
    claims = {**extra, "sub": subject}
    result = decode(tokens.encode(dict(claims), HS256))
    assert result is not None
    for name, value in claims.items():
        assert result[name] == value


PRINTABLE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200)


def _protected_app() -> Any:
    from flask import Flask

    import flask_jwtx

    app = Flask(__name__)
    app.config.update(
        JWT_SECRET_KEY=SECRET,
        JWT_TOKEN_LOCATION=["headers", "cookies", "query_string", "json"],
    )
    flask_jwtx.JWTManager(app)

    @app.post("/protected")
    @flask_jwtx.jwt_required()
    def protected() -> str:
        return "ok"

    return app.test_client()


_CLIENT = _protected_app()


@settings(max_examples=300, deadline=None)
@given(authorization=PRINTABLE, query=PRINTABLE, cookie=PRINTABLE, csrf=PRINTABLE)
def test_no_request_input_makes_a_500(
    authorization: str, query: str, cookie: str, csrf: str
) -> None:
    """Through the whole request path, every location at once: only 401s and 422s."""
    response = _CLIENT.post(
        "/protected",
        query_string={"jwt": query},
        headers={
            "Authorization": authorization,
            "X-CSRF-TOKEN": csrf,
            "Cookie": f"access_token_cookie={cookie}",
        },
    )
    assert response.status_code in (401, 422), (response.status_code, response.get_data())
