"""Where keys come from: one resolver per configuration style.

A resolver answers two questions. ``signing()``: which key (and ``kid``)
signs a new token. ``lookup(alg, header, token)``: which key verifies this
token; it is a ``flask_jwtx._core.jose.tokens.KeyLookup`` and refuses rather than
guesses: an unknown ``kid`` is refused, a key is used only with the one
algorithm it is bound to, and nothing is ever taken from the token itself
(``jwk``, ``jku``, ``x5u`` and ``x5c`` headers are ignored).

:class:`AppKeys` puts the app's own ``encode_key_loader``/``decode_key_loader``
in front of the configured resolver, so that creating and verifying a token
ask one object, whatever the keys' source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

from ...exceptions import (
    Claims,
    ConfigurationError,
    DecodeError,
    Header,
    InvalidAlgorithmError,
    InvalidIssuerError,
    JWTDecodeError,
    MissingRequiredClaimError,
)
from ..jose.claims import VerifyPolicy
from ..jose.jws import ParsedToken
from ..jose.keys import PreparedKey, prepare_key
from ..jose.keyset import Key, KeySet
from .jwks import CachedKeySource

#: The key of :attr:`StaticKeys.missing` for the signing key.
SIGNING: Final = "sign"


class KeyResolver(Protocol):
    def signing(self) -> tuple[PreparedKey, str | None] | None: ...

    def lookup(self, algorithm: str, header: Header, token: ParsedToken) -> PreparedKey: ...

    def published(self) -> KeySet | None: ...


def _unknown_kid() -> InvalidAlgorithmError:
    # Same message whether the kid is absent, unknown or bound elsewhere: the
    # caller learns nothing about which keys exist.
    return InvalidAlgorithmError("No key matches the token's kid and alg")


def _key_for(keys: Callable[[str], Key | None], algorithm: str, header: Header) -> PreparedKey:
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise DecodeError("The token has no 'kid' header; this service selects keys by kid")
    key = keys(kid)
    if key is None or key.algorithm != algorithm:
        raise _unknown_kid()
    return key.verifying


@dataclass(frozen=True, slots=True)
class StaticKeys:
    """``JWT_SECRET_KEY`` or ``JWT_PRIVATE_KEY``/``JWT_PUBLIC_KEY``: keys by algorithm.

    Asymmetric tokens carry the RFC 7638 thumbprint of the key as ``kid``.
    A token's ``kid`` is not required here (tokens from Flask-JWT-Extended have
    none), so these keys verify by algorithm, as before.
    """

    encode_key: PreparedKey | None
    encode_kid: str | None
    decode_keys: Mapping[str, PreparedKey]
    key_set: KeySet | None = None
    #: Keys the configuration needs but does not set yet, by :data:`SIGNING`
    #: or algorithm: what to tell the developer when one is needed.
    missing: Mapping[str, str] = field(default_factory=dict)

    def signing(self) -> tuple[PreparedKey, str | None] | None:
        if self.encode_key is None:
            if SIGNING in self.missing:
                raise ConfigurationError(self.missing[SIGNING])
            return None
        return self.encode_key, self.encode_kid

    def lookup(self, algorithm: str, header: Header, token: ParsedToken) -> PreparedKey:
        key = self.decode_keys.get(algorithm)
        if key is None:
            if algorithm in self.missing:  # the app's own algorithm, key not set yet
                raise ConfigurationError(self.missing[algorithm])
            # an allowed algorithm, but no key of its family configured
            raise InvalidAlgorithmError("The specified alg value is not allowed")
        return key

    def published(self) -> KeySet | None:
        return self.key_set


class KeySetKeys:
    """``JWT_KEYS`` or a ``key_set_loader``: keys selected by ``kid`` only."""

    __slots__ = ("_current", "_source")

    def __init__(self, source: KeySet | CachedKeySource) -> None:
        self._source = source
        if isinstance(source, KeySet):
            self._current: Callable[[], KeySet] = lambda: source
        else:
            self._current = source.current

    def _key(self, kid: str) -> Key | None:
        source = self._source
        return source.get(kid) if isinstance(source, KeySet) else source.key(kid)

    def signing(self) -> tuple[PreparedKey, str | None] | None:
        key = self._current().signing_key
        if key is None or key.signing is None:
            return None
        return key.signing, key.kid

    def lookup(self, algorithm: str, header: Header, token: ParsedToken) -> PreparedKey:
        return _key_for(self._key, algorithm, header)

    def published(self) -> KeySet | None:
        return self._current()


class RemoteKeys:
    """``JWT_JWKS_URL``: verify through one remote JWKS, by ``kid``; sign locally if able."""

    __slots__ = ("_local", "_source")

    def __init__(self, source: CachedKeySource, signing_from: KeyResolver | None) -> None:
        self._source = source
        self._local = signing_from

    def signing(self) -> tuple[PreparedKey, str | None] | None:
        return None if self._local is None else self._local.signing()

    def lookup(self, algorithm: str, header: Header, token: ParsedToken) -> PreparedKey:
        return _key_for(self._source.key, algorithm, header)

    def published(self) -> KeySet | None:
        return None if self._local is None else self._local.published()


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An identity provider this service accepts tokens from."""

    issuer: str
    keys: CachedKeySource
    audience: tuple[str, ...] | None
    algorithms: frozenset[str]
    #: The ``typ`` values its tokens must carry (media types, lower case, without
    #: ``application/``); ``None``: not checked. RFC 9068 access tokens: ``at+jwt``.
    token_types: frozenset[str] | None = None
    #: Claims its tokens must carry (RFC 9068 section 2.2), besides the checks' own.
    required_claims: tuple[str, ...] = ()


