"""``create_access_token`` and ``create_refresh_token``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, Literal, NamedTuple

from ... import signals
from ...exceptions import ConfigurationError, IdentityError
from ..config.readers import lifetime_from, never_if_zero
from ..config.settings import Settings
from ..jose import claimset, jws
from ..jose.keys import PreparedKey
from ..keysources.resolvers import not_signing
from ..revocation.policy import new_family
from .context import IDENTITY_TYPE_CLAIM, stringify_identity
from .decoding import decode
from .state import get_state, json_default

logger = logging.getLogger("flask_jwtx")

ExpiresDelta = timedelta | Literal[False] | None
Fresh = bool | float | timedelta


class Issued(NamedTuple):
    """A token minted by :func:`issue`, with the claims it carries if they are known."""

    encoded: str
    claims: dict[str, Any]


@dataclass(slots=True)
class _Issuing:
    """What :func:`issue` passes through a subclass's encode hook to :func:`create_token`."""

    identity_is_claim: bool
    claims: list[dict[str, Any]] = field(default_factory=list)


#: Set while :func:`issue` calls a subclass's ``_encode_jwt_from_config``, whose
#: Flask-JWT-Extended signature has no room for it.
_issuing: ContextVar[_Issuing | None] = ContextVar("flask_jwtx_issuing", default=None)


def issue(
    token_type: str,
    identity: Any,
    fresh: Fresh = False,
    expires_delta: ExpiresDelta = None,
    additional_claims: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
    *,
    identity_is_claim: bool = False,
) -> Issued:
    """Mint a token: the one issuing path.

    ``create_access_token``, ``create_refresh_token``, ``create_token_pair``,
    refresh rotation, the auth blueprint, ``flask jwt token`` and the testing
    helpers all come here. A ``JWTManager`` subclass that overrides
    ``_encode_jwt_from_config`` (a JWE wrapper, say) mints every token, as
    with Flask-JWT-Extended; the claims it signed are still reported
    (sessions register them): collected when it calls ours, else read back
    through the decode step requests use.

    ``identity_is_claim``: ``identity`` is already the claim a token carried
    (a rotation re-issuing it), so the ``user_identity_loader``, written for
    the app's user objects, is not run on it again.
    """
    state = get_state()
    hook = state.encode_hook
    if hook is None:
        issued: list[dict[str, Any]] = []
        encoded = create_token(
            token_type,
            identity,
            fresh,
            expires_delta,
            additional_claims,
            additional_headers,
            identity_is_claim=identity_is_claim,
            issued=issued,
        )
        return Issued(encoded, issued[0])
    context = _Issuing(identity_is_claim)
    reset = _issuing.set(context)
    try:
        token: str = hook(
            identity,
            token_type,
            claims=dict(additional_claims) if additional_claims is not None else None,
            fresh=fresh,
            expires_delta=expires_delta,
            headers=dict(additional_headers) if additional_headers is not None else None,
        )
    finally:
        _issuing.reset(reset)
    if context.claims:
        return Issued(token, context.claims[-1])
    # The hook minted it without our core: read it back the way requests will.
    return Issued(token, decode(state, state.settings.get(), token)[1])


def require_family(family: str, *issued: Issued) -> None:
    """Refuse tokens that lost the ``fam`` claim a session or a rotation gave them.

    A session is ended, and a reused refresh token's family revoked, through
    the ``fam`` every token of it carries. A subclass's encode hook that signs
    a fixed set of claims (a JWE wrapper, say) may drop it: its tokens would
    then outlive ``revoke_session`` and reuse detection. They are not handed
    out; the error names the fix.
    """
    if any(token.claims.get("fam") != family for token in issued):
        raise ConfigurationError(
            "The JWTManager subclass's _encode_jwt_from_config dropped the 'fam' claim "
            "it was given: sessions and refresh-token rotation end tokens through it. "
            "Keep every claim of the claims argument in the tokens it makes."
        )


def create_access_token(
    identity: Any,
    fresh: Fresh = False,
    expires_delta: ExpiresDelta = None,
    additional_claims: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
) -> str:
    """A new signed access token for ``identity``.

    ``fresh`` may be a ``timedelta`` (fresh for that long); ``expires_delta``
    overrides ``JWT_ACCESS_TOKEN_EXPIRES`` and ``False`` means never expires.
    ``additional_claims``/``additional_headers`` win over the loaders' and
    the defaults.
    """
    return issue(
        "access", identity, fresh, expires_delta, additional_claims, additional_headers
    ).encoded


def create_refresh_token(
    identity: Any,
    expires_delta: ExpiresDelta = None,
    additional_claims: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
) -> str:
    """A new signed refresh token for ``identity`` (never fresh)."""
    return issue(
        "refresh", identity, False, expires_delta, additional_claims, additional_headers
    ).encoded


