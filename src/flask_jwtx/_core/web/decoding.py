"""``decode_token`` and the helpers that read tokens outside a protected view."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context

from ...exceptions import Claims, DecodeError, Header
from ..config.schema import DEFAULTS
from ..config.settings import Settings
from ..jose import tokens
from ..jose.csrf import check_double_submit
from ..keysources.introspection import is_opaque
from .state import EXTENSION_KEY, AppState, get_state


def decode_with_settings(
    settings: Settings,
    encoded_token: str,
    csrf_value: str | None = None,
    allow_expired: bool = False,
) -> tuple[Header, Claims]:
    """Verify ``encoded_token`` with the app's settings: header and claims.

    Signature, algorithm, registered claims, then (when ``csrf_value`` is
    given) the CSRF double-submit value. What ``JWTManager._decode_jwt_from_config``
    does; everything else reaches it through :func:`decode`.
    """
    header, claims = tokens.decode(
        encoded_token, settings.policy, settings.keys.lookup, verify_exp=not allow_expired
    )
    if csrf_value:  # a cookie-held token: the request must echo its csrf claim
        check_double_submit(claims, csrf_value)
    return header, claims


def decode(
    state: AppState,
    settings: Settings,
    encoded_token: str,
    csrf_value: str | None = None,
    *,
    allow_expired: bool = False,
) -> tuple[Header, Claims]:
    """The decode step of every entry point (``flask_jwtx._core.web.pipeline``): header, claims.

    A ``JWTManager`` subclass that overrides ``_decode_jwt_from_config``
    (JWE, introspection) decodes every token, as with Flask-JWT-Extended; the
    header is then read from the token as sent (``{}`` when the subclass's
    format has none that parses). With ``JWT_INTROSPECTION``, an opaque token
    is the authorization server's answer (``keysources.introspection``).

    Whatever decoded it, a token found in a cookie must come with its CSRF
    value (``csrf_value``, given only then): the double submit is checked
    here, after every decoder, so neither an introspected token nor a
    subclass that ignores the value it is handed skips it.
    """
    header, claims = _decoded(state, settings, encoded_token, csrf_value, allow_expired)
    check_double_submit(claims, csrf_value)
    return header, claims


def _decoded(
    state: AppState,
    settings: Settings,
    encoded_token: str,
    csrf_value: str | None,
    allow_expired: bool,
) -> tuple[Header, Claims]:
    """Header and claims as the token's decoder gives them, before the CSRF check."""
    hook = state.decode_hook
    if hook is not None:
        # Handed the CSRF value as Flask-JWT-Extended hands it, and checked again after.
        claims: Claims = hook(encoded_token, csrf_value, allow_expired)
        try:
            header = tokens.unverified_header(encoded_token, settings.policy.max_bytes)
        except DecodeError:  # the subclass's own format (a JWE's header is readable)
            header = {}
        return header, claims
    introspection = settings.introspection
    if introspection is not None and isinstance(encoded_token, str) and is_opaque(encoded_token):
        return {}, introspection.claims(encoded_token)
    return decode_with_settings(settings, encoded_token, None, allow_expired)


def decode_token(
    encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
) -> dict[str, Any]:
    """Verify ``encoded_token`` and return its claims.

    Checks signature, algorithm, registered claims and (if ``csrf_value`` is
    given) the CSRF double-submit value: the pipeline's decode step alone.
    Does not consult the blocklist, the user loader or the verification
    callback.
    """
    state = get_state()
    return decode(
        state, state.settings.get(), encoded_token, csrf_value, allow_expired=allow_expired
    )[1]


def get_unverified_jwt_headers(encoded_token: str) -> dict[str, Any]:
    """The header of ``encoded_token``, parsed but NOT verified: do not trust it.

    Like Flask-JWT-Extended's, it works anywhere: in an app with flask-jwtx the
    size cap is ``JWT_MAX_TOKEN_BYTES``, elsewhere (no app context, or an app
    without a ``JWTManager``) the default.
    """
    max_bytes = DEFAULTS["JWT_MAX_TOKEN_BYTES"]
    if has_app_context() and EXTENSION_KEY in current_app.extensions:
        max_bytes = get_state().settings.get().policy.max_bytes
    return tokens.unverified_header(encoded_token, max_bytes)


def get_jti(encoded_token: str) -> str | None:
    """The ``jti`` (unique id) of a valid token."""
    jti: str | None = decode_token(encoded_token).get("jti")
    return jti


def get_csrf_token(encoded_token: str) -> str:
    """The CSRF double-submit value embedded in a valid token."""
    csrf: str = decode_token(encoded_token)["csrf"]
    return csrf