def media_type(value: Any) -> str | None:
    """A ``typ`` header as compared (RFC 7515 section 4.1.9): lower case, no ``application/``."""
    if not isinstance(value, str):
        return None
    lowered = value.lower()
    return lowered.removeprefix("application/") if "/" in lowered else lowered


def _requiring(
    names: tuple[str, ...], conventions: Callable[[Claims], None] | None
) -> Callable[[Claims], None]:
    """``conventions`` preceded by a check that each of ``names`` is present."""

    def check(claims: Claims) -> None:
        for name in names:
            if name not in claims:
                raise MissingRequiredClaimError(name)
        if conventions is not None:
            conventions(claims)

    return check


class TrustedIssuers:
    """Verification through remote JWKS, the issuer chosen by the token's ``iss``.

    The (unverified) ``iss`` only *selects* the issuer's configuration: its
    algorithms, audience and key set. The signature must then verify with a
    key of that set, so a forged ``iss`` gains nothing.
    """

    __slots__ = ("_issuers", "_local")

    def __init__(self, issuers: Mapping[str, TrustedIssuer], local: KeyResolver | None) -> None:
        self._issuers = dict(issuers)
        self._local = local

    def signing(self) -> tuple[PreparedKey, str | None] | None:
        return None if self._local is None else self._local.signing()

    def select(self, algorithm: str, token: ParsedToken) -> TrustedIssuer:
        """The issuer the token names, once its algorithm is one that issuer signs with.

        Also run before a user's ``decode_key_loader``, which replaces only
        the key: the issuer allow-list still applies (and the issuer's
        audience, checked with the other claims: :meth:`requirements`).
        """
        claims = token.claims()
        name = claims.get("iss")
        # A list or an object is no issuer (and unhashable: never a dict key).
        issuer = self._issuers.get(name) if isinstance(name, str) else None
        if issuer is None:
            raise InvalidIssuerError("Untrusted issuer")
        if algorithm not in issuer.algorithms:
            raise InvalidAlgorithmError("The specified alg value is not allowed")
        types = issuer.token_types
        if types is not None and media_type(token.header.get("typ")) not in types:
            # RFC 9068 section 4: an ID token or any other JWT the issuer signs
            # must not pass for an access token.
            raise JWTDecodeError(f"The token's 'typ' header must be {' or '.join(sorted(types))}")
        return issuer

    def requirements(self, base: VerifyPolicy) -> dict[str, VerifyPolicy]:
        """What each issuer's tokens must satisfy: ``base`` with its audience and name.

        The claim checks apply these (:attr:`VerifyPolicy.issuers`) once the
        signature is verified; this resolver only picks the keys.
        """
        return {
            name: replace(
                base,
                audience=issuer.audience,
                issuer=name,
                issuers=None,
                conventions=_requiring(issuer.required_claims, base.conventions)
                if issuer.required_claims
                else base.conventions,
            )
            for name, issuer in self._issuers.items()
        }

    def lookup(self, algorithm: str, header: Header, token: ParsedToken) -> PreparedKey:
        return _key_for(self.select(algorithm, token).keys.key, algorithm, header)

    def published(self) -> KeySet | None:
        return None if self._local is None else self._local.published()


def not_signing(_: Any = None) -> ConfigurationError:
    return ConfigurationError(
        "This app has no signing key: it verifies tokens only (JWT_JWKS_URL or "
        "JWT_TRUSTED_ISSUERS). Configure JWT_KEYS, JWT_PRIVATE_KEY or JWT_SECRET_KEY "
        "to create tokens."
    )


class KeyLoaders(Protocol):
    """Where the app's key loaders are read at each use (the manager's callbacks).

    Read at each use, not copied: a loader registered after ``init_app`` is used.
    """

    def custom_encode_key(self) -> Callable[[Any], Any] | None: ...

    def custom_decode_key(self) -> Callable[[Header, Claims], Any] | None: ...


class _NoLoaders:
    def custom_encode_key(self) -> None:
        return None

    def custom_decode_key(self) -> None:
        return None


NO_LOADERS: Final[KeyLoaders] = _NoLoaders()


class AppKeys:
    """The one home for an app's keys: its loaders, else the configured resolver.

    A ``decode_key_loader`` replaces only the key: with trusted issuers, the
    token's issuer must still be trusted (:meth:`TrustedIssuers.select`) and
    its audience right (checked with the claims).
    """

    __slots__ = ("_algorithm", "_loaders", "configured")

    def __init__(self, configured: KeyResolver, loaders: KeyLoaders, algorithm: str) -> None:
        #: The resolver built from the configuration alone.
        self.configured = configured
        self._loaders = loaders
        self._algorithm = algorithm

    def signing_for(self, identity: Any) -> tuple[PreparedKey, str | None] | None:
        """The key (and ``kid``) that signs ``identity``'s new token."""
        loader = self._loaders.custom_encode_key()
        if loader is not None:
            return prepare_key(self._algorithm, loader(identity)), None
        return self.configured.signing()

    def lookup(self, algorithm: str, header: Header, token: ParsedToken) -> PreparedKey:
        loader = self._loaders.custom_decode_key()
        if loader is None:
            return self.configured.lookup(algorithm, header, token)
        configured = self.configured
        if isinstance(configured, TrustedIssuers):
            configured.select(algorithm, token)
        return prepare_key(algorithm, loader(header, token.claims()))

    def published(self) -> KeySet | None:
        return self.configured.published()
