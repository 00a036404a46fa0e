"""docs/resource-server.md's provider entries, against tokens shaped like each provider's.

The page gives one ``JWT_TRUSTED_ISSUERS`` entry each for Auth0, Keycloak and
Entra ID (v2.0), in one ``python`` block. The tests read that block from the
page, move each entry's issuer onto a local issuer (a real HTTP server on
loopback that serves OpenID Connect discovery at the issuer's path and a
JWKS, as the provider does; the path, and so Auth0's trailing slash, is
kept), and present tokens with the header and claims that provider writes
by default. No live provider is needed, and the page cannot drift from what
is tested: an entry edited there is the entry tested here.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx._core.jose.keyset import Key, KeySet
from flask_jwtx.testing import serve

from .helpers import bearer, needs_cryptography, read_key

pytestmark = needs_cryptography

PAGE = Path(__file__).resolve().parent.parent / "docs" / "resource-server.md"
SIGNING = Key.from_pem(algorithm="RS256", private_key=read_key("rsa_private.pem"), kid="idp-1")
OIDC = "/.well-known/openid-configuration"
#: What the page's first example sets: the API's resource identifier.
RESOURCE = "https://api.example.com"


def documented_entries() -> dict[str, dict[str, Any]]:
    """The page's provider entries: the ``python`` block that defines ``AUTH0``, run alone.

    tests/test_docs_examples.py runs it with the rest of the page (it is not
    marked no-run), which proves it is valid Python; this reads what it defines.
    """
    fenced = re.findall(
        r"^```python\n(.*?)^```$", PAGE.read_text(), flags=re.DOTALL | re.MULTILINE
    )
    [block] = [source for source in fenced if "AUTH0 = {" in source]
    namespace: dict[str, Any] = {}
    exec(block, namespace)  # noqa: S102 - our own documentation
    return {name: namespace[name] for name in ("AUTH0", "KEYCLOAK", "ENTRA_ID")}


ENTRIES = documented_entries()


class Provider:
    """Discovery documents and a JWKS on loopback, for any issuer path a test names."""

    def __init__(self) -> None:
        self.base = ""
        self.issuers: list[str] = []
        self.app = Flask("identity-provider")
        self.app.add_url_rule("/<path:path>", "any", self.route)

    def issuer_for(self, documented: str) -> str:
        """``documented`` (a provider's issuer URL) moved here, path and trailing slash kept."""
        local = self.base + urlsplit(documented).path
        self.issuers.append(local)
        return local

    def route(self, path: str) -> Any:
        if path == "keys":
            return jsonify(KeySet([SIGNING]).public_jwks())
        for issuer in self.issuers:
            if f"{self.base}/{path}" == issuer.rstrip("/") + OIDC:
                return jsonify(issuer=issuer, jwks_uri=f"{self.base}/keys")
        return "not found", 404


@pytest.fixture
def provider() -> Iterator[Provider]:
    idp = Provider()
    with serve(idp.app) as base:
        idp.base = base
        yield idp


def sign(claims: dict[str, Any]) -> str:
    """A token as these providers sign access tokens: RS256, ``typ`` ``JWT``, a ``kid``."""
    assert SIGNING.signing is not None
    headers = {"typ": "JWT", "kid": SIGNING.kid}
    return jwt.encode(claims, SIGNING.signing.key, "RS256", headers=headers)


def lifetime() -> dict[str, int]:
    now = int(time.time())
    return {"iat": now, "exp": now + 300}


def auth0_token(issuer: str, audience: str) -> str:
    """Auth0's default ("Auth0") token profile: the API and userinfo in aud, the client in azp."""
    return sign(
        {
            "iss": issuer,
            "sub": "auth0|6543210fedcba",
            "aud": [audience, f"{issuer}userinfo"],
            "azp": "Fv3ZcTcj1cIzWm2fQ8iGhHV0Yyk5hKq1",
            "scope": "openid profile orders:read",
            **lifetime(),
        }
    )


def keycloak_token(issuer: str, audience: list[str] | str) -> str:
    """Keycloak's access token: typ Bearer in the claims, the client in azp, roles, jti."""
    return sign(
        {
            "iss": issuer,
            "sub": str(uuid.uuid4()),
            "aud": audience,
            "typ": "Bearer",
            "azp": "shop-frontend",
            "sid": str(uuid.uuid4()),
            "jti": str(uuid.uuid4()),
            "scope": "openid email profile orders:read",
            "realm_access": {"roles": ["default-roles-shop", "offline_access"]},
            "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
            "preferred_username": "alice",
            **lifetime(),
        }
    )


def entra_token(issuer: str, audience: str) -> str:
    """An Entra ID v2.0 access token: the API's client ID in aud, scopes in scp, no jti."""
    tenant = urlsplit(issuer).path.strip("/").split("/")[0]
    return sign(
        {
            "iss": issuer,
            "aud": audience,
            "azp": "0a1b2c3d-aaaa-bbbb-cccc-444455556666",
            "azpacr": "0",
            "oid": str(uuid.uuid4()),
            "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
            "tid": tenant,
            "scp": "orders:read",
            "uti": "AbCdEf123456",
            "ver": "2.0",
            "nbf": int(time.time()),
            **lifetime(),
        }
    )


def api(entry: dict[str, Any] | str) -> Flask:
    """The page's API (``JWT_RESOURCE``; ``GET /orders`` needs orders:read), trusting ``entry``."""
    app = Flask("orders")
    app.config.update(
        TESTING=True,
        JWT_RESOURCE=RESOURCE,
        JWT_TRUSTED_ISSUERS=[entry],
        JWT_JWKS_TIMEOUT=2,
    )
    flask_jwtx.JWTManager(app)

    @app.get("/orders")
    @flask_jwtx.jwt_required(scope="orders:read")
    def orders() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity())

    return app


