"""CSRF double submit: the token's ``csrf`` claim against the value the request sent.

A token kept in a cookie carries a random ``csrf`` claim; the client reads the
matching cookie (``csrf_access_token``) and sends its value back in a header
or form field, which a cross-site page cannot do. This module only compares
the two; :mod:`.locations` finds the submitted value, and the callers (the
request path and ``decode_token``) run the comparison after the token was
verified. It is not part of the token core (:mod:`.jws`, :mod:`.claims`):
a CSRF value is a property of the request, not of the token.
"""

from __future__ import annotations

from hmac import compare_digest

from ...exceptions import Claims, CSRFError, JWTDecodeError


def check_double_submit(claims: Claims, submitted: str | None) -> None:
    """Raise unless the verified ``claims`` carry the ``submitted`` CSRF value.

    Nothing is checked when ``submitted`` is ``None`` or empty (no CSRF value
    applies to this request). A token without a ``csrf`` claim is refused as
    :class:`JWTDecodeError` ("Missing claim: csrf"); a different value as
    :class:`CSRFError`. The comparison takes constant time.
    """
    if not submitted:
        return
    expected = claims.get("csrf")
    if expected is None:
        raise JWTDecodeError("Missing claim: csrf")
    # surrogatepass: a lone surrogate (in a signed claim, or a form value
    # decoded with surrogateescape) compares as bytes, never raises.
    if not isinstance(expected, str) or not compare_digest(
        expected.encode("utf-8", "surrogatepass"), submitted.encode("utf-8", "surrogatepass")
    ):
        raise CSRFError("CSRF double submit tokens do not match")
