"""One exception hierarchy for everything flask-jwtx raises.

Every error derives from :class:`JWTExtendedException` (Flask-JWT-Extended's root
name, kept so ``except`` clauses written for Flask-JWT-Extended still match).
The extension registers a single Flask error handler, on that root, and turns
each error into the response its loader callback produces.

Errors about the token itself also derive from the matching PyJWT exception
(``jwt.ExpiredSignatureError`` and friends), placed *first* in the bases: code
that catches PyJWT's classes keeps working, and an ``app.errorhandler`` a user
registers on a PyJWT class is found before ours in the method resolution
order, exactly as it overrode Flask-JWT-Extended's handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self

import jwt

Header = dict[str, Any]

# PyJWT 2.10 added the two classes below, and with them its check that
# ``sub`` is a string. On an older PyJWT our classes derive from the error
# both descend from there (``InvalidTokenError``), so ``except`` clauses
# written for either library still match.
try:
    from jwt.exceptions import InvalidJTIError as _PyJWTJTIError
    from jwt.exceptions import InvalidSubjectError as _PyJWTSubjectError
except ImportError:  # pragma: no cover - PyJWT < 2.10, run by scripts/test-min.sh
    _PyJWTJTIError = _PyJWTSubjectError = jwt.InvalidTokenError  # type: ignore[assignment,misc]

#: Whether the installed PyJWT checks that ``sub`` and ``jti`` are strings (2.10
#: and later). Flask-JWT-Extended leaves both checks to PyJWT, so on an older
#: PyJWT it never refuses a non-string ``sub`` (whatever ``JWT_VERIFY_SUB``
#: says) or ``jti``; flask-jwtx answers the same way.
PYJWT_CHECKS_SUB: bool = _PyJWTSubjectError is not jwt.InvalidTokenError
Claims = dict[str, Any]

#: Called, without arguments, each time one of these errors is created, before
#: anything can raise or handle it. ``flask_jwtx._core.web.integrations`` registers
#: itself here: a REST framework imported at any time (even after ``init_app``)
#: is made to pass the error on to Flask before its error router sees it. Only
#: the error path pays for it; a hook must be cheap and must not raise.
on_create: list[Callable[[], object]] = []


class JWTExtendedException(Exception):  # noqa: N818 - Flask-JWT-Extended's public name
    """Root of every flask-jwtx error.

    Each class knows its answer: ``status`` is the HTTP status its default
    response carries, ``code`` a short machine-readable name for logs,
    metrics and your own handlers (the body keeps Flask-JWT-Extended's message).
    """

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_token"

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        # __new__ rather than __init__: it runs for every subclass, including
        # an app's own that never calls super().__init__().
        for hook in on_create:
            hook()
        return super().__new__(cls, *args, **kwargs)


class ConfigurationError(JWTExtendedException, RuntimeError):
    """A ``JWT_*`` setting is missing or wrong.

    Raised by ``init_app`` (so a bad deployment fails at start-up, not on the
    first request) and whenever changed settings are re-read. It subclasses
    ``RuntimeError`` because that is what Flask-JWT-Extended raised, lazily.
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "configuration"


class IdentityError(JWTExtendedException, TypeError):
    """The identity given to ``create_*_token`` cannot be stored in the token.

    Raised at creation time, where the mistake is made, instead of letting a
    token out that every protected route would later refuse.
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "unusable_identity"


class KeySourceUnavailableError(JWTExtendedException):
    """No verification keys could be had: the JWKS endpoint or key loader failed (503).

    Raised only while no key set is cached; once one is, it keeps serving.
    """

    status: ClassVar[int] = 503
    code: ClassVar[str] = "keys_unavailable"


# --- Errors found while reading the request -------------------------------


class NoAuthorizationError(JWTExtendedException):
    """No token was found in any of the allowed locations (401)."""

    status: ClassVar[int] = 401
    code: ClassVar[str] = "missing_token"


class InvalidHeaderError(JWTExtendedException):
    """The authorization header is present but not in the expected form (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_header"


class InvalidQueryParamError(JWTExtendedException):
    """The query string value lacks the configured prefix (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_query_param"


class CSRFError(JWTExtendedException):
    """The CSRF double-submit value is missing or does not match (401)."""

    status: ClassVar[int] = 401
    code: ClassVar[str] = "csrf_failed"


# --- Errors about the token -----------------------------------------------


class JWTDecodeError(JWTExtendedException):
    """The token is well formed but misses a claim flask-jwtx needs (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_claims"


class DecodeError(jwt.DecodeError, JWTExtendedException):
    """The token cannot be parsed: segments, base64url, JSON or types (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "malformed_token"


class TokenTooLargeError(DecodeError):
    """The token is larger than ``JWT_MAX_TOKEN_BYTES``; nothing was decoded."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "token_too_large"


class InvalidAlgorithmError(jwt.InvalidAlgorithmError, JWTExtendedException):
    """The header's ``alg`` is missing, ``none`` or not in the allow-list (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "algorithm_not_allowed"


class InvalidSignatureError(jwt.InvalidSignatureError, JWTExtendedException):
    """The signature does not match the key for the token's algorithm (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_signature"


class InvalidKeyError(jwt.InvalidKeyError, JWTExtendedException):
    """The key supplied for a token cannot be used with its algorithm (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_key"


class ExpiredSignatureError(jwt.ExpiredSignatureError, JWTExtendedException):
    """The token's ``exp`` has passed (401, via the expired-token loader)."""

    status: ClassVar[int] = 401
    code: ClassVar[str] = "token_expired"

    def __init__(self, message: str, jwt_header: Header, jwt_data: Claims) -> None:
        super().__init__(message)
        self.jwt_header = jwt_header
        self.jwt_data = jwt_data


class ImmatureSignatureError(jwt.ImmatureSignatureError, JWTExtendedException):
    """The token's ``nbf`` or ``iat`` lies in the future (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "token_not_yet_valid"


class InvalidAudienceError(jwt.InvalidAudienceError, JWTExtendedException):
    """The token's ``aud`` does not name this service (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_audience"


class InvalidIssuerError(jwt.InvalidIssuerError, JWTExtendedException):
    """The token's ``iss`` is not the configured issuer (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_issuer"


class InvalidIssuedAtError(jwt.InvalidIssuedAtError, JWTExtendedException):
    """The token's ``iat`` is not a JSON number (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_iat"


class InvalidSubjectError(_PyJWTSubjectError, JWTExtendedException):
    """The token's ``sub`` is not a string while ``JWT_VERIFY_SUB`` is on (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_sub"


class InvalidJTIError(_PyJWTJTIError, JWTExtendedException):
    """The token's ``jti`` is not a string (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid_jti"


class MissingRequiredClaimError(jwt.MissingRequiredClaimError, JWTExtendedException):
    """A claim required by the configuration (``aud``, ``iss``) is absent (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "missing_claim"


# --- Errors after the token verified ----------------------------------------


class _TokenRefusedError(JWTExtendedException):
    """A verified token refused by policy; carries header and claims for loaders."""

    def __init__(self, message: str, jwt_header: Header, jwt_data: Claims) -> None:
        super().__init__(message)
        self.jwt_header = jwt_header
        self.jwt_data = jwt_data


class WrongTokenError(JWTExtendedException):
    """An access token was used where a refresh token is required, or the reverse (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "wrong_token_type"


class RevokedTokenError(_TokenRefusedError):
    """The blocklist callback reported the token as revoked (401)."""

    status: ClassVar[int] = 401
    code: ClassVar[str] = "token_revoked"

    def __init__(self, jwt_header: Header, jwt_data: Claims) -> None:
        super().__init__("Token has been revoked", jwt_header, jwt_data)


class FreshTokenRequired(_TokenRefusedError):  # noqa: N818 - Flask-JWT-Extended's public name
    """A fresh token is required and this one is not, or no longer, fresh (401)."""

    status: ClassVar[int] = 401
    code: ClassVar[str] = "fresh_token_required"


class UserLookupError(_TokenRefusedError):
    """The user lookup callback returned ``None`` (401)."""

    status: ClassVar[int] = 401
    code: ClassVar[str] = "user_not_found"


class UserClaimsVerificationError(_TokenRefusedError):
    """The token verification callback returned ``False`` (400)."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "claims_verification_failed"


class AuthorizationError(_TokenRefusedError):
    """The token is valid but misses a route's ``claims``/``scope`` requirement (403).

    ``requirement`` says which kind failed: ``"claims"`` or ``"scope"``.
    """

    status: ClassVar[int] = 403
    code: ClassVar[str] = "forbidden"

    def __init__(
        self, message: str, jwt_header: Header, jwt_data: Claims, requirement: str = "claims"
    ) -> None:
        super().__init__(message, jwt_header, jwt_data)
        self.requirement = requirement


class InsufficientUserAuthenticationError(_TokenRefusedError):
    """The user signed in too long ago, or not strongly enough, for the route (401).

    A route's ``max_age=`` or ``acr=`` (RFC 9470 step-up authentication):
    the client must send the user back to the authorization server, asking
    for ``max_age`` or ``acr_values``, which the resource server's
    ``WWW-Authenticate`` challenge names.
    """

    status: ClassVar[int] = 401
    code: ClassVar[str] = "insufficient_user_authentication"

    def __init__(
        self,
        message: str,
        jwt_header: Header,
        jwt_data: Claims,
        *,
        max_age: int | None = None,
        acr_values: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(message, jwt_header, jwt_data)
        self.max_age = max_age
        self.acr_values = acr_values


class LoginRefusedError(JWTExtendedException):
    """The auth blueprint's login callback refused the credentials (401)."""

    status: ClassVar[int] = 401
    code: ClassVar[str] = "login_refused"


class CrossSiteRequestError(JWTExtendedException):
    """The browser says another site sent this request to a cookie-mode endpoint (403).

    Raised by the auth blueprint in cookie mode for login and logout, from
    ``Sec-Fetch-Site`` or ``Origin``: a foreign page must not log a victim
    into the attacker's account (login CSRF) or out of their own.
    """

    status: ClassVar[int] = 403
    code: ClassVar[str] = "cross_site_request"


class UnsupportedContentTypeError(JWTExtendedException):
    """A request body of a type the endpoint does not take (415).

    The auth blueprint's cookie-mode login takes JSON only: the three types
    an HTML form can send cross-site are refused before the login callback.
    """

    status: ClassVar[int] = 415
    code: ClassVar[str] = "unsupported_content_type"


class SessionNotFoundError(JWTExtendedException):
    """No live session of the current identity has that id (404).

    The same answer for another user's session as for none at all: the
    endpoint does not confirm which session ids exist.
    """

    status: ClassVar[int] = 404
    code: ClassVar[str] = "session_not_found"


__all__ = [
    "AuthorizationError",
    "CSRFError",
    "ConfigurationError",
    "CrossSiteRequestError",
    "DecodeError",
    "ExpiredSignatureError",
    "FreshTokenRequired",
    "IdentityError",
    "ImmatureSignatureError",
    "InsufficientUserAuthenticationError",
    "InvalidAlgorithmError",
    "InvalidAudienceError",
    "InvalidHeaderError",
    "InvalidIssuedAtError",
    "InvalidIssuerError",
    "InvalidJTIError",
    "InvalidKeyError",
    "InvalidQueryParamError",
    "InvalidSignatureError",
    "InvalidSubjectError",
    "JWTDecodeError",
    "JWTExtendedException",
    "KeySourceUnavailableError",
    "LoginRefusedError",
    "MissingRequiredClaimError",
    "NoAuthorizationError",
    "RevokedTokenError",
    "SessionNotFoundError",
    "TokenTooLargeError",
    "UnsupportedContentTypeError",
    "UserClaimsVerificationError",
    "UserLookupError",
    "WrongTokenError",
]


# --- Revocation stores and sessions ---------------------------------------------


class StoreUnavailableError(JWTExtendedException):
    """The revocation store could not be reached or answered with an error (503)."""

    status: ClassVar[int] = 503
    code: ClassVar[str] = "store_unavailable"


class StoreCredentialsError(StoreUnavailableError):
    """The store's server refused this client's credentials: none given, or wrong ones (503).

    Apart from its parent so that the start-up error can say what to fix (a
    password in the URL) instead of telling to start a server that is running.
    """

    code: ClassVar[str] = "store_credentials_refused"


class SessionContentionError(StoreUnavailableError):
    """Concurrent logins at ``JWT_SESSION_LIMIT`` ended each session a login opened (503).

    A login tries again when that happens, with a newer session; this is
    raised only after several tries, rather than hand out tokens of a session
    that is already ended.
    """

    code = "session_contention"


class RefreshTokenReusedError(RevokedTokenError):
    """A refresh token was presented again after it was used: its family is revoked (401)."""

    status: ClassVar[int] = 401
    code: ClassVar[str] = "refresh_token_reused"


# --- Warnings -----------------------------------------------------------------------

try:  # PyJWT >= 2.11 warns about short HMAC keys with its own class
    from jwt.warnings import InsecureKeyLengthWarning as _PyJWTKeyLengthWarning
except ImportError:  # pragma: no cover - older PyJWT
    _PyJWTKeyLengthWarning = UserWarning  # type: ignore[assignment,misc]


class WeakSecretWarning(_PyJWTKeyLengthWarning):
    """The HMAC secret is shorter than its hash, so tokens are easier to forge.

    A subclass of PyJWT's ``InsecureKeyLengthWarning``, which Flask-JWT-Extended's
    users saw for the same secret: a warnings filter written for that class
    (``ignore::jwt.warnings.InsecureKeyLengthWarning``) covers ours too.
    """
