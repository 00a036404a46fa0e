"""Compact JWS (RFC 7515): strict parsing, header checks, signing. The crypto boundary.

Flask-free, and knows nothing of claims: it turns a token into a verified
header and payload bytes (:func:`verify`), or signs a claim set into a token
(:func:`encode`). What the payload's claims must say is :mod:`.claims`'
business; :mod:`.tokens` composes the two.

Why not ``jwt.decode``? PyJWT's top-level API prepares the key (for HMAC: a
JSON probe and PEM sniffing of the secret) and re-merges options on every
call; that costs about 30 µs per HS256 token, against about 8 µs for the same
work with a key prepared once. We still use PyJWT's algorithm objects for all
cryptography (through :class:`~.keys.PreparedKey`), and parse the compact
JWS here, strictly:

* exactly three canonical base64url segments, no padding, size-capped before
  any decoding (``max_bytes``);
* the header and payload must be UTF-8 JSON objects; ``NaN``/``Infinity``,
  deep nesting and oversized integers are refused as malformed, never
  surfacing as a 500;
* ``alg`` must be in the allow-list, ``none`` never is, unknown ``crit``
  extensions are refused (RFC 7515 section 4.1.11), ``b64`` (RFC 7797) must be
  absent or ``true``, ``kid`` must be a string when present, and keys are
  never taken from the token (``jwk``, ``jku``, ``x5u``, ``x5c`` are ignored).

Error messages reuse PyJWT's wording where Flask-JWT-Extended exposed it, since
clients may match on the 422 body.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, NamedTuple

from ...exceptions import (
    Claims,
    DecodeError,
    Header,
    InvalidAlgorithmError,
    InvalidSignatureError,
    TokenTooLargeError,
)
from .keys import PreparedKey

#: Header parameters whose meaning this implementation understands, and so may
#: appear in ``crit``. None today: any critical extension is refused.
_UNDERSTOOD_CRITICAL: Final[frozenset[str]] = frozenset()

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
#: RFC 7235 section 2.1 (RFC 6750's ``b64token``): the syntax of an HTTP credential.
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def is_token68(credential: str) -> bool:
    """Whether ``credential`` has the ``token68`` syntax of an HTTP credential (ASCII only).

    What a bearer or DPoP credential can be: the DPoP scheme's parser and
    the introspection client both refuse anything else before using it.
    """
    return _TOKEN68.fullmatch(credential) is not None


# For a segment whose length is 2 or 3 mod 4, the last character carries bits
# that must be zero in the canonical encoding; these are the characters where
# they are (so two different strings can never decode to the same bytes).
_CANONICAL_LAST = {2: frozenset(b"AQgw"), 3: frozenset(b"AEIMQUYcgkosw048")}

_TO_STANDARD_B64 = bytes.maketrans(b"-_", b"+/")

_json_decoder = json.JSONDecoder(parse_constant=lambda name: _reject_constant(name))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def b64url_encode(data: bytes) -> str:
    """``data`` as unpadded base64url, the encoding of every JWS segment."""
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
        if token.count(".") != _DOTS:
            raise DecodeError("Not enough segments")
        raise DecodeError("Invalid token: segments must be non-empty base64url")
    raw = token.encode("ascii")
    signing_input, signature_segment = raw.rsplit(b".", 1)
    header_segment, payload_segment = signing_input.split(b".")
    header = _json_object(_b64url_decode(header_segment, "header"), "header")
    payload = _b64url_decode(payload_segment, "payload")
    signature = _b64url_decode(signature_segment, "crypto")
    return ParsedToken(header, payload, signing_input, signature)


def unverified_header(token: str | bytes, max_bytes: int = 8192) -> Header:
    """The header of ``token``, parsed strictly but not verified."""
    return parse(token, max_bytes).header


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
#: How much of an untrusted value an error message shows.
_SHOWN_CHARS: Final = 64
#: A compact JWS: header.payload.signature.
_DOTS: Final = 2


def shown(value: str) -> str:
    """An untrusted string, safe to put in an error message.

    Plain short names are shown as they are; anything else (control
    characters, lone surrogates that no JSON encoder with ``ensure_ascii``
    off can write, markup, megabytes) is shown as a short ASCII escape.
    """
    if _PLAIN_NAME.fullmatch(value):
        return value
    escaped = ascii(value[:_SHOWN_CHARS])
    return escaped if len(value) <= _SHOWN_CHARS else f"{escaped[:-1]}...'"


def check_header(header: Header, algorithms: frozenset[str]) -> str:
    """The token's algorithm, once the header passed every check; else raise."""
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


KeyLookup = Callable[[str, Header, ParsedToken], PreparedKey]
"""Given the token's algorithm, its header and the parsed (unverified) token,
return the key to verify it with. Only a user's ``decode_key_loader`` reads
the unverified claims, so parsing them is left to the lookup."""


def verify(
    token: str | bytes, algorithms: frozenset[str], max_bytes: int, key_lookup: KeyLookup
) -> ParsedToken:
    """Parse ``token``, check its header and its signature; the claims are not read.

    The key is chosen by ``key_lookup`` only after the header passed, so a
    lookup never sees a disallowed algorithm.
    """
    parsed = parse(token, max_bytes)
    algorithm = check_header(parsed.header, algorithms)
    key = key_lookup(algorithm, parsed.header, parsed)
    if not key.verify(parsed.signing_input, parsed.signature):
        raise InvalidSignatureError("Signature verification failed")
    return parsed


# --- Signing -----------------------------------------------------------------


def _numeric_dates_to_ints(claims: Claims) -> None:
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if isinstance(value, datetime):
            claims[name] = int(value.timestamp())


def _dumps(value: Mapping[str, Any], default: Callable[[Any], Any] | None) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=default, allow_nan=False).encode()


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
    ``datetime`` values of ``exp``, ``iat`` and ``nbf`` are written as
    NumericDates (``claims`` is updated in place).
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
