"""The claim set of a new token, and the UUIDv7 ``jti`` it carries. Flask-free.

Why a module of its own rather than a part of :mod:`.claims`? The two face
opposite ways and share nothing: :mod:`.claims` judges claims received from
anyone, against a :class:`~.claims.VerifyPolicy`, and raises decoding errors;
this module writes the claims flask-jwtx mints, from settings the Flask layer
(:mod:`.creation`) resolved, and raises nothing of its own. Code that needs
the ``jti`` format alone (the revocation core reads a token's creation time
with :func:`jti_millis`) imports it without the verification machinery.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ...exceptions import Claims


def new_jti(moment: datetime | None = None) -> str:
    """A UUIDv7 (RFC 9562) string: unique, and carrying its creation time in ms.

    Still a UUID string like Flask-JWT-Extended's, but time-ordered, which lets
    "log out everywhere" tell tokens issued before the call from those issued
    after it within the same second (``iat`` has one-second resolution).
    Python 3.14 has ``uuid.uuid7``; this is the same 48-bit-ms layout.
    """
    millis = int((moment or datetime.now(UTC)).timestamp() * 1000)
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 9562 variant
    return str(uuid.UUID(int=value))


#: A UUID's canonical text length, and the version whose first 48 bits are ms.
_UUID_TEXT: Final = 36
_UUID_VERSION: Final = 7


def jti_millis(jti: Any) -> int | None:
    """The creation time in ms of a UUIDv7 ``jti``; ``None`` for any other value."""
    if not isinstance(jti, str) or len(jti) != _UUID_TEXT or jti[14] != "7":
        return None
    try:
        parsed = uuid.UUID(jti)
    except ValueError:
        return None
    if parsed.version != _UUID_VERSION:
        return None
    return parsed.int >> 80


def build_claims(  # noqa: PLR0913 - keyword-only: one per source of a claim
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
    """The claims of a new token, in Flask-JWT-Extended's shape.

    ``fresh`` may be a ``timedelta``: the token is then fresh until that long
    from now, written as a NumericDate. ``extra`` wins over every default.
    """
    moment = now or datetime.now(UTC)
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
