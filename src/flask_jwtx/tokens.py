"""The Flask-free token core: build claims, encode, and decode-and-verify.

Nothing here touches Flask. The request path calls :func:`decode` with a
:class:`VerifyPolicy` resolved once from settings, so no configuration is read
while a token is checked.

Why not ``jwt.decode``? PyJWT's top-level API prepares the key (for HMAC: a
JSON probe and PEM sniffing of the secret) and re-merges options on every
call; that costs about 30 µs per HS256 token, against about 8 µs for the same
work with a key prepared once. We still use PyJWT's algorithm objects for all
cryptography, and parse the compact JWS here, strictly:

* exactly three canonical base64url segments, no padding, size-capped before
  any decoding (``max_bytes``);
* the header and payload must be UTF-8 JSON objects; ``NaN``/``Infinity``,
  deep nesting and oversized integers are refused as malformed, never
  surfacing as a 500;
* ``alg`` must be in the allow-list, ``none`` never is, unknown ``crit``
  extensions are refused (RFC 7515 section 4.1.11), and keys are never taken
  from the token (``jwk``, ``jku``, ``x5u``, ``x5c`` are ignored);
* ``exp``, ``nbf`` and ``iat`` must be JSON numbers: a string or a boolean
  NumericDate is malformed, where PyJWT would coerce it with ``int()``.

Error messages reuse PyJWT's wording where the incumbent exposed it, since
clients may match on the 422 body.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from hmac import compare_digest
from typing import Any, Final, NamedTuple

from .exceptions import (
    Claims,
    CSRFError,
    DecodeError,
    ExpiredSignatureError,
    Header,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidJTIError,
    InvalidSignatureError,
    InvalidSubjectError,
    JWTDecodeError,
    MissingRequiredClaimError,
    TokenTooLargeError,
)
from .keys import PreparedKey

#: Header parameters whose meaning this implementation understands, and so may
#: appear in ``crit``. None today: any critical extension is refused.
_UNDERSTOOD_CRITICAL: Final[frozenset[str]] = frozenset()

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# For a segment whose length is 2 or 3 mod 4, the last character carries bits
# that must be zero in the canonical encoding; these are the characters where
# they are (so two different strings can never decode to the same bytes).
_CANONICAL_LAST = {2: frozenset(b"AQgw"), 3: frozenset(b"AEIMQUYcgkosw048")}

_TO_STANDARD_B64 = bytes.maketrans(b"-_", b"+/")

_json_decoder = json.JSONDecoder(parse_constant=lambda name: _reject_constant(name))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(segment: bytes, name: str) -> bytes:
    remainder = len(segment) % 4
    if remainder == 1 or (remainder and segment[-1] not in _CANONICAL_LAST[remainder]):
        raise DecodeError(f"Invalid {name} padding")
    # The alphabet was checked by the caller's regex, so the C decoder after
    # mapping "-_" to "+/" is exact, and 4x faster than urlsafe_b64decode.
    try:
        return binascii.a2b_base64(segment.translate(_TO_STANDARD_B64) + b"=" * (-remainder % 4))
    except binascii.Error:  # pragma: no cover - length and alphabet checked above
        raise DecodeError(f"Invalid {name} padding") from None


def _json_object(raw: bytes, name: str) -> dict[str, Any]:
    try:
        value = _json_decoder.decode(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DecodeError(f"Invalid {name} string: not UTF-8") from None
    except RecursionError:
        raise DecodeError(f"Invalid {name} string: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, huge integers, NaN/Infinity
        raise DecodeError(f"Invalid {name} string: {exc}") from None
    if not isinstance(value, dict):
        raise DecodeError(f"Invalid {name} string: must be a json object")
    return value


class ParsedToken(NamedTuple):
    """A compact JWS split and parsed, signature not yet checked."""

    header: Header
    payload: bytes
    signing_input: bytes
    signature: bytes

    def claims(self) -> Claims:
        """The payload as a JSON object; unverified unless the signature was checked."""
        return _json_object(self.payload, "payload")


def parse(token: str | bytes, max_bytes: int) -> ParsedToken:
    """Split and parse ``token`` without verifying it.

    The size cap is applied first, so an attacker's megabyte of base64 costs
    one ``len`` call.
    """
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise DecodeError("Invalid token: not ASCII") from None
    elif not isinstance(token, str):
        raise DecodeError(f"Invalid token type. Token must be a {str}, not {type(token)}")
    if len(token) > max_bytes:
        raise TokenTooLargeError(f"Token is larger than the {max_bytes} bytes allowed")
    if _COMPACT_JWS.fullmatch(token) is None:
        if token.count(".") != 2:
            raise DecodeError("Not enough segments")
        raise DecodeError("Invalid token: segments must be non-empty base64url")
    raw = token.encode("ascii")
    signing_input, signature_segment = raw.rsplit(b".", 1)
    header_segment, payload_segment = signing_input.split(b".")
    header = _json_object(_b64url_decode(header_segment, "header"), "header")
    payload = _b64url_decode(payload_segment, "payload")
    signature = _b64url_decode(signature_segment, "crypto")
    return ParsedToken(header, payload, signing_input, signature)


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def shown(value: str) -> str:
    """An untrusted string, safe to put in an error message.

    Plain short names are shown as they are; anything else (control
    characters, lone surrogates that no JSON encoder with ``ensure_ascii``
    off can write, markup, megabytes) is shown as a short ASCII escape.
    """
    if _PLAIN_NAME.fullmatch(value):
        return value
    escaped = ascii(value[:64])
    return escaped if len(value) <= 64 else f"{escaped[:-1]}...'"


def _check_header(header: Header, algorithms: frozenset[str]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise InvalidAlgorithmError("Algorithm not specified")
    if alg not in algorithms or alg.lower() == "none":  # unsigned tokens, never
        raise InvalidAlgorithmError("The specified alg value is not allowed")
    # A parameter that is present must be well-formed: ``"kid": null`` or
    # ``"crit": null`` is not the same as leaving it out (PyJWT refuses both).
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
            raise DecodeError("Invalid 'crit' header: must be a non-empty list of strings")
        for extension in crit:
            if extension not in _UNDERSTOOD_CRITICAL:
                raise DecodeError(f"Unsupported critical extension: {shown(extension)}")
    if "b64" in header and header["b64"] is not True:
        # RFC 7797 unencoded payloads: not implemented, so never half-understood.
        raise DecodeError("Unsupported header: b64 (unencoded payloads are not accepted)")
    if "kid" in header and not isinstance(header["kid"], str):
        raise DecodeError("Key ID header parameter must be a string")
    return alg


def extended_conventions(claims: Claims, identity_claim: str = "sub") -> None:
    """Flask-JWT-Extended's token conventions, checked and completed in place.

    The identity claim must be present. Tokens minted elsewhere get the
    incumbent's defaults: ``type`` ``"access"``, ``fresh`` ``False``, ``jti``
    ``None``; present values must be well-formed.
    """
    if identity_claim not in claims:
        raise JWTDecodeError(f"Missing claim: {identity_claim}")
    # Any ``type`` decodes: apps mint their own kinds (email confirmation,
    # password reset) and read them with decode_token. Which kinds a route
    # accepts is the request path's decision (only access, or refresh).
    claims.setdefault("type", "access")
    fresh = claims.setdefault("fresh", False)
    if not (isinstance(fresh, bool) or _is_number(fresh)):
        raise JWTDecodeError("Invalid claim: fresh must be a boolean or a NumericDate")
    claims.setdefault("jti", None)


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """What a valid token must satisfy; built once from settings.

    ``conventions`` checks (and may complete) the claims of an application's
    token format after the registered claims and before expiry, so that an
    expired token handed to the expired-token loader passed every other check.
    """

    algorithms: frozenset[str]
    leeway: float = 0.0
    audience: tuple[str, ...] | None = None
    issuer: str | None = None
    verify_sub: bool = True
    max_bytes: int = 8192
    conventions: Callable[[Claims], None] | None = extended_conventions


KeyLookup = Callable[[str, Header, ParsedToken], PreparedKey]
"""Given the token's algorithm, its header and the parsed (unverified) token,
return the key to verify it with. Only a user's ``decode_key_loader`` reads
the unverified claims, so parsing them is left to the lookup."""


def _is_number(value: object) -> bool:
    """A finite JSON number; booleans (a subclass of int) are not numbers here."""
    if type(value) not in (int, float):
        return False
    try:
        return math.isfinite(value)  # type: ignore[arg-type]
    except OverflowError:  # an integer too large for a float
        return False


def _numeric_date(claims: Claims, name: str) -> float | None:
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    if not _is_number(value):
        if name == "iat":
            raise InvalidIssuedAtError("Issued At claim (iat) must be a number.")
        label = {"exp": "Expiration Time", "nbf": "Not Before"}[name]
        raise DecodeError(f"{label} claim ({name}) must be a number.")
    return float(value)  # type: ignore[arg-type]


def check_audience(claims: Claims, expected: tuple[str, ...]) -> None:
    aud = claims.get("aud")
    if not aud:
        raise MissingRequiredClaimError("aud")
    values = [aud] if isinstance(aud, str) else aud
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidAudienceError("Invalid claim format in token")
    if not any(v in expected for v in values):
        raise InvalidAudienceError("Audience doesn't match")


def _check_claims(claims: Claims, policy: VerifyPolicy, verify_exp: bool, now: float) -> None:
    # Everything but ``exp`` first: an expired token handed to the
    # expired-token loader has otherwise passed every check.
    leeway = policy.leeway
    iat = _numeric_date(claims, "iat")
    nbf = _numeric_date(claims, "nbf")
    exp = _numeric_date(claims, "exp")
    if iat is not None and iat > now + leeway:
        raise ImmatureSignatureError("The token is not yet valid (iat)")
    if nbf is not None and nbf > now + leeway:
        raise ImmatureSignatureError("The token is not yet valid (nbf)")
    if policy.audience is not None:
        check_audience(claims, policy.audience)
    if policy.issuer is not None:
        if "iss" not in claims:
            raise MissingRequiredClaimError("iss")
        if claims["iss"] != policy.issuer:
            raise InvalidIssuerError("Invalid issuer")
    if policy.verify_sub and "sub" in claims and not isinstance(claims["sub"], str):
        raise InvalidSubjectError("Subject must be a string")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise InvalidJTIError("JWT ID must be a string")
    if policy.conventions is not None:
        policy.conventions(claims)
    # ``exp`` counts in whole seconds, as PyJWT reads it (truncated): a
    # fractional part never extends a token's life.
    if verify_exp and exp is not None and int(exp) <= now - leeway:
        raise ExpiredSignatureError("Signature has expired", {}, claims)


def decode(
    token: str | bytes,
    policy: VerifyPolicy,
    key_lookup: KeyLookup,
    *,
    verify_exp: bool = True,
    csrf_value: str | None = None,
) -> tuple[Header, Claims]:
    """Verify ``token`` and return its header and claims.

    Claims flask-jwtx relies on are filled in for tokens minted elsewhere, as
    the incumbent does: ``type`` defaults to ``"access"``, ``fresh`` to
    ``False`` and ``jti`` to ``None``.
    """
    parsed = parse(token, policy.max_bytes)
    algorithm = _check_header(parsed.header, policy.algorithms)
    key = key_lookup(algorithm, parsed.header, parsed)
    if not key.verify(parsed.signing_input, parsed.signature):
        raise InvalidSignatureError("Signature verification failed")
    claims = parsed.claims()
    try:
        _check_claims(claims, policy, verify_exp, time.time())
    except ExpiredSignatureError as exc:
        exc.jwt_header = parsed.header
        raise
    if csrf_value:
        expected = claims.get("csrf")
        if expected is None:
            raise JWTDecodeError("Missing claim: csrf")
        # surrogatepass: a lone surrogate (in a signed claim, or a form value
        # decoded with surrogateescape) compares as bytes, never raises.
        if not isinstance(expected, str) or not compare_digest(
            expected.encode("utf-8", "surrogatepass"), csrf_value.encode("utf-8", "surrogatepass")
        ):
            raise CSRFError("CSRF double submit tokens do not match")
    return parsed.header, claims


def unverified_header(token: str | bytes, max_bytes: int = 8192) -> Header:
    """The header of ``token``, parsed strictly but not verified."""
    return parse(token, max_bytes).header


# --- Creating tokens ---------------------------------------------------------


def new_jti(moment: datetime | None = None) -> str:
    """A UUIDv7 (RFC 9562) string: unique, and carrying its creation time in ms.

    Still a UUID string like the incumbent's, but time-ordered, which lets
    "log out everywhere" tell tokens issued before the call from those issued
    after it within the same second (``iat`` has one-second resolution).
    Python 3.14 has ``uuid.uuid7``; this is the same 48-bit-ms layout.
    """
    millis = int((moment or datetime.now(timezone.utc)).timestamp() * 1000)
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 9562 variant
    return str(uuid.UUID(int=value))


def jti_millis(jti: Any) -> int | None:
    """The creation time in ms of a UUIDv7 ``jti``; ``None`` for any other value."""
    if not isinstance(jti, str) or len(jti) != 36 or jti[14] != "7":
        return None
    try:
        parsed = uuid.UUID(jti)
    except ValueError:
        return None
    if parsed.version != 7:
        return None
    return parsed.int >> 80


def build_claims(
    *,
    identity_claim: str,
    identity: Any,
    token_type: str,
    fresh: bool | float | timedelta,
    expires_delta: timedelta | None,
    encode_nbf: bool,
    csrf: bool,
    audience: str | Sequence[str] | None,
    issuer: str | None,
    extra: Mapping[str, Any] | None,
    now: datetime | None = None,
) -> Claims:
    """The claims of a new token, in the incumbent's shape.

    ``fresh`` may be a ``timedelta``: the token is then fresh until that long
    from now, written as a NumericDate. ``extra`` wins over every default.
    """
    moment = now or datetime.now(timezone.utc)
    issued = int(moment.timestamp())
    fresh_value = (moment + fresh).timestamp() if isinstance(fresh, timedelta) else fresh
    claims: Claims = {
        "fresh": fresh_value,
        "iat": issued,
        "jti": new_jti(moment),
        "type": token_type,
        identity_claim: identity,
    }
    if encode_nbf:
        claims["nbf"] = issued
    if csrf:
        claims["csrf"] = str(uuid.uuid4())
    if audience:
        claims["aud"] = audience if isinstance(audience, str) else list(audience)
    if issuer:
        claims["iss"] = issuer
    if expires_delta is not None:
        claims["exp"] = issued + int(expires_delta.total_seconds())
    if extra:
        claims.update(extra)
    return claims


def _numeric_dates_to_ints(claims: Claims) -> None:
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if isinstance(value, datetime):
            claims[name] = int(value.timestamp())


def encode(
    claims: Claims,
    key: PreparedKey,
    *,
    headers: Mapping[str, Any] | None = None,
    json_default: Callable[[Any], Any] | None = None,
) -> str:
    """Sign ``claims`` with ``key`` into a compact JWS.

    ``headers`` may add parameters (``kid``, ``typ``...) but not change
    ``alg``: the algorithm is the key's, which is what verification expects.
    """
    header: Header = {"alg": key.algorithm, "typ": "JWT"}
    if headers:
        if "alg" in headers and headers["alg"] != key.algorithm:
            raise ValueError(
                f"additional header 'alg'={headers['alg']!r} conflicts with the signing "
                f"algorithm {key.algorithm!r}; change JWT_ALGORITHM instead"
            )
        if "kid" in headers and not isinstance(headers["kid"], str):
            raise TypeError("the 'kid' header must be a string")
        header.update(headers)
    _numeric_dates_to_ints(claims)
    header_segment = b64url_encode(_dumps(header, json_default))
    payload_segment = b64url_encode(_dumps(claims, json_default))
    signing_input = f"{header_segment}.{payload_segment}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _dumps(value: Mapping[str, Any], default: Callable[[Any], Any] | None) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=default, allow_nan=False).encode()


# =============================================================================
# Flask-JWT-Extended's private ``flask_jwt_extended.tokens`` helpers
#
# For code written against the incumbent's module layout that signs or checks
# tokens below the Flask layer. Same names and keyword signatures as the
# incumbent's, running on the core above (so with its stricter checks, see
# docs/differences.md). flask-jwtx itself never calls them.
# =============================================================================

from collections.abc import Iterable  # noqa: E402

from .keys import prepare_key  # noqa: E402
from .typing import ExpiresDelta as ExpiresDelta  # noqa: E402
from .typing import Fresh as Fresh  # noqa: E402


def _encode_jwt(
    algorithm: str,
    audience: str | Iterable[str] | None,
    claim_overrides: Mapping[str, Any] | None,
    csrf: bool,
    expires_delta: ExpiresDelta | None,
    fresh: Fresh,
    header_overrides: Mapping[str, Any] | None,
    identity: Any,
    identity_claim_key: str,
    issuer: str | None,
    json_encoder: type[json.JSONEncoder] | None,
    secret: Any,
    token_type: str,
    nbf: bool,
) -> str:
    """Sign a new token in the incumbent's claim layout with ``secret``."""
    now = datetime.now(timezone.utc)
    # A falsy lifetime means no ``exp``; a relativedelta becomes the span it means now.
    lifetime = (now + expires_delta) - now if expires_delta else None
    claims = build_claims(
        identity_claim=identity_claim_key,
        identity=identity,
        token_type=token_type,
        fresh=fresh,
        expires_delta=lifetime,
        encode_nbf=nbf,
        csrf=csrf,
        audience=audience if audience is None or isinstance(audience, str) else list(audience),
        issuer=issuer,
        extra=claim_overrides,
        now=now,
    )
    return encode(
        claims,
        prepare_key(algorithm, secret),
        headers=header_overrides,
        json_default=None if json_encoder is None else json_encoder().default,
    )


def _decode_jwt(
    algorithms: Sequence[str],
    allow_expired: bool,
    audience: str | Iterable[str] | None,
    csrf_value: str | None,
    encoded_token: str,
    identity_claim_key: str,
    issuer: str | None,
    leeway: float | timedelta,
    secret: Any,
    verify_aud: bool,
    verify_sub: bool,
) -> dict[str, Any]:
    """Verify ``encoded_token`` with ``secret`` and return its (completed) claims."""
    expected: tuple[str, ...] | None = None
    if verify_aud and audience is not None:
        expected = (audience,) if isinstance(audience, str) else tuple(audience)

    def conventions(claims: Claims) -> None:
        extended_conventions(claims, identity_claim_key)

    policy = VerifyPolicy(
        algorithms=frozenset(algorithms),
        leeway=leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway),
        audience=expected,
        issuer=issuer or None,
        verify_sub=verify_sub,
        conventions=conventions,
    )
    _header, claims = decode(
        encoded_token,
        policy,
        lambda alg, _header, _token: prepare_key(alg, secret),
        verify_exp=not allow_expired,
        csrf_value=csrf_value or None,
    )
    return claims
