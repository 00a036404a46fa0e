"""The request URL a DPoP proof's ``htu`` is compared with: the path as the client sent it.

Werkzeug decodes the path once; a ``%`` the client encoded (``%25``) must be
encoded again, or a proof signed for one path would be accepted at another.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, jsonify

import flask_jwtx

from .dpop_proofs import bound_token, new_key, proof
from .helpers import dpop_app


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return new_key()


def _named_app() -> Flask:
    """A DPoP app whose ``/files/<name>`` route answers with the name it routed."""
    app = dpop_app()

    @app.get("/files/<name>")
    @flask_jwtx.jwt_required()
    def named(name: str) -> Any:
        return jsonify(name=name)

    return app


class TestRequestUriPercentEncoding:
    """``htu`` names the URL requested, percent escapes included."""

    @pytest.mark.parametrize(
        ("requested", "signed_for"),
        [
            ("/files/a%2541", "http://localhost/files/aA"),
            ("/files/a%2561", "http://localhost/files/aa"),
            ("/files/a%252F", "http://localhost/files/a/"),
        ],
    )
    def test_a_proof_for_another_path_is_refused_where_the_path_holds_a_percent(
        self, requested: str, signed_for: str, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A proof naming the path with its escapes decoded twice is refused (another URL)."""
        app = _named_app()
        token = bound_token(app, key)
        signed = proof(key, token=token, url=signed_for)
        response = app.test_client().get(
            requested, headers={"Authorization": f"DPoP {token}", "DPoP": signed}
        )
        assert response.status_code == 401, response.get_json()

    @pytest.mark.parametrize(
        ("requested", "name"),
        [
            ("/files/a%2541", "a%41"),
            ("/files/100%25", "100%"),
            ("/files/caf%C3%A9%2520x", "caf\u00e9%20x"),
        ],
    )
    def test_a_path_holding_a_percent_is_proven_by_the_url_the_client_sent(
        self, requested: str, name: str, key: ec.EllipticCurvePrivateKey
    ) -> None:
        """A request whose path holds an encoded '%' is accepted with a proof of that URL."""
        app = _named_app()
        token = bound_token(app, key)
        signed = proof(key, token=token, url=f"http://localhost{requested}")
        response = app.test_client().get(
            requested, headers={"Authorization": f"DPoP {token}", "DPoP": signed}
        )
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == {"name": name}