def create_token(
    token_type: str,
    identity: Any,
    fresh: Fresh,
    expires_delta: ExpiresDelta,
    additional_claims: Mapping[str, Any] | None,
    additional_headers: Mapping[str, Any] | None,
    *,
    identity_is_claim: bool = False,
    issued: list[dict[str, Any]] | None = None,
) -> str:
    """Sign a new ``token_type`` token with the app's settings and loaders.

    The core behind :func:`issue` (and ``JWTManager._encode_jwt_from_config``,
    which a subclass's override calls): ``additional_*`` win over the
    loaders' claims and headers, which win over the defaults. ``issued``: a
    list the token's claims are appended to.
    """
    context = _issuing.get()
    if context is not None:  # called back from a subclass's encode hook, by issue()
        identity_is_claim = identity_is_claim or context.identity_is_claim
        if issued is None:
            issued = context.claims
    state = get_state()
    settings = state.settings.get()
    callbacks = state.callbacks
    claims_extra = dict(
        run_identity_loader("additional_claims_loader", callbacks.additional_claims, identity)
        or {}
    )
    if additional_claims:
        claims_extra.update(additional_claims)
    headers = dict(
        run_identity_loader("additional_headers_loader", callbacks.additional_headers, identity)
        or {}
    )
    if additional_headers:
        headers.update(additional_headers)

    if identity_is_claim:
        stored_identity, kind = identity, None
    else:
        value = run_identity_loader("user_identity_loader", callbacks.user_identity, identity)
        stored_identity, kind = identity_claim_value(settings, value)
    if kind is not None:
        claims_extra.setdefault(IDENTITY_TYPE_CLAIM, kind)

    lifetime = _lifetime(settings, token_type, expires_delta)
    claims = claimset.build_claims(
        identity_claim=settings.identity_claim,
        identity=stored_identity,
        token_type=token_type,
        fresh=fresh,
        expires_delta=lifetime,
        encode_nbf=settings.encode_nbf,
        csrf=settings.csrf_protect,
        audience=settings.encode_audience,
        issuer=settings.encode_issuer,
        extra=claims_extra,
    )
    if settings.rotation and token_type == "refresh":
        claims.setdefault("fam", new_family())  # each login starts a refresh-token family
    key, kid = _signing_key(settings, identity)
    if kid is not None:
        headers = {"kid": kid, **headers}
    encoded = jws.encode(
        claims,
        key,
        headers=headers,
        json_default=json_default(),
    )
    if issued is not None:
        issued.append(claims)
    if signals.token_issued.receivers:
        signals.token_issued.send(
            signals.sender(),
            token_type=token_type,
            claims=claims,
        )
    return encoded


def run_identity_loader(name: str, loader: Callable[[Any], Any], identity: Any) -> Any:
    """Call one of the loaders that receive an identity; a failure names the loader.

    They receive whatever ``create_access_token(identity=...)`` was given,
    and are often written for the app's user objects (``user.id``,
    ``user.role``): handed an id instead (from the CLI, a test helper,
    ``revoke_all("1")``), they fail with an ``AttributeError`` deep in app
    code. The exception is kept as it is (an app may raise its own on
    purpose); a note says which loader failed, on what, and what to pass.
    """
    try:
        return loader(identity)
    except Exception as exc:
        shown = repr(identity)
        if len(shown) > _SHOWN_IDENTITY:
            shown = shown[: _SHOWN_IDENTITY - 3] + "..."
        exc.add_note(
            f"flask-jwtx: the {name} failed on the {type(identity).__name__} {shown}. "
            "It receives what create_access_token(identity=...) is given; if it is written "
            "for your user objects, pass a user object (`flask jwt token --load-user` and "
            "flask_jwtx.testing.user_for(app, id) load one through your user_lookup_loader; "
            "revoke_all, list_sessions and revoke_session also take sub= for the identity "
            "claim as tokens carry it)."
        )
        raise


def identity_or_sub(identity: Any, sub: Any, caller: str, unset: Any = None) -> Any:
    """The identity claim value for a lookup given ``identity`` (through the loader) or ``sub``.

    ``revoke_all``, ``list_sessions`` and ``revoke_session`` take either what
    ``create_access_token`` was given (``identity``: the
    ``user_identity_loader`` maps it) or the claim as tokens carry it
    (``sub=``: no loader runs, as in a view holding ``get_jwt_identity()``).
    ``unset`` is the caller's marker for "not given".
    """
    given_identity, given_sub = identity is not unset, sub is not unset
    if given_identity == given_sub:
        raise TypeError(
            f"{caller}() takes the identity (what create_access_token was given) or "
            "sub= (the identity claim as tokens carry it): exactly one of the two"
        )
    if given_sub:
        return sub
    loader = get_state().callbacks.user_identity
    return run_identity_loader("user_identity_loader", loader, identity)


