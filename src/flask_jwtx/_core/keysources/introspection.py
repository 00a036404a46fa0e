"""Opaque access tokens, verified by asking the authorization server (RFC 7662).

Some authorization servers issue opaque (reference) access tokens, or issue
them to some resources: nothing in such a token can be verified locally.
With ``JWT_INTROSPECTION`` set, a presented token that is not a compact JWS
is sent to the server's introspection endpoint, authenticated as this
resource server (HTTP Basic, ``client_secret_basic``); JWTs are still
verified locally, as before.

Before anything is sent, the token must be what a bearer credential can be:
at most ``JWT_MAX_TOKEN_BYTES`` long and token68 (RFC 6750's ``b64token``);
anything else is refused here (401), so junk never costs the server a
request, and what reaches the DPoP step is ASCII.

What comes back is held to the same rules as a JWT's claims:

* ``active`` must be ``true`` (anything else, or no answer, refuses);
* the claims then pass the app's claim checks (``flask_jwtx._core.jose.claims.verify_claims``)
  with ``exp``, ``nbf``, ``iat``, the leeway, the subject rules and the
  audience and issuer :func:`answer_policy` resolves at ``init_app``;
* a ``cnf.jkt`` in the answer binds the token to a DPoP key (RFC 9449
  section 6.2), which the DPoP step then requires like a JWT's;
* without ``sub``, the subject is ``client_id`` (a client-credentials token).

The request goes through ``JWKSFetcher``'s HTTP code:
one deadline (``JWT_JWKS_TIMEOUT``) for the whole exchange, a size cap, no
redirects. A server that cannot be reached or answers anything but a JSON
object is :class:`~flask_jwtx.exceptions.KeySourceUnavailableError` (503):
fail closed, and not remembered.

The server's load is bounded three ways. Active answers are cached (by the
SHA-256 of the token) for at most ``cache_ttl`` seconds and never past the
token's ``exp``: a token the server revokes keeps working here for up to
``cache_ttl``; set 0 to ask every time. Inactive answers are remembered for
``inactive_cache_ttl`` seconds (5 by default), so a client retrying with a
revoked or made-up token is refused from memory. And requests that arrive
while a token is being asked about wait for that answer instead of asking
again (single flight). Each cache holds at most :data:`CACHE_SIZE` entries,
the oldest dropped first: unique junk tokens evict one another, never the
active answers, and memory stays bounded.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, ClassVar, Final, NamedTuple
from urllib.parse import quote, urlencode

from ...exceptions import (
    Claims,
    ConfigurationError,
    DecodeError,
    JWTDecodeError,
    KeySourceUnavailableError,
    TokenTooLargeError,
)
from ..jose.claims import VerifyPolicy, numeric_date, verify_claims
from ..jose.jws import is_token68
from .jwks import JWKSFetcher

#: How many answers each cache (active, inactive) keeps; the oldest go first.
CACHE_SIZE: Final = 10_000
#: How long an inactive answer is remembered unless ``inactive_cache_ttl`` says.
INACTIVE_CACHE_TTL: Final = 5.0
#: How much longer than the fetch deadline a request waits for another's answer.
FOLLOWER_GRACE: Final = 1.0
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
    #: The audiences answers must name (before ``JWT_RESOURCE``); ``None``: inherited.
    audience: tuple[str, ...] | None = None
    #: ``False`` only in so many words: no audience anywhere is then accepted.
    verify_audience: bool = True
    inactive_cache_ttl: float = INACTIVE_CACHE_TTL


def _seconds(value: Any) -> bool:
    """A finite, non-negative number of seconds (not a boolean)."""
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and 0 <= value < float("inf")
    )


#: The cache lifetimes of ``JWT_INTROSPECTION``, and their defaults.
_TTLS: Final = (("cache_ttl", 60), ("inactive_cache_ttl", INACTIVE_CACHE_TTL))
#: Every entry ``JWT_INTROSPECTION`` may have.
_ENTRIES: Final = frozenset(
    ("endpoint", "client_id", "client_secret", "issuer", "audience", "verify_audience")
).union(name for name, _ in _TTLS)


def introspection_spec(value: Any) -> IntrospectionSpec | None:
    """Validate ``JWT_INTROSPECTION``: ``None``, or a dict naming endpoint and credentials."""
    if value is None:
        return None
    fix = (
        "Use a dict with 'endpoint' (the server's introspection URL), 'client_id' and "
        "'client_secret' (this resource server's credentials), optionally 'issuer', "
        "'audience' (a string or a list), 'verify_audience' (True or False), 'cache_ttl' "
        "(seconds, default 60) and 'inactive_cache_ttl' (seconds, default 5)."
    )
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{_KEY} is {value!r}. {fix}")
    unknown = sorted(str(name) for name in value if name not in _ENTRIES)
    if unknown:  # a misspelt 'audience' or 'cache_ttl' would otherwise be ignored
        raise ConfigurationError(f"{_KEY} has unknown entries {unknown}. {fix}")
    strings = {name: value.get(name) for name in ("endpoint", "client_id", "client_secret")}
    if not all(isinstance(v, str) and v for v in strings.values()):
        raise ConfigurationError(f"{_KEY} lacks endpoint, client_id or client_secret. {fix}")
    endpoint = str(strings["endpoint"])
    if not endpoint.startswith(("https://", "http://")):
        raise ConfigurationError(f"{_KEY} has the endpoint {endpoint!r}. {fix}")
    issuer = value.get("issuer")
    if issuer is not None and not (isinstance(issuer, str) and issuer):
        raise ConfigurationError(f"{_KEY} has the issuer {issuer!r}. {fix}")
    ttls = {name: value.get(name, default) for name, default in _TTLS}
    for name, ttl in ttls.items():
        if not _seconds(ttl):
            raise ConfigurationError(f"{_KEY} has the {name} {ttl!r}. {fix}")
    verify_audience = value.get("verify_audience", True)
    if not isinstance(verify_audience, bool):
        raise ConfigurationError(f"{_KEY} has the verify_audience {verify_audience!r}. {fix}")
    return IntrospectionSpec(
        endpoint,
        str(strings["client_id"]),
        str(strings["client_secret"]),
        issuer,
        float(ttls["cache_ttl"]),
        audience=_audience(value.get("audience"), fix),
        verify_audience=verify_audience,
        inactive_cache_ttl=float(ttls["inactive_cache_ttl"]),
    )


def _audience(value: Any, fix: str) -> tuple[str, ...] | None:
    """The ``audience`` entry: one non-empty string or a non-empty list of them; ``None``."""
    if value is None or value == "":
        return None
    names = (value,) if isinstance(value, str) else value
    if (
        not isinstance(names, list | tuple)
        or not names
        or not all(isinstance(n, str) and n for n in names)
    ):
        raise ConfigurationError(f"{_KEY} has the audience {value!r}. {fix}")
    return tuple(names)


def answer_policy(
    spec: IntrospectionSpec, policy: VerifyPolicy, resource: str | None
) -> VerifyPolicy:
    """The claim rules answers are held to: the app's ``policy``, with their issuer and audience.

    Every rule of the app's policy holds (leeway, subject, the app's token
    conventions); what an answer names is checked against:

    * the issuer: ``spec.issuer``, else ``JWT_DECODE_ISSUER`` (the app's, which
      must not silently stop applying because a server answers for the token);
    * the audience, as a trusted issuer's: ``spec.audience``, else
      ``JWT_RESOURCE``, else ``JWT_DECODE_AUDIENCE``. One authorization server
      serves many resources, and each token it issued is active there:
      without an audience check any of them would open this service. So none
      anywhere is a :class:`ConfigurationError` unless the spec says
      ``"verify_audience": False`` (a server that issues tokens for this
      service alone).

    Trusted issuers' own rules (``policy.issuers``) are for their JWTs; an
    answer is the introspection endpoint's word, held to this policy alone.
    """
    audience = spec.audience
    if audience is None and resource is not None:
        audience = (resource,)
    if audience is None:
        audience = policy.audience  # JWT_DECODE_AUDIENCE
    if audience is None and spec.verify_audience:
        raise ConfigurationError(
            f"{_KEY} is set without an audience, so tokens its server issued for other "
            "services would be accepted here. Set JWT_RESOURCE (this service's identifier), "
            f"JWT_DECODE_AUDIENCE or the 'audience' of {_KEY}; only for a server that issues "
            "tokens for this service alone, set 'verify_audience': False."
        )
    return dataclasses.replace(
        policy,
        issuers=None,
        issuer=spec.issuer if spec.issuer is not None else policy.issuer,
        audience=audience,
    )


def is_opaque(token: str) -> bool:
    """Whether ``token`` is no compact JWS (which has exactly two dots)."""
    return token.count(".") != 2  # noqa: PLR2004 - header.payload.signature


def check_sendable(token: str, max_bytes: int) -> None:
    """Raise unless ``token`` may be sent for introspection: within the cap, token68.

    Applied before any request, so that no junk (a megabyte of it, control
    characters, non-ASCII text) reaches the server or, once its answer is
    in, the DPoP step, which hashes the token as ASCII.
    """
    if len(token) > max_bytes:
        raise TokenTooLargeError(f"Token is larger than the {max_bytes} bytes allowed")
    if not is_token68(token):
        raise DecodeError("Invalid token: an opaque access token must be token68 (RFC 6750)")


class _Endpoint(JWKSFetcher):
    """The introspection endpoint, POSTed to with the fetcher's deadline and size cap."""

    def answer(self, token: str, authorization: str) -> dict[str, Any]:
        form = urlencode({"token": token, "token_type_hint": "access_token"}).encode()
        return self._get_json_object(form=form, headers={"Authorization": authorization})


