"""Helpers for testing apps that use flask-jwtx, with pytest or any other runner.

Tests of a protected app need tokens: valid ones with the right claims and
scopes, and invalid ones of each kind the app must refuse. Hand-built tokens
drift from what the app really issues (a forgotten ``csrf`` claim, the
default cookie name instead of the configured one, an "expired" token that
the leeway still accepts). Everything here therefore goes through the app's
own machinery: tokens are minted by :func:`~flask_jwtx.create_access_token`
in the app's context, with its keys, loaders and ``JWT_*`` settings; cookies
are the ones :func:`~flask_jwtx.set_access_cookies` writes; a revoked token
is revoked through the app's store.

Each helper is a plain function taking the app (or a test client) first, so
unittest and other runners use them directly. :class:`JWTTestKit` binds them
to one app; the pytest plugin (:mod:`flask_jwtx_pytest`) hands one
out as the ``jwtx`` fixture.

Times follow the clock the app sees, so freezegun and time-machine work: a
token minted under a frozen clock carries the frozen ``iat``/``exp``, and
moving the clock past ``exp`` expires it.

:func:`serve` runs an app in a real WSGI server (werkzeug's, threaded) on a
free loopback port, for tests where a real HTTP hop matters: a resource
server fetching an issuer's JWKS, a browser, a second process.

Nothing here imports pytest.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any, Final

import werkzeug.test
from flask import Flask, Response
from flask.testing import FlaskClient
from jwt.algorithms import get_default_algorithms
from werkzeug.serving import make_server

from ._core.jose.jws import b64url_encode, encode, unverified_header
from ._core.jose.keys import CRYPTO_INSTALL, HAS_CRYPTOGRAPHY, prepare_key
from ._core.jose.keyset import generate_private_key, public_jwk, thumbprint
from ._core.oauth.dpop import access_token_hash
from ._core.web.cookies import set_access_cookies, set_refresh_cookies
from ._core.web.creation import (
    ExpiresDelta,
    Fresh,
    create_access_token,
    create_refresh_token,
    load_user_for,
)
from ._core.web.decoding import get_csrf_token
from ._core.web.revocation_api import revoke_token
from ._core.web.state import get_state
from .exceptions import ConfigurationError

__all__ = [
    "CookieLogin",
    "DPoPKey",
    "JWTTestKit",
    "access_token",
    "auth_headers",
    "dpop_headers",
    "dpop_key",
    "dpop_proof",
    "dpop_token",
    "expired_token",
    "fresh_token",
    "login",
    "logout",
    "not_yet_valid_token",
    "refresh_token",
    "revoked_token",
    "serve",
    "wrongly_signed_token",
]

#: What ``scopes=`` accepts: a space-separated string or a list of scope names.
Scopes = str | Iterable[str] | None

#: How far past its validity a negative-test token is by default: well beyond
#: any rounding, so the test does not depend on how fast it runs.
DEFAULT_MARGIN: Final = timedelta(minutes=1)


# -- Minting -------------------------------------------------------------------


def _claims(scopes: Scopes, claims: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``additional_claims`` for a token: ``claims``, plus ``scope`` from ``scopes``.

    Scopes are written as RFC 8693's ``scope`` claim, a space-separated
    string, which ``@jwt_required(scope=...)`` reads.
    """
    extra = dict(claims or {})
    if scopes is not None:
        extra["scope"] = scopes if isinstance(scopes, str) else " ".join(scopes)
    return extra or None


