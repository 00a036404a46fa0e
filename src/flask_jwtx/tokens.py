"""The Flask-free token core, in one place: decode-and-verify, and the names it is made of.

A façade, as joserfc has one over its private modules. The work is done by:

* :mod:`.jws`: the compact JWS, the crypto boundary. Size cap, strict
  base64url and JSON, header checks (``alg`` allow-list, ``crit``, ``b64``,
  ``kid``), signature verification and signing (:func:`parse`,
  :func:`encode`, :func:`unverified_header`, :func:`b64url_encode`);
* :mod:`.claims`: the registered claims, one check per claim, applied in a
  fixed order under a :class:`VerifyPolicy` resolved once from settings;
* :mod:`.claimset`: the claims of a new token (:func:`build_claims`) and
  its UUIDv7 ``jti`` (:func:`new_jti`, :func:`jti_millis`);
* :mod:`.csrf`: the CSRF double-submit comparison, a property of the request
  rather than of the token, which callers run after :func:`decode`.

:func:`decode` composes the first two; it is what the request path and
``decode_token`` call. The other names are re-exported so that
``from flask_jwtx.tokens import ...`` keeps working, and so does code written
against Flask-JWT-Extended's ``flask_jwt_extended.tokens`` (its private
``_encode_jwt``/``_decode_jwt``, at the end of this module). Nothing here
touches Flask.
"""

from __future__ import annotations

import time

from .claims import ClaimCheck as ClaimCheck
from .claims import VerifyPolicy as VerifyPolicy
from .claims import check_audience as check_audience
from .claims import extended_conventions as extended_conventions
from .claims import verify_claims
from .claimset import build_claims as build_claims
from .claimset import jti_millis as jti_millis
from .claimset import new_jti as new_jti
from .csrf import check_double_submit
from .exceptions import PYJWT_CHECKS_SUB, Claims, ExpiredSignatureError, Header
from .exceptions import CSRFError as CSRFError
from .exceptions import JWTDecodeError as JWTDecodeError
from .jws import KeyLookup as KeyLookup
from .jws import ParsedToken as ParsedToken
from .jws import b64url_encode as b64url_encode
from .jws import encode as encode
from .jws import parse as parse
from .jws import shown as shown
from .jws import unverified_header as unverified_header
from .jws import verify as verify_signature


def decode(
    token: str | bytes,
    policy: VerifyPolicy,
    key_lookup: KeyLookup,
    *,
    verify_exp: bool = True,
    csrf_value: str | None = None,
) -> tuple[Header, Claims]:
    """Verify ``token`` (its form, signature and claims) and return its header and claims.

    Claims flask-jwtx relies on are filled in for tokens minted elsewhere, as
    the incumbent does: ``type`` defaults to ``"access"``, ``fresh`` to
    ``False`` and ``jti`` to ``None`` (by the policy's conventions).

    ``csrf_value`` is kept for callers written before the CSRF check left the
    token core: given, it is compared last by
    :func:`.csrf.check_double_submit`, which new code calls itself.
    """
    parsed = verify_signature(token, policy.algorithms, policy.max_bytes, key_lookup)
    claims = parsed.claims()
    try:
        verify_claims(claims, policy, time.time(), verify_exp=verify_exp)
    except ExpiredSignatureError as exc:
        exc.jwt_header = parsed.header
        raise
    if csrf_value:
        check_double_submit(claims, csrf_value)
    return parsed.header, claims


# =============================================================================
# Flask-JWT-Extended's private ``flask_jwt_extended.tokens`` helpers
#
# For code written against the incumbent's module layout that signs or checks
# tokens below the Flask layer. Same names and keyword signatures as the
# incumbent's, running on the core above (so with its stricter checks, see
# docs/differences.md). flask-jwtx itself never calls them.
# =============================================================================

import json  # noqa: E402
from collections.abc import Iterable, Mapping, Sequence  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from .keys import prepare_key  # noqa: E402
from .typing import ExpiresDelta as ExpiresDelta  # noqa: E402
from .typing import Fresh as Fresh  # noqa: E402


def _encode_jwt(  # noqa: PLR0913, PLR0917 - the incumbent's private signature
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


def _decode_jwt(  # noqa: PLR0913, PLR0917 - the incumbent's private signature
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