class _Flight:
    """One request to the endpoint, whose outcome every request for the same token shares."""

    __slots__ = ("claims", "done", "error", "waiting")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.claims: Claims | None = None
        self.error: BaseException | None = None
        #: How many requests wait for it (besides the one making it).
        self.waiting = 0


class Introspector:
    """Ask the authorization server about opaque tokens; see the module docstring."""

    def __init__(
        self,
        spec: IntrospectionSpec,
        *,
        timeout: float = 5.0,
        max_bytes: int = 65536,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.spec = spec
        self._endpoint = _Endpoint(spec.endpoint, timeout=timeout, max_bytes=max_bytes)
        self._follower_wait = timeout + FOLLOWER_GRACE
        # RFC 6749 section 2.3.1: each part form-encoded, then Basic.
        credentials = f"{quote(spec.client_id, safe='')}:{quote(spec.client_secret, safe='')}"
        self._authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._cache: OrderedDict[bytes, tuple[Claims, float]] = OrderedDict()
        #: Tokens the server said are not active: digest, and until when that is believed.
        self._inactive: OrderedDict[bytes, float] = OrderedDict()
        self._flights: dict[bytes, _Flight] = {}

    def waiting(self) -> int:
        """How many requests now wait for an answer another request is fetching."""
        with self._lock:
            return sum(flight.waiting for flight in self._flights.values())

    def _cached(self, digest: bytes, now: float) -> Claims | None:
        """The cached active answer, or ``None``; raise for a remembered inactive one."""
        with self._lock:
            inactive_until = self._inactive.get(digest)
            if inactive_until is not None:
                if inactive_until > now:
                    raise InactiveTokenError("The access token is not active")
                del self._inactive[digest]
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
            self._cache.move_to_end(digest)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _remember_inactive(self, digest: bytes, now: float) -> None:
        ttl = self.spec.inactive_cache_ttl
        if ttl <= 0:
            return
        with self._lock:
            self._inactive[digest] = now + ttl
            self._inactive.move_to_end(digest)
            while len(self._inactive) > self._cache_size:
                self._inactive.popitem(last=False)

    def _ask(self, token: str, digest: bytes, now: float) -> Claims:
        """The server's answer about ``token`` (remembered), once however many ask at once."""
        with self._lock:
            flight = self._flights.get(digest)
            leading = flight is None
            if flight is None:
                flight = self._flights[digest] = _Flight()
            else:
                flight.waiting += 1
        if not leading:
            return self._follow(flight)
        try:
            claims = self._fetch(token, digest, now)
        except BaseException as exc:
            flight.error = exc
            raise
        else:
            flight.claims = claims  # never handed out itself: each request gets a copy
        finally:
            # Remembered (by _fetch) before it is let go: a request arriving now
            # finds the cache, never a second request to the server.
            with self._lock:
                del self._flights[digest]
            flight.done.set()
        return dict(claims)

    def _follow(self, flight: _Flight) -> Claims:
        """The outcome of another request's ``flight``, waited for within the fetch deadline."""
        if not flight.done.wait(self._follower_wait):
            raise KeySourceUnavailableError(
                f"Introspection endpoint {self._endpoint.url} did not answer in time"
            )
        if flight.error is not None or flight.claims is None:
            # A copy: one exception object raised in several threads would share a traceback.
            raise copy.copy(flight.error or KeySourceUnavailableError("No answer")) from None
        return dict(flight.claims)

    def _fetch(self, token: str, digest: bytes, now: float) -> Claims:
        answer = self._endpoint.answer(token, self._authorization)
        if answer.get("active") is not True:
            self._remember_inactive(digest, now)
            raise InactiveTokenError("The access token is not active")
        claims = {k: v for k, v in answer.items() if k != "active"}
        if "sub" not in claims and isinstance(claims.get("client_id"), str):
            # A token issued to a client for itself (client credentials) names
            # no user; its subject is the client, as RFC 9068 section 2.2 has it.
            claims["sub"] = claims["client_id"]
        numeric_date(claims, "exp")  # a malformed exp is refused before caching
        self._remember(digest, claims, now)
        return claims

    def claims(self, token: str, policy: VerifyPolicy) -> Claims:
        """The verified claims of the opaque ``token``; raise if it is not active or fails.

        ``policy`` is the one :func:`answer_policy` built for this app.
        """
        check_sendable(token, policy.max_bytes)
        now = time.time()
        digest = hashlib.sha256(token.encode()).digest()
        claims = self._cached(digest, now)
        if claims is None:
            claims = self._ask(token, digest, now)
        verify_claims(claims, policy, now)
        return claims


class Introspection(NamedTuple):
    """An app's introspection: the (shared) client and the rules its answers are held to."""

    introspector: Introspector
    policy: VerifyPolicy

    def claims(self, token: str) -> Claims:
        """The verified claims of the opaque ``token`` (see :meth:`Introspector.claims`)."""
        return self.introspector.claims(token, self.policy)