def load_user_for(claimed: Any) -> Any:
    """The app's user for an identity claim value, through its ``user_lookup_loader``.

    What the CLI (``--load-user``) and the testing helpers (``user_for``)
    hand to loaders written for user objects, as a request would have it:
    the loader is called with an empty header and the claims
    ``{<JWT_IDENTITY_CLAIM>: claimed, "type": "access"}``.
    """
    state = get_state()
    lookup = state.callbacks.user_lookup
    if lookup is None:
        raise TypeError(
            "loading a user needs a @jwt.user_lookup_loader, and this app registers none: "
            "pass the identity itself"
        )
    claims = {state.settings.get().identity_claim: claimed, "type": "access"}
    user = lookup({}, claims)
    if user is None:
        raise LookupError(f"the user_lookup_loader found no user for {claimed!r}")
    return user


#: How much of an identity a loader-failure note shows.
_SHOWN_IDENTITY: Final = 60


def identity_claim_value(settings: Settings, identity: Any) -> tuple[Any, str | None]:
    """The identity as it goes in the token, and the type it was stringified from.

    PyJWT 2.10 started refusing a non-string ``sub`` when *verifying*: with the
    Flask-JWT-Extended, ``create_access_token(identity=user.id)`` works and every use
    of the token then fails with a 422 "Subject must be a string". We do the
    same (apps' test fixtures mint such tokens without using them; refusing at
    creation would protect no one, since the token is refused on use) and log
    the fix once per type. ``JWT_IDENTITY_AS_STRING`` stores int, UUID and
    other JSON identities (lists, dicts...) as strings and gives them back in
    their type; having opted in to it, an identity it cannot store is an
    :class:`IdentityError` at once.

    Where the installed PyJWT has no ``sub`` check (before 2.10), neither has
    Flask-JWT-Extended, and ``settings.policy.verify_sub`` is off: the identity
    goes in as it is, and comes back as it went in.
    """
    try:
        return verifiable_identity(settings, identity)
    except IdentityError as refused:
        if settings.identity_as_string:
            raise
        kind = type(identity).__name__
        if kind not in _WARNED:
            _WARNED.add(kind)
            logger.warning("A token was created with a %s identity: %s", kind, refused)
        return identity, None


def verifiable_identity(settings: Settings, identity: Any) -> tuple[Any, str | None]:
    """The identity claim as a token that verifies here carries it, or IdentityError.

    What ``revoke_all`` writes its record for: a form no valid token can carry
    would log out nobody, silently.

    ``JWT_IDENTITY_AS_STRING`` applies whether or not ``sub`` is checked: an
    app that opted in mints the same tokens on every PyJWT, so tokens minted
    before PyJWT 2.10 started checking ``sub`` keep working after an upgrade.
    """
    if settings.identity_claim != "sub" or isinstance(identity, str):
        return identity, None
    if settings.identity_as_string:
        converted = stringify_identity(identity, json_default())
        if converted is not None:
            return converted
    elif not settings.policy.verify_sub:
        return identity, None
    text = _json_string(identity)
    if text is not None:
        # A UUID, a Decimal, a date...: the app's JSON provider writes it as a
        # string, so Flask-JWT-Extended's token had a valid string 'sub' and
        # get_jwt_identity() gave that string back. Same here.
        return text, None
    raise IdentityError(
        f"The identity {identity!r} ({type(identity).__name__}) cannot be the 'sub' claim: "
        "RFC 7519 makes 'sub' a string, and tokens carrying another type are refused when "
        "verified (422 'Subject must be a string'). Pass a string (str(user.id)), register a "
        "@jwt.user_identity_loader that returns one, set JWT_IDENTITY_AS_STRING = True to "
        "store int, UUID and JSON (list, dict...) identities as strings and get them back "
        "in their type from get_jwt_identity(), or set JWT_VERIFY_SUB = False."
    )


def _lifetime(
    settings: Settings, token_type: str, expires_delta: ExpiresDelta
) -> timedelta | None:
    """How long the new token lives: its ``expires_delta``, else the type's setting."""
    if expires_delta is None:
        return settings.access_expires if token_type == "access" else settings.refresh_expires
    if expires_delta is False:
        return None
    span = timedelta(0) if _zero(expires_delta) else lifetime_from(expires_delta, "expires_delta")
    return never_if_zero(span, "expires_delta")


def _zero(value: object) -> bool:
    """``expires_delta=0``: Flask-JWT-Extended's ``if expires_delta:`` reads it as "never"."""
    return type(value) is int and value == 0


#: Identity types already warned about (once per process each, not once per token).
_WARNED: Final[set[str]] = set()


#: Types the JSON encoder writes natively: never strings, so never a valid ``sub``.
_JSON_NATIVE: Final = (int, float, bool, type(None), list, tuple, dict)


def _json_string(identity: Any) -> str | None:
    """The identity as the app's JSON provider writes it, if that is a string."""
    if isinstance(identity, _JSON_NATIVE):
        return None
    try:
        text = json_default()(identity)
    except TypeError:
        return None
    return text if isinstance(text, str) else None


def _signing_key(settings: Settings, identity: Any) -> tuple[PreparedKey, str | None]:
    """The key to sign with and its ``kid`` (``None`` when it has none)."""
    signing = settings.keys.signing_for(identity)
    if signing is None:
        raise not_signing()
    return signing
