"""Opaque access tokens, verified by asking the authorization server (RFC 7662).

Some authorization servers issue opaque (reference) access tokens, or issue
them to some resources: nothing in such a token can be verified locally.
With ``JWT_INTROSPECTION`` set, a presented token that is not a compact JWS
is sent to the server's introspection endpoint, authenticated as this
resource server (HTTP Basic, ``client_secret_basic``); JWTs are still
verified locally, as before.

What comes back is held to the same rules as a JWT's claims:

* ``active`` must be ``true`` (anything else, or no answer, refuses);
* the claims then pass the app's claim checks (``flask_jwtx._core.jose.claims.verify_claims``)
  with ``exp``, ``nbf``, ``iat`` and the audience (``JWT_RESOURCE``, else
  ``JWT_DECODE_AUDIENCE``), and the issuer the configuration names;
* a ``cnf.jkt`` in the answer binds the token to a DPoP key (RFC 9449
  section 6.2), which the DPoP step then requires like a JWT's;
* without ``sub``, the subject is ``client_id`` (a client-credentials token).

The request goes through ``JWKSFetcher``'s HTTP code:
one deadline (``JWT_JWKS_TIMEOUT``) for the whole exchange, a size cap, no
redirects. A server that cannot be reached or answers anything but a JSON
object is :class:`~flask_jwtx.exceptions.KeySourceUnavailableError` (503):
fail closed. Active answers are cached (by the SHA-256 of the token) for at
most ``cache_ttl`` seconds and never past the token's ``exp``: a token the
server revokes keeps working here for up to ``cache_ttl``; set 0 to ask every
time. Inactive answers are not cached.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, ClassVar, Final, NamedTuple
from urllib.parse import quote, urlencode

from ...exceptions import Claims, ConfigurationError, JWTDecodeError
from ..jose.claims import VerifyPolicy, numeric_date, verify_claims
from .jwks import JWKSFetcher

#: How many answers the cache keeps (least recently used are dropped first).
CACHE_SIZE: Final = 10_000
_KEY: Final = "JWT_INTROSPECTION"


class InactiveTokenError(JWTDecodeError):
    """The authorization server says the token is not active (an invalid token)."""

    code: ClassVar[str] = "token_inactive"


class IntrospectionSpec(NamedTuple):
    """``JWT_INTROSPECTION``, validated."""

    endpoint: str
    client_id: str
    client_secret: str
    issuer: str | None
    cache_ttl: float


def introspection_spec(value: Any) -> IntrospectionSpec | None:
    """Validate ``JWT_INTROSPECTION``: ``None``, or a dict naming endpoint and credentials."""
    if value is None:
        return None
    fix = (
        "Use a dict with 'endpoint' (the server's introspection URL), 'client_id' and "
        "'client_secret' (this resource server's credentials), optionally 'issuer' and "
        "'cache_ttl' (seconds, default 60)."
    )
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{_KEY} is {value!r}. {fix}")
    strings = {name: value.get(name) for name in ("endpoint", "client_id", "client_secret")}
    if not all(isinstance(v, str) and v for v in strings.values()):
        raise ConfigurationError(f"{_KEY} lacks endpoint, client_id or client_secret. {fix}")
    endpoint = str(strings["endpoint"])
    if not endpoint.startswith(("https://", "http://")):
        raise ConfigurationError(f"{_KEY} has the endpoint {endpoint!r}. {fix}")
    issuer = value.get("issuer")
    ttl = value.get("cache_ttl", 60)
    if issuer is not None and not (isinstance(issuer, str) and issuer):
        raise ConfigurationError(f"{_KEY} has the issuer {issuer!r}. {fix}")
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 <= ttl < float("inf"):
        raise ConfigurationError(f"{_KEY} has the cache_ttl {ttl!r}. {fix}")
    return IntrospectionSpec(
        endpoint, str(strings["client_id"]), str(strings["client_secret"]), issuer, float(ttl)
    )


def is_opaque(token: str) -> bool:
    """Whether ``token`` is no compact JWS (which has exactly two dots)."""
    return token.count(".") != 2  # noqa: PLR2004 - header.payload.signature


class _Endpoint(JWKSFetcher):
    """The introspection endpoint, POSTed to with the fetcher's deadline and size cap."""

    def answer(self, token: str, authorization: str) -> dict[str, Any]:
        form = urlencode({"token": token, "token_type_hint": "access_token"}).encode()
        return self._get_json_object(form=form, headers={"Authorization": authorization})


class Introspector:
    """Ask the authorization server about opaque tokens; see the module docstring."""

    def __init__(
        self, spec: IntrospectionSpec, *, timeout: float = 5.0, max_bytes: int = 65536
    ) -> None:
        self.spec = spec
        self._endpoint = _Endpoint(spec.endpoint, timeout=timeout, max_bytes=max_bytes)
        # RFC 6749 section 2.3.1: each part form-encoded, then Basic.
        credentials = f"{quote(spec.client_id, safe='')}:{quote(spec.client_secret, safe='')}"
        self._authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
        self._lock = threading.Lock()
        self._cache: OrderedDict[bytes, tuple[Claims, float]] = OrderedDict()

    def _cached(self, digest: bytes, now: float) -> Claims | None:
        with self._lock:
            entry = self._cache.get(digest)
            if entry is None:
                return None
            if entry[1] <= now:
                del self._cache[digest]
                return None
            self._cache.move_to_end(digest)
            return dict(entry[0])

    def _remember(self, digest: bytes, claims: Claims, now: float) -> None:
        ttl = self.spec.cache_ttl
        exp = claims.get("exp")
        until = now + ttl
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            until = min(until, float(exp))
        if until <= now:
            return
        with self._lock:
            self._cache[digest] = (dict(claims), until)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def claims(self, token: str, policy: VerifyPolicy, audience: tuple[str, ...] | None) -> Claims:
        """The verified claims of the opaque ``token``; raise if it is not active or fails."""
        now = time.time()
        digest = hashlib.sha256(token.encode()).digest()
        claims = self._cached(digest, now)
        if claims is None:
            answer = self._endpoint.answer(token, self._authorization)
            if answer.get("active") is not True:
                raise InactiveTokenError("The access token is not active")
            claims = {k: v for k, v in answer.items() if k != "active"}
            if "sub" not in claims and isinstance(claims.get("client_id"), str):
                # A token issued to a client for itself (client credentials) names
                # no user; its subject is the client, as RFC 9068 section 2.2 has it.
                claims["sub"] = claims["client_id"]
            numeric_date(claims, "exp")  # a malformed exp is refused before caching
            self._remember(digest, claims, now)
        checked = dataclasses.replace(
            policy,
            issuers=None,
            issuer=self.spec.issuer,
            audience=audience if audience is not None else policy.audience,
        )
        verify_claims(claims, checked, now)
        return claims
