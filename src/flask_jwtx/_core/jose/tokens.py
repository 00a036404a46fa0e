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
``from flask_jwtx._core.jose.tokens import ...`` keeps working, and so does code written
against Flask-JWT-Extended's ``flask_jwt_extended.tokens`` (its private
``_encode_jwt``/``_decode_jwt``, at the end of this module). Nothing here
touches Flask.
"""

from __future__ import annotations

import time

from ...exceptions import Claims, ExpiredSignatureError, Header
from ...exceptions import CSRFError as CSRFError
from ...exceptions import JWTDecodeError as JWTDecodeError
from .claims import ClaimCheck as ClaimCheck
from .claims import VerifyPolicy as VerifyPolicy
from .claims import check_audience as check_audience
from .claims import extended_conventions as extended_conventions
from .claims import verify_claims
from .claimset import build_claims as build_claims
from .claimset import jti_millis as jti_millis
from .claimset import new_jti as new_jti
from .csrf import check_double_submit
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
    Flask-JWT-Extended does: ``type`` defaults to ``"access"``, ``fresh`` to
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