def answer(app: Flask, token: str) -> tuple[int, Any]:
    response = app.test_client().get("/orders", headers=bearer(token))
    return response.status_code, response.get_json()


def local(entry: dict[str, Any], provider: Provider, **changes: Any) -> dict[str, Any]:
    """The documented entry with its issuer moved onto ``provider`` (and ``changes`` applied)."""
    return {**entry, "issuer": provider.issuer_for(entry["issuer"]), **changes}


#: The refusals, 401 on a resource server (RFC 6750 ``invalid_token``).
TYP_REFUSED = (401, {"msg": "The token's 'typ' header must be at+jwt"})
AUDIENCE_REFUSED = (401, {"msg": "Audience doesn't match"})
UNTRUSTED = (401, {"msg": "Untrusted issuer"})


class TestAuth0:
    def test_the_entry_accepts_auth0s_default_tokens(self, provider: Provider) -> None:
        """The documented entry takes a token of Auth0's default profile for the API: 200."""
        entry = local(ENTRIES["AUTH0"], provider)
        app = api(entry)
        assert answer(app, auth0_token(entry["issuer"], entry["audience"])) == (
            200,
            {"sub": "auth0|6543210fedcba"},
        )

    def test_the_issuer_keeps_its_trailing_slash(self, provider: Provider) -> None:
        """Configured without Auth0's trailing '/', the issuer is untrusted for every token."""
        entry = local(ENTRIES["AUTH0"], provider)
        assert entry["issuer"].endswith("/")
        without = api({**entry, "issuer": entry["issuer"].rstrip("/")})
        token = auth0_token(entry["issuer"], entry["audience"])
        assert answer(without, token) == UNTRUSTED

    def test_without_the_entry_the_profile_refuses_them(self, provider: Provider) -> None:
        """The issuer by URL alone (the RFC 9068 profile) refuses Auth0's typ JWT."""
        entry = local(ENTRIES["AUTH0"], provider)
        app = api(entry["issuer"])
        assert answer(app, auth0_token(entry["issuer"], RESOURCE)) == TYP_REFUSED


class TestKeycloak:
    def test_the_entry_accepts_tokens_with_the_audience_mapper(self, provider: Provider) -> None:
        """A Keycloak token whose aud the Audience mapper extended with the API: 200."""
        entry = local(ENTRIES["KEYCLOAK"], provider)
        token = keycloak_token(entry["issuer"], [entry["audience"], "account"])
        assert answer(api(entry), token)[0] == 200

    def test_a_token_for_the_account_console_only_is_refused(self, provider: Provider) -> None:
        """Keycloak's default aud ("account", in every client's tokens) is not this API."""
        entry = local(ENTRIES["KEYCLOAK"], provider)
        token = keycloak_token(entry["issuer"], "account")
        assert answer(api(entry), token) == AUDIENCE_REFUSED

    def test_without_the_entry_the_profile_refuses_them(self, provider: Provider) -> None:
        """The realm's URL alone (what the page once showed; RFC 9068 profile on): typ JWT."""
        entry = local(ENTRIES["KEYCLOAK"], provider)
        token = keycloak_token(entry["issuer"], [RESOURCE, "account"])
        assert answer(api(entry["issuer"]), token) == TYP_REFUSED


class TestEntraID:
    def test_the_entry_accepts_v2_tokens_and_reads_scp(self, provider: Provider) -> None:
        """An Entra ID v2.0 token for the API's client ID, scopes in scp: 200."""
        entry = local(ENTRIES["ENTRA_ID"], provider)
        assert entry["issuer"].endswith("/v2.0")
        token = entra_token(entry["issuer"], entry["audience"])
        assert answer(api(entry), token)[0] == 200

    def test_a_token_for_another_api_is_refused(self, provider: Provider) -> None:
        """A token the tenant minted for another application (another aud)."""
        entry = local(ENTRIES["ENTRA_ID"], provider)
        token = entra_token(entry["issuer"], "00000003-0000-0000-c000-000000000000")
        assert answer(api(entry), token) == AUDIENCE_REFUSED

    def test_a_v1_token_of_the_same_tenant_is_an_untrusted_issuer(
        self, provider: Provider
    ) -> None:
        """v1.0 tokens carry sts.windows.net as their issuer: not the configured v2.0 one."""
        entry = local(ENTRIES["ENTRA_ID"], provider)
        tenant = urlsplit(entry["issuer"]).path.strip("/").split("/")[0]
        token = entra_token(f"https://sts.windows.net/{tenant}/", entry["audience"])
        assert answer(api(entry), token) == UNTRUSTED


def test_every_provider_is_tested() -> None:
    """The page's entries are the three these tests cover, each without the RFC 9068 profile."""
    assert set(ENTRIES) == {"AUTH0", "KEYCLOAK", "ENTRA_ID"}
    assert all(entry["profile"] is None and entry["audience"] for entry in ENTRIES.values())