def access_token(
    app: Flask,
    identity: Any,
    *,
    scopes: Scopes = None,
    claims: Mapping[str, Any] | None = None,
    fresh: Fresh = False,
    expires_delta: ExpiresDelta = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """An access token for ``identity``, exactly as ``app`` would issue it.

    ``scopes`` (a string or a list) becomes the ``scope`` claim; ``claims``
    are added to (and win over) the app's own; ``fresh``, ``expires_delta``
    and ``headers`` mean what they mean to :func:`~flask_jwtx.create_access_token`.
    """
    with app.app_context():
        return create_access_token(
            identity,
            fresh=fresh,
            expires_delta=expires_delta,
            additional_claims=_claims(scopes, claims),
            additional_headers=headers,
        )


def fresh_token(
    app: Flask,
    identity: Any,
    *,
    scopes: Scopes = None,
    claims: Mapping[str, Any] | None = None,
    expires_delta: ExpiresDelta = None,
) -> str:
    """A fresh access token, for views behind ``@jwt_required(fresh=True)``."""
    return access_token(
        app, identity, scopes=scopes, claims=claims, fresh=True, expires_delta=expires_delta
    )


def refresh_token(
    app: Flask,
    identity: Any,
    *,
    scopes: Scopes = None,
    claims: Mapping[str, Any] | None = None,
    expires_delta: ExpiresDelta = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """A refresh token for ``identity``, exactly as ``app`` would issue it."""
    with app.app_context():
        return create_refresh_token(
            identity,
            expires_delta=expires_delta,
            additional_claims=_claims(scopes, claims),
            additional_headers=headers,
        )


def user_for(app: Flask, identity_claim: Any) -> Any:
    """The app's user for an id, loaded by its ``user_lookup_loader``, as a request would.

    For apps whose ``user_identity_loader`` and ``additional_claims_loader``
    take user objects (``str(user.id)``, ``user.role``): mint with
    ``auth_headers(app, user_for(app, "1"))`` rather than ``auth_headers(app, "1")``,
    which would hand those loaders a string. Raises ``LookupError`` when the
    loader finds no user.
    """
    with app.app_context():
        return load_user_for(identity_claim)


def _token(
    app: Flask,
    identity: Any,
    refresh: bool,
    scopes: Scopes,
    claims: Mapping[str, Any] | None,
    fresh: Fresh = False,
) -> str:
    if refresh:
        return refresh_token(app, identity, scopes=scopes, claims=claims)
    return access_token(app, identity, scopes=scopes, claims=claims, fresh=fresh)


# -- Header mode ---------------------------------------------------------------


def auth_headers(
    app: Flask,
    identity: Any = None,
    *,
    token: str | None = None,
    refresh: bool = False,
    scopes: Scopes = None,
    claims: Mapping[str, Any] | None = None,
    fresh: Fresh = False,
) -> dict[str, str]:
    """The request headers that carry a token the way ``app`` reads it.

    ``{JWT_HEADER_NAME: "<JWT_HEADER_TYPE> <token>"}``, ``Authorization:
    Bearer ...`` by default. Pass ``token=`` to send a token you have (an
    expired one, say); otherwise one is minted for ``identity`` (a refresh
    token with ``refresh=True``).
    """
    if token is None:
        if identity is None:
            raise TypeError("auth_headers() needs an identity to mint a token for, or token=...")
        token = _token(app, identity, refresh, scopes, claims, fresh)
    with app.app_context():
        settings = get_state().settings.get()
    value = f"{settings.header_type} {token}" if settings.header_type else token
    return {settings.header_name: value}


# -- DPoP (RFC 9449) -----------------------------------------------------------


@dataclass(frozen=True)
class DPoPKey:
    """A DPoP client's key pair; ``jwk`` is the public half proofs carry.

    ``thumbprint`` (RFC 7638) is the ``cnf.jkt`` of tokens bound to it.
    """

    algorithm: str
    private_key: Any = field(repr=False)
    jwk: dict[str, Any]

    @property
    def thumbprint(self) -> str:
        return thumbprint(self.jwk)


def dpop_key(algorithm: str = "ES256") -> DPoPKey:
    """A new DPoP key pair for ``algorithm`` (needs ``cryptography``, as DPoP does)."""
    if not HAS_CRYPTOGRAPHY:
        raise ConfigurationError(f"DPoP keys need the cryptography package: {CRYPTO_INSTALL}")
    private = generate_private_key(algorithm)
    return DPoPKey(algorithm, private, public_jwk(algorithm, private.public_key()))


def dpop_proof(
    key: DPoPKey,
    method: str,
    url: str,
    *,
    access_token: str | None = None,
    nonce: str | None = None,
    iat: float | None = None,
) -> str:
    """A DPoP proof for one request, signed as a client signs it.

    ``url`` is the request's URL without query or fragment (``htu``): with
    Flask's test client, ``http://localhost/path`` unless ``SERVER_NAME`` is
    set. ``access_token`` adds its hash (``ath``), for a protected route (a
    login or refresh takes a proof without one); ``nonce`` is the server's
    last ``DPoP-Nonce``. A proof is single-use: make one per request.
    """
    claims: dict[str, Any] = {
        "jti": b64url_encode(os.urandom(16)),
        "htm": method.upper(),
        "htu": url,
        "iat": int(time.time() if iat is None else iat),
    }
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if nonce is not None:
        claims["nonce"] = nonce
    signer = prepare_key(key.algorithm, key.private_key)
    return encode(claims, signer, headers={"typ": "dpop+jwt", "jwk": key.jwk})


def dpop_headers(
    key: DPoPKey, method: str, url: str, token: str, *, nonce: str | None = None
) -> dict[str, str]:
    """``Authorization: DPoP <token>`` and a fresh proof of ``key`` for this request."""
    proof = dpop_proof(key, method, url, access_token=token, nonce=nonce)
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


def dpop_token(
    app: Flask,
    identity: Any,
    key: DPoPKey,
    *,
    refresh: bool = False,
    scopes: Scopes = None,
    claims: Mapping[str, Any] | None = None,
    fresh: Fresh = False,
) -> str:
    """A token for ``identity`` bound to ``key`` (``cnf.jkt``), for :func:`dpop_headers`."""
    bound = {**(claims or {}), "cnf": {"jkt": key.thumbprint}}
    return _token(app, identity, refresh, scopes, bound, fresh)


# -- Cookie mode ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CookieLogin:
    """What :func:`login` put on a test client."""

    access_token: str
    #: ``None`` when logged in with ``refresh=False``.
    refresh_token: str | None
    #: The CSRF header for requests with the access cookie (``{}`` without CSRF
    #: protection). :func:`login` already makes the client send it.
    access_csrf: dict[str, str] = field(default_factory=dict)
    #: The CSRF header a refresh endpoint wants: pass ``headers=login.refresh_csrf``.
    refresh_csrf: dict[str, str] = field(default_factory=dict)


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _server_name(app: Flask) -> str:
    """The host the test client sends requests to (``SERVER_NAME``, else localhost)."""
    return str(app.config.get("SERVER_NAME") or "localhost").rsplit(":", 1)[0]


#: Werkzeug before 2.3 (Flask 2.0 to 2.2) takes the server name as the test
#: client's first ``set_cookie`` argument, and has no ``origin_only``.
_HOST_FIRST: Final = "server_name" in inspect.signature(werkzeug.test.Client.set_cookie).parameters


def _copy_cookies(client: FlaskClient, response: Response) -> None:
    """Store the cookies ``response`` sets in ``client``, with their name, path and domain."""
    host = _server_name(client.application)
    for header in response.headers.getlist("Set-Cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            domain = morsel["domain"].lstrip(".")
            path = morsel["path"] or "/"
            if not _HOST_FIRST:
                client.set_cookie(
                    name,
                    morsel.value,
                    # JWT_COOKIE_DOMAIN covers its subdomains, as in a browser;
                    # without it the cookie belongs to the host alone.
                    domain=domain or host,
                    origin_only=not domain,
                    path=path,
                )
            else:  # pragma: no cover - Werkzeug < 2.3 (scripts/test-min.sh): host first
                old_set_cookie: Any = client.set_cookie  # typed for the current Werkzeug
                old_set_cookie(host, name, morsel.value, domain=domain or None, path=path)


def _csrf_header(app: Flask, token: str, refresh: bool) -> dict[str, str]:
    with app.app_context():
        settings = get_state().settings.get()
        if not settings.csrf_protect:
            return {}
        return {settings.cookies_for(refresh).csrf_header: get_csrf_token(token)}


def login(
    client: FlaskClient,
    identity: Any,
    *,
    scopes: Scopes = None,
    claims: Mapping[str, Any] | None = None,
    fresh: Fresh = False,
    refresh: bool = True,
    csrf: bool = True,
) -> CookieLogin:
    """Log ``client`` in, in cookie mode, as the app's own login view would.

    Mints tokens for ``identity`` and sets the cookies the app's
    ``set_access_cookies``/``set_refresh_cookies`` write, with the configured
    names, paths and domain (CSRF cookies included). With ``csrf=True`` the
    client then sends the access token's CSRF header (``JWT_ACCESS_CSRF_HEADER_NAME``)
    on every request, as the app's page script would; ``csrf=False`` leaves
    it out, to test that a request without it is refused. A refresh endpoint
    wants the refresh token's CSRF value: ``headers=login.refresh_csrf``.
    """
    app = client.application
    access = access_token(app, identity, scopes=scopes, claims=claims, fresh=fresh)
    refreshing = refresh_token(app, identity, scopes=scopes, claims=claims) if refresh else None
    with app.test_request_context():
        response = Response()
        set_access_cookies(response, access)
        if refreshing is not None:
            set_refresh_cookies(response, refreshing)
    _copy_cookies(client, response)
    access_csrf = _csrf_header(app, access, refresh=False)
    if csrf:
        for name, value in access_csrf.items():
            client.environ_base[_environ_key(name)] = value
    return CookieLogin(
        access_token=access,
        refresh_token=refreshing,
        access_csrf=access_csrf,
        refresh_csrf={} if refreshing is None else _csrf_header(app, refreshing, refresh=True),
    )


def logout(client: FlaskClient) -> None:
    """Undo :func:`login`: drop the token and CSRF cookies and the CSRF header."""
    app = client.application
    with app.app_context():
        settings = get_state().settings.get()
    host = _server_name(app)
    shared = (settings.cookie_domain or "").lstrip(".")
    for names in (settings.access, settings.refresh):
        for name, path in ((names.name, names.path), (names.csrf_name, names.csrf_path)):
            if not _HOST_FIRST:
                client.delete_cookie(name, domain=shared or host, path=path)
            else:  # pragma: no cover - Werkzeug < 2.3, as in _copy_cookies
                old_delete_cookie: Any = client.delete_cookie
                old_delete_cookie(host, name, domain=shared or None, path=path)
        client.environ_base.pop(_environ_key(names.csrf_header), None)


# -- Tokens the app must refuse ------------------------------------------------


def _leeway(app: Flask) -> timedelta:
    with app.app_context():
        return timedelta(seconds=get_state().settings.get().policy.leeway)


def _now() -> int:
    # time.time looked up at each call, never bound to a name: freezegun
    # replaces the attribute, and tokens must follow the clock the app sees.
    return int(time.time())


def expired_token(
    app: Flask,
    identity: Any,
    *,
    refresh: bool = False,
    scopes: Scopes = None,
    claims: Mapping[str, Any] | None = None,
    by: timedelta = DEFAULT_MARGIN,
) -> str:
    """A token that expired ``by`` ago *beyond* ``JWT_DECODE_LEEWAY``.

    Issued one configured lifetime before it expired (``iat`` and ``nbf`` in
    the past, as a real token that ran out), so the app answers with its
    expired-token response (401 ``Token has expired`` by default) and nothing else.
    """
    with app.app_context():
        settings = get_state().settings.get()
    lifetime = (settings.refresh_expires if refresh else settings.access_expires) or _NO_LIFETIME
    exp = _now() - int((_leeway(app) + by).total_seconds())
    iat = exp - int(lifetime.total_seconds())
    past = {"iat": iat, "exp": exp}
    if settings.encode_nbf:
        past["nbf"] = iat
    return _token(app, identity, refresh, scopes, {**past, **(claims or {})})


#: The lifetime an expired token had when the app's tokens never expire.
_NO_LIFETIME: Final = timedelta(minutes=15)


def not_yet_valid_token(
    app: Flask,
    identity: Any,
    *,
    refresh: bool = False,
    scopes: Scopes = None,
    claims: Mapping[str, Any] | None = None,
    by: timedelta = DEFAULT_MARGIN,
) -> str:
    """A token whose ``nbf`` is ``by`` *beyond* ``JWT_DECODE_LEEWAY`` in the future.

    The app refuses it (422 ``The token is not yet valid (nbf)`` by default)
    until the clock reaches it.
    """
    nbf = _now() + int((_leeway(app) + by).total_seconds())
    return _token(app, identity, refresh, scopes, {"nbf": nbf, **(claims or {})})


def wrongly_signed_token(
    app: Flask,
    identity: Any,
    *,
    refresh: bool = False,
    scopes: Scopes = None,
    claims: Mapping[str, Any] | None = None,
    fresh: Fresh = False,
) -> str:
    """A token the app refuses for its signature alone.

    The app mints it, then it is signed again with a key the app does not
    have, of the same algorithm (a random secret for HS*, a new key pair of
    the same kind for RS*/PS*/ES*/EdDSA). Header (``alg``, ``kid``) and claims
    are untouched, so the only thing wrong is the signature (422
    ``Signature verification failed`` by default). Nothing is written anywhere.
    """
    token = _token(app, identity, refresh, scopes, claims, fresh)
    header, payload, _ = token.split(".")
    algorithm = unverified_header(token)["alg"]  # the app's, or its key's for a key set
    signing_input = f"{header}.{payload}".encode("ascii")
    impl = get_default_algorithms()[algorithm]
    signature = impl.sign(signing_input, _foreign_key(algorithm))
    return f"{header}.{payload}.{b64url_encode(signature)}"


@functools.cache
def _foreign_key(algorithm: str) -> Any:
    """A key of ``algorithm``'s kind that no app has (made once per process: RSA is slow)."""
    if algorithm.startswith("HS"):
        return os.urandom(64)
    # A key-pair algorithm: the app signs with it, so cryptography is installed.
    return generate_private_key(algorithm)


def revoked_token(
    app: Flask,
    identity: Any,
    *,
    refresh: bool = False,
    scopes: Scopes = None,
    claims: Mapping[str, Any] | None = None,
    fresh: Fresh = False,
) -> str:
    """A valid token, then revoked through the app's revocation store.

    The one helper that writes to the store (one ``jti`` record, expiring
    with the token): the app refuses the token as any revoked one (401
    ``Token has been revoked`` by default). Needs ``JWT_REVOCATION_STORE``.
    """
    token = _token(app, identity, refresh, scopes, claims, fresh)
    with app.app_context():
        if get_state().settings.get().revocation_store is None:
            raise ConfigurationError(
                "revoked_token() revokes through the app's store, and this app has none: "
                "set JWT_REVOCATION_STORE (memory:// is enough for tests)"
            )
        revoke_token(token)
    return token


# -- One app -------------------------------------------------------------------


class JWTTestKit:
    """The helpers above bound to one app: what the ``jwtx`` pytest fixture is.

    ``JWTTestKit(app).access_token("alice")`` is ``access_token(app, "alice")``;
    every method takes the keyword arguments of its function. :meth:`login`
    and :meth:`logout` take a test client, as the functions do.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        # Partials keep each function's exact signature for type checkers.
        self.access_token = functools.partial(access_token, app)
        self.fresh_token = functools.partial(fresh_token, app)
        self.refresh_token = functools.partial(refresh_token, app)
        self.auth_headers = functools.partial(auth_headers, app)
        self.expired_token = functools.partial(expired_token, app)
        self.not_yet_valid_token = functools.partial(not_yet_valid_token, app)
        self.wrongly_signed_token = functools.partial(wrongly_signed_token, app)
        self.revoked_token = functools.partial(revoked_token, app)
        self.user_for = functools.partial(user_for, app)
        self.dpop_token = functools.partial(dpop_token, app)
        self.dpop_key = dpop_key
        self.dpop_proof = dpop_proof
        self.dpop_headers = dpop_headers
        self.login = login
        self.logout = logout


# -- A real server -------------------------------------------------------------


@contextmanager
def serve(app: Flask, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` until the ``with`` block ends; yields its base URL."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
