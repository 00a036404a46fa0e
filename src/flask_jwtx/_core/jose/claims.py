"""Registered claims (RFC 7519 section 4.1): one check per claim, applied in a fixed order.

Flask-free, and never sees a token: it checks the claims of a payload whose
signature :mod:`.jws` has already verified. :class:`VerifyPolicy` says what a
valid token must satisfy; it is resolved once from settings, so no
configuration is read while a token is checked.

Each registered claim has its function, ``check_<claim>(claims, policy,
now)``, usable on its own; :func:`verify_claims` applies them all:

1. ``iat``, ``nbf`` and ``exp`` must be JSON numbers (a string or a boolean
   NumericDate is malformed, where PyJWT would coerce it with ``int()``): a
   malformed date is reported as such whatever else is wrong with the token
   (:func:`check_numeric_dates`);
2. :data:`BEFORE_EXPIRY`, in order: ``iat``, ``nbf``, ``iss``, ``aud``,
   ``sub``, ``jti`` (those the policy switches on; issuer before audience, as
   PyJWT checks them, so a token wrong in both gets Flask-JWT-Extended's message);
3. the policy's ``conventions`` (the application's token format);
4. ``exp``, last: an expired token handed to the expired-token loader has
   passed every other check.

A service that trusts several issuers checks each token against the
requirements of the issuer that signed it (:attr:`VerifyPolicy.issuers`,
chosen by the verified ``iss``): the audience an identity provider's tokens
must name is a claim check like any other, made here and not during key
lookup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeGuard

from ...exceptions import (
    Claims,
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidJTIError,
    InvalidSubjectError,
    JWTDecodeError,
    JWTExtendedException,
    MissingRequiredClaimError,
)

# --- NumericDate -------------------------------------------------------------

#: The NumericDate claims, in the order their form is checked.
NUMERIC_DATES: Final = ("iat", "nbf", "exp")


def is_number(value: object) -> TypeGuard[int | float]:
    """A finite JSON number; booleans (a subclass of int) are not numbers here."""
    if type(value) not in (int, float):
        return False
    try:
        return math.isfinite(value)  # type: ignore[arg-type]
    except OverflowError:  # an integer too large for a float
        return False


def numeric_date(claims: Claims, name: str) -> float | None:
    """The NumericDate claim ``name`` as a float; ``None`` if absent; raise if malformed.

    Malformed: anything but a finite JSON number (per :func:`is_number`,
    inlined here: this runs three times per token).
    """
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    if type(value) is int or type(value) is float:
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            number = math.inf
        if math.isfinite(number):
            return number
    if name == "iat":
        raise InvalidIssuedAtError("Issued At claim (iat) must be a number.")
    label = {"exp": "Expiration Time", "nbf": "Not Before"}[name]
    raise DecodeError(f"{label} claim ({name}) must be a number.")


# --- The policy --------------------------------------------------------------

ClaimCheck = Callable[[Claims, "VerifyPolicy", float], None]
"""``check(claims, policy, now)``: raise if the claim is unacceptable; ``now``
is a POSIX timestamp."""


def extended_conventions(claims: Claims, identity_claim: str = "sub") -> None:
    """Flask-JWT-Extended's token conventions, checked and completed in place.

    The identity claim must be present. Tokens minted elsewhere get the
    Flask-JWT-Extended's defaults: ``type`` ``"access"``, ``fresh`` ``False``, ``jti``
    ``None``; present values must be well-formed.
    """
    if identity_claim not in claims:
        raise JWTDecodeError(f"Missing claim: {identity_claim}")
    # Any ``type`` decodes: apps mint their own kinds (email confirmation,
    # password reset) and read them with decode_token. Which kinds a route
    # accepts is the request path's decision (only access, or refresh).
    claims.setdefault("type", "access")
    fresh = claims.setdefault("fresh", False)
    if not (isinstance(fresh, bool) or is_number(fresh)):
        raise JWTDecodeError("Invalid claim: fresh must be a boolean or a NumericDate")
    claims.setdefault("jti", None)


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """What a valid token must satisfy; built once from settings.

    ``algorithms`` and ``max_bytes`` are read by :func:`.jws.verify` (the
    token's form), the rest by :func:`verify_claims`. ``conventions`` checks
    (and may complete) the claims of an application's token format after the
    registered claims and before expiry, so that an expired token handed to
    the expired-token loader passed every other check.

    ``checks`` is derived: :data:`BEFORE_EXPIRY` less the checks this policy
    switches off (no audience, no issuer, ``verify_sub=False``,
    ``verify_jti=False``), chosen here once rather than skipped on every token.
    """

    algorithms: frozenset[str]
    leeway: float = 0.0
    audience: tuple[str, ...] | None = None
    issuer: str | None = None
    verify_sub: bool = True
    #: Whether a ``jti`` must be a string (PyJWT checks it from 2.10 on).
    verify_jti: bool = True
    max_bytes: int = 8192
    conventions: Callable[[Claims], None] | None = extended_conventions
    #: With trusted issuers: each issuer's own policy, by name. A token is then
    #: checked against the policy of its (verified) ``iss``, never this one.
    issuers: Mapping[str, VerifyPolicy] | None = None
    checks: tuple[ClaimCheck, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        switched_off: dict[ClaimCheck, bool] = {
            check_aud: self.audience is None,
            check_iss: self.issuer is None,
            check_sub: not self.verify_sub,
            check_jti: not self.verify_jti,
        }
        checks = tuple(c for c in BEFORE_EXPIRY if not switched_off.get(c, False))
        object.__setattr__(self, "checks", checks)


# --- One check per registered claim ------------------------------------------
#
# Each is complete on its own (it reads the policy's switch itself), so it can
# be called outside verify_claims.


def check_iat(claims: Claims, policy: VerifyPolicy, now: float) -> None:
    """``iat``, if present: a NumericDate not in the future (beyond the leeway)."""
    iat = numeric_date(claims, "iat")
    if iat is not None and iat > now + policy.leeway:
        raise ImmatureSignatureError("The token is not yet valid (iat)")


def check_nbf(claims: Claims, policy: VerifyPolicy, now: float) -> None:
    """``nbf``, if present: a NumericDate already reached (within the leeway)."""
    nbf = numeric_date(claims, "nbf")
    if nbf is not None and nbf > now + policy.leeway:
        raise ImmatureSignatureError("The token is not yet valid (nbf)")


def check_audience(claims: Claims, expected: tuple[str, ...]) -> None:
    """``aud`` is required and must name one of ``expected`` (a string or a list of them)."""
    aud = claims.get("aud")
    if not aud:
        raise MissingRequiredClaimError("aud")
    values = [aud] if isinstance(aud, str) else aud
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidAudienceError("Invalid claim format in token")
    if not any(v in expected for v in values):
        raise InvalidAudienceError("Audience doesn't match")


def check_aud(claims: Claims, policy: VerifyPolicy, now: float) -> None:
    """``aud`` per :func:`check_audience` when the policy names audiences; else unchecked."""
    if policy.audience is not None:
        check_audience(claims, policy.audience)


def check_iss(claims: Claims, policy: VerifyPolicy, now: float) -> None:
    """``iss`` is required and must equal the policy's issuer, when it has one."""
    if policy.issuer is not None:
        if "iss" not in claims:
            raise MissingRequiredClaimError("iss")
        if claims["iss"] != policy.issuer:
            raise InvalidIssuerError("Invalid issuer")


def check_sub(claims: Claims, policy: VerifyPolicy, now: float) -> None:
    """``sub``, if present, must be a string (RFC 7519), unless the policy waives it."""
    if policy.verify_sub and "sub" in claims and not isinstance(claims["sub"], str):
        raise InvalidSubjectError("Subject must be a string")


def check_jti(claims: Claims, policy: VerifyPolicy, now: float) -> None:
    """``jti``, if present, must be a string, unless the policy waives it."""
    if policy.verify_jti and "jti" in claims and not isinstance(claims["jti"], str):
        raise InvalidJTIError("JWT ID must be a string")


def check_exp(claims: Claims, policy: VerifyPolicy, now: float) -> None:
    """``exp``, if present: a NumericDate still in the future (within the leeway).

    It counts in whole seconds, as PyJWT reads it (truncated): a fractional
    part never extends a token's life. The error carries the claims, for the
    expired-token loader; the caller adds the header.
    """
    exp = numeric_date(claims, "exp")
    if exp is not None and int(exp) <= now - policy.leeway:
        raise ExpiredSignatureError("Signature has expired", {}, claims)


#: The registered claims checked before the policy's conventions, in order.
#: ``exp`` is not among them: :func:`verify_claims` checks it last.
BEFORE_EXPIRY: Final[tuple[ClaimCheck, ...]] = (
    check_iat,
    check_nbf,
    check_iss,
    check_aud,
    check_sub,
    check_jti,
)


def check_numeric_dates(claims: Claims) -> None:
    """Raise if ``iat``, ``nbf`` or ``exp`` (checked in that order) is present but malformed."""
    for name in NUMERIC_DATES:
        numeric_date(claims, name)


def _issuer_policy(claims: Claims, issuers: Mapping[str, VerifyPolicy]) -> VerifyPolicy:
    """The policy of the issuer the token names; an issuer without one is refused.

    The key lookup has already refused an untrusted ``iss`` before the
    signature was checked; this is the same rule applied again where the
    claims are checked, so a lookup that forgot it cannot let a token through.
    """
    name = claims.get("iss")
    chosen = issuers.get(name) if isinstance(name, str) else None
    if chosen is None:
        raise InvalidIssuerError("Untrusted issuer")
    return chosen


def verify_claims(
    claims: Claims, policy: VerifyPolicy, now: float, *, verify_exp: bool = True
) -> None:
    """Check ``claims`` against ``policy`` in the order the module docstring gives.

    ``claims`` may be completed in place by the policy's conventions.
    ``verify_exp=False`` accepts an expired token (its ``exp`` must still be
    well-formed).
    """
    if policy.issuers is not None:
        policy = _issuer_policy(claims, policy.issuers)
    try:
        for check in policy.checks:
            check(claims, policy, now)
        if policy.conventions is not None:
            policy.conventions(claims)
    except Exception:
        # Step 1 of the order, run only once something failed: a malformed
        # NumericDate is reported before whatever else is wrong, and a valid
        # token has each date read once (by its own check), not twice.
        try:
            check_numeric_dates(claims)
        except JWTExtendedException as malformed:
            raise malformed from None  # not "during handling of" the other error
        raise
    if verify_exp:
        check_exp(claims, policy, now)
    else:
        numeric_date(claims, "exp")
