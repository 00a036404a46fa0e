"""``decode_token`` and the helpers that read tokens outside a protected view."""

from __future__ import annotations

from typing import Any

from . import tokens
from .csrf import check_double_submit
from .exceptions import Claims, Header
from .keys import PreparedKey, prepare_key
from .resolvers import TrustedIssuers
from .settings import Settings
from .state import AppState, get_state


def key_lookup(state: AppState, settings: Settings) -> tokens.KeyLookup:
    """The verification key source: configured keys, or the user's loader."""
    loader = state.callbacks.custom_decode_key()
    if loader is not None:
        resolver = settings.resolver
        # With trusted issuers the loader picks the key, but the issuer
        # allow-list and each issuer's audience still decide (they are not in
        # the policy, which holds no single audience for such an app).
        screen = resolver.select if isinstance(resolver, TrustedIssuers) else None

        def from_loader(algorithm: str, header: Header, parsed: tokens.ParsedToken) -> PreparedKey:
            if screen is not None:
                screen(algorithm, parsed)
            return prepare_key(algorithm, loader(header, parsed.claims()))

        return from_loader
    return settings.resolver.lookup


def decode_full(
    encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
) -> tuple[Header, Claims]:
    """Verify ``encoded_token`` with the current app's settings: header and claims."""
    state = get_state()
    settings = state.settings.get()
    header, claims = tokens.decode(
        encoded_token, settings.policy, key_lookup(state, settings), verify_exp=not allow_expired
    )
    check_double_submit(claims, csrf_value)
    return header, claims


def decode_token(
    encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
) -> dict[str, Any]:
    """Verify ``encoded_token`` and return its claims.

    Checks signature, algorithm, registered claims and (if ``csrf_value`` is
    given) the CSRF double-submit value. Does not consult the blocklist, the
    user loader or the verification callback.
    """
    return decode_full(encoded_token, csrf_value, allow_expired)[1]


def get_unverified_jwt_headers(encoded_token: str) -> dict[str, Any]:
    """The header of ``encoded_token``, parsed but NOT verified: do not trust it."""
    return tokens.unverified_header(encoded_token, get_state().settings.get().policy.max_bytes)


def get_jti(encoded_token: str) -> str | None:
    """The ``jti`` (unique id) of a valid token."""
    jti: str | None = decode_token(encoded_token).get("jti")
    return jti


def get_csrf_token(encoded_token: str) -> str:
    """The CSRF double-submit value embedded in a valid token."""
    csrf: str = decode_token(encoded_token)["csrf"]
    return csrf
