"""``flask_jwt_extended.tokens`` for code written against Flask-JWT-Extended's layout.

The token core's public names (``decode``, ``encode``, ``parse``,
``VerifyPolicy``...) are re-exported from flask-jwtx's private core, and
Flask-JWT-Extended's own private helpers ``_encode_jwt``/``_decode_jwt``,
which some code calls to sign or check tokens below the Flask layer, run on
that core with the same names and keyword signatures (so with its stricter
checks, see docs/differences.md). flask-jwtx itself never calls them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ._core.jose.claims import ClaimCheck as ClaimCheck
from ._core.jose.claims import VerifyPolicy as VerifyPolicy
from ._core.jose.claims import check_audience as check_audience
from ._core.jose.claims import extended_conventions as extended_conventions
from ._core.jose.claimset import build_claims as build_claims
from ._core.jose.claimset import jti_millis as jti_millis
from ._core.jose.claimset import new_jti as new_jti
from ._core.jose.csrf import check_double_submit
from ._core.jose.jws import KeyLookup as KeyLookup
from ._core.jose.jws import ParsedToken as ParsedToken
from ._core.jose.jws import b64url_encode as b64url_encode
from ._core.jose.jws import encode as encode
from ._core.jose.jws import parse as parse
from ._core.jose.jws import shown as shown
from ._core.jose.jws import unverified_header as unverified_header
from ._core.jose.keys import prepare_key
from ._core.jose.tokens import decode as decode
from .exceptions import PYJWT_CHECKS_SUB, Claims
from .exceptions import CSRFError as CSRFError
from .exceptions import JWTDecodeError as JWTDecodeError
from .typing import ExpiresDelta as ExpiresDelta
from .typing import Fresh as Fresh


def _encode_jwt(  # noqa: PLR0913, PLR0917 - Flask-JWT-Extended's private signature
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
    """Sign a new token in Flask-JWT-Extended's claim layout with ``secret``."""
    now = datetime.now(UTC)
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


def _decode_jwt(  # noqa: PLR0913, PLR0917 - Flask-JWT-Extended's private signature
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
        verify_sub=verify_sub and PYJWT_CHECKS_SUB,  # no check where PyJWT has none
        verify_jti=PYJWT_CHECKS_SUB,
        conventions=conventions,
    )
    _header, claims = decode(
        encoded_token,
        policy,
        lambda alg, _header, _token: prepare_key(alg, secret),
        verify_exp=not allow_expired,
    )
    check_double_submit(claims, csrf_value)
    return claims
