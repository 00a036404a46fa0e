"""DPoP proofs (RFC 9449) checked by a resource server; Flask-free.

A DPoP-bound access token names the client's public key by its RFC 7638
thumbprint (``cnf.jkt``). With each request the client sends a *proof*: a
small JWS signed with that key, carrying the public key itself (``jwk``), the
request's method (``htm``) and URL (``htu``), when it was made (``iat``), a
unique id (``jti``), a hash of the access token (``ath``) and, when the server
asks for one, a server-chosen ``nonce``. A stolen token is then useless
without the private key, and a captured proof is useless anywhere else: for
another URL or method, after its time window, or a second time.

:func:`verify_proof` makes every check RFC 9449 section 4.3 lists, strictly:

* ``typ`` must be ``dpop+jwt``; ``alg`` must be in the allow-list, which can
  hold only asymmetric algorithms (an HMAC proof proves nothing: its key would
  have to be sent along), never ``none``;
* ``jwk`` must be a public key of the kind ``alg`` names: a JWK holding any
  private member is refused (a client that leaks its private key in every
  request has no key to prove), and so is a key too weak for its algorithm;
* the signature must verify with that key;
* ``htm`` must equal the request method; ``htu`` the request URL without
  query and fragment, both normalised (:func:`normalize_uri`; the request's
  own path keeps its dot segments, see :func:`verify_proof`), and, when the
  service knows its own origin (``JWT_RESOURCE``), name that origin;
* ``iat`` must lie within ``iat_window`` seconds of now, either way;
* ``ath`` must be the base64url SHA-256 of the access token;
* with nonces on, ``nonce`` must be one this service issued, still fresh
  (:class:`NonceSource`); a missing or stale one is :class:`UseDPoPNonceError`.

Then :func:`check_binding` compares the token's ``cnf.jkt`` with the proof
key's thumbprint, and :func:`replay_record` gives the store record whose
atomic ``put_if_absent`` makes the ``jti`` single-use across every instance.
A token confirmed any other way (``cnf`` holding anything but ``jkt``) is
refused everywhere (:func:`bound_key`): this service can check no other
confirmation method, so it cannot tell such a token's holder from its thief.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, NamedTuple
from urllib.parse import urlsplit

from ...exceptions import Claims, Header, InvalidKeyError, JWTExtendedException
from ..jose.claims import is_number
from ..jose.jws import ParsedToken, b64url_encode, verify
from ..jose.keys import ASYMMETRIC_ALGORITHMS, PreparedKey
from ..jose.keyset import PRIVATE_MEMBERS, Key, thumbprint
from ..revocation.policy import CLOCK_MARGIN, Record, record_key

#: The proof's ``typ`` header (RFC 9449 section 4.2).
PROOF_TYPE: Final = "dpop+jwt"
#: What ``JWT_DPOP`` (and ``jwt_required(dpop=...)``) may say.
MODES: Final = ("off", "allowed", "required")
#: Asymmetric algorithms accepted by default for proofs.
DEFAULT_ALGORITHMS: Final = (
    "ES256",
    "ES384",
    "ES512",
    "PS256",
    "PS384",
    "PS512",
    "RS256",
    "RS384",
    "RS512",
    "EdDSA",
)
#: Every algorithm a proof could use: the key-pair ones (which need ``cryptography``).
PROOF_ALGORITHMS: Final = ASYMMETRIC_ALGORITHMS
#: A ``jti`` longer than this is refused: it is stored (hashed) and logged.
MAX_JTI_LENGTH: Final = 256
#: Bytes of the HMAC kept in a nonce: 128 bits cannot be guessed.
_NONCE_MAC_BYTES: Final = 16
_NONCE_CONTEXT: Final = b"flask-jwtx dpop nonce\x00"
_TIME = struct.Struct(">Q")


class ProofOfPossessionError(JWTExtendedException):
    """A request failed a DPoP check (401, answered by the ``unauthorized_loader``).

    ``challenge`` is the RFC 9449 / RFC 6750 error code the
    ``WWW-Authenticate: DPoP`` challenge carries.
    """

    status: ClassVar[int] = 401
    code: ClassVar[str] = "invalid_dpop_proof"
    challenge: ClassVar[str] = "invalid_dpop_proof"


class InvalidDPoPProofError(ProofOfPossessionError):
    """The ``DPoP`` proof is missing, malformed, or fails one of its checks (401)."""


class UseDPoPNonceError(ProofOfPossessionError):
    """The proof lacks a fresh server nonce; the answer carries one in ``DPoP-Nonce`` (401)."""

    code: ClassVar[str] = "use_dpop_nonce"
    challenge: ClassVar[str] = "use_dpop_nonce"


class DPoPBindingError(ProofOfPossessionError):
    """The token and the way it was presented disagree (401, ``invalid_token``).

    A DPoP-bound token presented as a bearer token (a downgrade), a bearer
    token under the ``DPoP`` scheme, a proof signed by another key than the
    one the token is bound to, a bearer token where DPoP is required, or a
    token bound by a confirmation method other than ``cnf.jkt``.
    """

    code: ClassVar[str] = "invalid_dpop_binding"
    challenge: ClassVar[str] = "invalid_token"


class InvalidDPoPCredentialError(ProofOfPossessionError):
    """The ``Authorization: DPoP`` credential is no token68 (401, ``invalid_token``).

    RFC 9449 section 7.1 gives the DPoP scheme RFC 7235's ``token68``
    syntax: ASCII letters, digits and ``-._~+/``, then optional ``=``. A
    credential outside it is no token of any kind, and is refused before any
    later step (decoding, introspection, the proof's ``ath``) sees it.
    """

    code: ClassVar[str] = "invalid_token"
    challenge: ClassVar[str] = "invalid_token"


class NonceSource:
    """Server nonces every instance can check without sharing state.

    A nonce is the time it was issued and a MAC of that time and of the
    resource it was issued for, under a secret every instance is configured
    with (``JWT_DPOP_NONCE_SECRET``). It is fresh for ``lifetime`` seconds;
    no store is written, and a forged or expired one is simply refused with
    a fresh one in the answer. The resource (``JWT_RESOURCE``, else the
    request's origin) is in the MAC so that services which share the secret
    (one configuration copied to several apps) do not accept each other's
    nonces: a nonce says "issued by this service", not "by any holder of
    the secret".
    """

    __slots__ = ("_secret", "lifetime")

    def __init__(self, secret: bytes, lifetime: float) -> None:
        self._secret = secret
        self.lifetime = lifetime

    def _mac(self, issued: bytes, resource: str) -> bytes:
        # The resource comes first, ended by a NUL (which no URL holds), so
        # no resource and time can be read as another resource and time.
        material = _NONCE_CONTEXT + resource.encode("utf-8", "surrogatepass") + b"\x00" + issued
        return hmac.digest(self._secret, material, "sha256")[:_NONCE_MAC_BYTES]

    def issue(self, now: float, resource: str) -> str:
        """A new nonce for ``resource``, fresh from ``now``."""
        issued = _TIME.pack(int(now))
        return b64url_encode(issued + self._mac(issued, resource))

    def fresh(self, nonce: Any, now: float, resource: str) -> bool:
        """Whether ``nonce`` was issued for ``resource`` less than ``lifetime`` seconds ago."""
        if not isinstance(nonce, str) or not re.fullmatch(r"[A-Za-z0-9_-]{32}", nonce):
            return False
        raw = _b64url_decode(nonce)
        issued, mac = raw[: _TIME.size], raw[_TIME.size :]
        if not hmac.compare_digest(mac, self._mac(issued, resource)):
            return False
        seconds: int = _TIME.unpack(issued)[0]
        # One second of slack for the truncation to whole seconds at issue.
        return now - self.lifetime <= seconds <= now + 1


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class DPoPPolicy:
    """How this service checks DPoP; resolved once from the ``JWT_DPOP*`` settings."""

    #: "off", "allowed" or "required": the app's default; a route may say otherwise.
    mode: str = "off"
    algorithms: frozenset[str] = frozenset(DEFAULT_ALGORITHMS)
    #: How far from now (either way) a proof's ``iat`` may be, in seconds.
    iat_window: float = 60.0
    #: The size cap for a proof (``JWT_MAX_TOKEN_BYTES``).
    max_bytes: int = 8192
    #: Server nonces, when ``JWT_DPOP_NONCE_SECRET`` is set.
    nonces: NonceSource | None = None


class Proof(NamedTuple):
    """A proof that passed :func:`verify_proof`."""

    header: Header
    claims: Claims
    #: The RFC 7638 thumbprint of the proof's key.
    jkt: str


# --- URL normalisation (RFC 3986 section 6.2.2 and 6.2.3) ------------------------

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _percent(match: re.Match[str]) -> str:
    byte = int(match.group(1), 16)
    return chr(byte) if byte in _UNRESERVED else f"%{match.group(1).upper()}"


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, so ``/a/./b/../c`` and ``/a/c`` compare equal."""
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")):
        output.append("")
    return "/" + "/".join(output)


def normalize_uri(uri: Any, *, dot_segments: bool = True) -> str | None:
    """``uri`` without query and fragment, normalised for comparison; ``None`` if unusable.

    Scheme and host are lower-cased, a default port is dropped, percent
    escapes are upper-cased (and decoded where they stand for an unreserved
    character), dot segments are removed and an empty path is ``/``. Only
    absolute ``http``/``https`` URLs without user information are usable.
    With ``dot_segments=False`` the path's ``.`` and ``..`` segments are kept
    as they are (for the request's own URL: see :func:`verify_proof`).
    """
    if not isinstance(uri, str) or not uri.isascii():
        return None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:  # a port out of range, a bad IPv6 literal
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    authority = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _PERCENT.sub(_percent, parts.path) or "/"
    if dot_segments:
        path = _remove_dot_segments(path)
    return f"{scheme}://{authority}{path}"


def _origin(normalized: str) -> str:
    """``scheme://host[:port]`` of a URL :func:`normalize_uri` returned."""
    scheme, _, rest = normalized.partition("://")
    return f"{scheme}://{rest.partition('/')[0]}"


# --- The proof -------------------------------------------------------------------


def access_token_hash(access_token: str) -> str:
    """``ath``: the base64url SHA-256 of the access token's ASCII text."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())


def _proof_key(algorithm: str, header: Header) -> Key:
    """The public key in the proof's ``jwk`` header, fit for ``algorithm``; else refuse."""
    jwk = header.get("jwk")
    if not isinstance(jwk, Mapping):
        raise InvalidDPoPProofError("DPoP proof has no 'jwk' header holding the public key")
    if PRIVATE_MEMBERS & set(jwk) or jwk.get("kty") == "oct":
        raise InvalidDPoPProofError("DPoP proof 'jwk' must be a public key")
    try:
        return _parsed_key(algorithm, json.dumps(jwk, sort_keys=True, separators=(",", ":")))
    except (InvalidKeyError, ValueError, TypeError) as exc:
        raise InvalidDPoPProofError(f"DPoP proof 'jwk' is not usable: {exc}") from None


@functools.lru_cache(maxsize=256)
def _parsed_key(algorithm: str, canonical_jwk: str) -> Key:
    """A proof key, parsed and checked once per client key (a client reuses its key).

    Keyed by the canonical JSON of the whole JWK and the algorithm, so a
    different member anywhere is a different entry; a key that fails to
    parse is not cached (the error propagates).
    """
    return Key.from_jwk(json.loads(canonical_jwk), algorithm=algorithm)


def _signed(proof: str, policy: DPoPPolicy) -> ParsedToken:
    """The proof parsed and its signature verified with its own ``jwk``."""

    def lookup(algorithm: str, header: Header, _token: ParsedToken) -> PreparedKey:
        if header.get("typ") != PROOF_TYPE:
            raise InvalidDPoPProofError(f"DPoP proof 'typ' must be {PROOF_TYPE!r}")
        return _proof_key(algorithm, header).verifying

    try:
        parsed = verify(proof, policy.algorithms, policy.max_bytes, lookup)
    except ProofOfPossessionError:
        raise
    except JWTExtendedException as exc:  # form, alg, crit, signature
        raise InvalidDPoPProofError(f"Invalid DPoP proof: {exc}") from None
    return parsed


def _string_claim(claims: Claims, name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidDPoPProofError(f"DPoP proof has no '{name}' claim")
    return value


def verify_proof(
    proof: str,
    *,
    method: str,
    url: str | None,
    access_token: str | None,
    policy: DPoPPolicy,
    now: float,
    resource: str | None = None,
    nonce_scope: str = "",
) -> Proof:
    """Every check of RFC 9449 section 4.3 (see the module docstring); the verified proof.

    ``url`` is the request's URL as the service sees it, as a URI (its
    query is ignored; ``None``, a URL no URI can name, matches no proof).
    ``access_token`` is ``None`` for a token request (the proof a client
    sends to obtain a bound token carries no ``ath``). ``resource``
    (``JWT_RESOURCE``) is who this service is: the origin ``htu`` names must
    be its origin, whatever ``Host`` header built ``url``. ``nonce_scope``
    is what nonces are issued for (:class:`NonceSource`). Raises
    :class:`InvalidDPoPProofError` or :class:`UseDPoPNonceError`.

    The two URLs are not normalised alike. ``htu`` is what the client signed:
    RFC 3986 syntax-based and scheme-based normalisation (section 6.2.2 and
    6.2.3, as RFC 9449 section 4.3 recommends), dot segments removed, so
    ``/a/../orders`` names ``/orders`` as the client's HTTP library sends it.
    The request's URL is what was routed: its dot segments are *kept*, so a
    request whose path still holds ``.`` or ``..`` (sent raw, or as
    ``%2E``, or made of ``%2F``-encoded slashes the server decoded) matches
    no proof. Removing them on this side would make ``/files/a/../../orders``
    (which reaches the ``/files/<path>`` view) equal to ``/orders``, and let
    a proof for one resource act on another. Encoded slashes (``%2F``) stay
    encoded in ``htu`` and are decoded by the server in the request's path,
    so a proof naming one never matches either: refused, never widened.
    """
    parsed = _signed(proof, policy)
    try:
        claims = parsed.claims()
    except JWTExtendedException as exc:
        raise InvalidDPoPProofError(f"Invalid DPoP proof: {exc}") from None
    jti = _string_claim(claims, "jti")
    if len(jti) > MAX_JTI_LENGTH:
        raise InvalidDPoPProofError("DPoP proof 'jti' is too long")
    if _string_claim(claims, "htm") != method:
        raise InvalidDPoPProofError("DPoP proof 'htm' does not match the request method")
    htu = normalize_uri(_string_claim(claims, "htu"))
    if htu is None or htu != normalize_uri(url, dot_segments=False):
        raise InvalidDPoPProofError("DPoP proof 'htu' does not match the request URL")
    if resource is not None:
        own = normalize_uri(resource)
        if own is None or _origin(htu) != _origin(own):
            raise InvalidDPoPProofError("DPoP proof 'htu' names another origin than this resource")
    iat: Any = claims.get("iat")
    if not is_number(iat):
        raise InvalidDPoPProofError("DPoP proof has no numeric 'iat' claim")
    if not math.fabs(float(iat) - now) <= policy.iat_window:
        raise InvalidDPoPProofError("DPoP proof 'iat' is outside the accepted window")
    if access_token is not None:  # None: a token request, where no token exists yet
        ath = _string_claim(claims, "ath")
        if not hmac.compare_digest(ath.encode(), access_token_hash(access_token).encode()):
            raise InvalidDPoPProofError("DPoP proof 'ath' does not match the access token")
    nonces = policy.nonces
    if nonces is not None and not nonces.fresh(claims.get("nonce"), now, nonce_scope):
        raise UseDPoPNonceError("DPoP proof needs a fresh server nonce")
    # The thumbprint of the JWK as sent: what the authorization server bound
    # the token to (members checked by the key's parsing above).
    return Proof(parsed.header, claims, thumbprint(parsed.header["jwk"]))


def bound_key(claims: Claims) -> str | None:
    """The thumbprint a token is bound to (``cnf.jkt``), or ``None`` for a bearer token.

    A token with no ``cnf`` claim is a bearer token. Any ``cnf`` is a
    confirmation (RFC 7800): the token is for its holder only. The one
    method this service can check is DPoP's ``jkt``, so any other ``cnf``
    (a certificate's ``x5t#S256`` for mutual TLS, a ``jwk``, a ``kid``, a
    ``jkt`` beside another member, or no object at all) is refused with
    :class:`DPoPBindingError`: accepted as a bearer token, the copy of a
    certificate-bound token would work without the certificate.
    """
    if "cnf" not in claims:
        return None
    cnf = claims["cnf"]
    if not isinstance(cnf, Mapping) or set(cnf) != {"jkt"}:
        raise DPoPBindingError(
            "The token is bound by a confirmation method ('cnf') this service cannot check; "
            "only DPoP's 'cnf.jkt' is supported"
        )
    jkt = cnf["jkt"]
    if not isinstance(jkt, str) or not jkt:
        raise DPoPBindingError("Invalid 'cnf.jkt' claim: it must be a thumbprint string")
    return jkt


def check_binding(claims: Claims, proof: Proof) -> None:
    """The token must be bound (``cnf.jkt``) to the key that signed ``proof``."""
    jkt = bound_key(claims)
    if jkt is None:
        raise DPoPBindingError("The access token is not DPoP-bound; present it as a bearer token")
    if not hmac.compare_digest(jkt.encode(), proof.jkt.encode()):
        raise DPoPBindingError("DPoP proof key does not match the token's 'cnf.jkt'")


def refuse_bearer_binding(claims: Claims) -> None:
    """A DPoP-bound token found anywhere but under the ``DPoP`` scheme is refused.

    RFC 9449 section 7.2: accepting it as a bearer token would let whoever
    stole it use it without the key, which is what the binding prevents.
    """
    if bound_key(claims) is not None:  # raises for a confirmation method other than jkt
        raise DPoPBindingError("A DPoP-bound token must be presented with a DPoP proof")


def replay_record(proof: Proof, policy: DPoPPolicy, now: float) -> Record:
    """The store record that marks ``proof`` used; write it with ``put_if_absent``.

    It is kept as long as any instance could still accept the proof: an
    instance accepts it while its own clock is within ``iat_window`` of
    ``iat``, and instances' clocks may run up to ``CLOCK_MARGIN`` behind the
    one that wrote the record (the margin every revocation record carries).
    So it lives until ``iat + iat_window + CLOCK_MARGIN`` on the writer's
    clock, measured from the later of ``iat`` and now, plus one second for
    the window's inclusive bound and whole-second ``iat`` values. After
    that every instance's ``iat`` check refuses the proof anyway.
    """
    key = record_key("dpop", proof.jkt, proof.claims["jti"])
    start = max(float(proof.claims["iat"]), now)
    return Record(key, "1", start + policy.iat_window + CLOCK_MARGIN + 1)
