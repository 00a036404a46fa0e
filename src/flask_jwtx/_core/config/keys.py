"""The app's key resolver, built from its settings: static keys, key sets, JWKS, issuers.

Parsing a key is validating it, so it happens in ``init_app``; objects that
reach the network (JWKS fetchers) come from :mod:`.resources`, built once.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from ...exceptions import ConfigurationError, InvalidKeyError, WeakSecretWarning
from ..jose.keys import (
    HAS_CRYPTOGRAPHY,
    MIN_HMAC_KEY_BYTES,
    SUPPORTED_ALGORITHMS,
    PreparedKey,
    describe_key,
    hmac_key_too_short,
    is_private_key,
    is_symmetric,
    key_family,
    prepare_key,
)
from ..jose.keyset import Key, KeySet, coerce_key_set, public_jwk, thumbprint
from ..keysources.jwks import CachedKeySource
from ..keysources.resolvers import (
    SIGNING,
    KeyResolver,
    KeySetKeys,
    RemoteKeys,
    StaticKeys,
    TrustedIssuer,
    TrustedIssuers,
)
from ..oauth.resource_policy import issuer_profile
from . import readers
from .readers import fail, no_cryptography, string_list
from .resources import DiscoverySpec, LoaderKeysSpec, RemoteKeysSpec, Resources
from .schema import configured, read

logger = logging.getLogger("flask_jwtx")


def _keys(
    config: Mapping[str, Any],
    algorithm: str,
    decode_algorithms: tuple[str, ...],
    *,
    need_signing: bool,
    need_verifying: bool,
) -> StaticKeys:
    """``JWT_SECRET_KEY`` / ``JWT_PRIVATE_KEY`` / ``JWT_PUBLIC_KEY``, parsed once.

    Flask's ``SECRET_KEY`` stands in for ``JWT_SECRET_KEY`` only when the
    app's own ``JWT_ALGORITHM`` is HMAC, as with Flask-JWT-Extended. In an
    asymmetric app that also lists an HMAC algorithm in
    ``JWT_DECODE_ALGORITHMS``, the session secret never becomes a
    verification key: anyone who learned it (it signs every session cookie)
    could otherwise mint tokens. Only an explicit ``JWT_SECRET_KEY`` serves.
    """
    secret = configured(config, "JWT_SECRET_KEY") or None
    if secret is None and is_symmetric(algorithm):
        secret = config.get("SECRET_KEY") or None
    public = configured(config, "JWT_PUBLIC_KEY") or None
    material = _Material(secret, configured(config, "JWT_PRIVATE_KEY") or None, public)
    # A key that is merely absent is not an error yet: apps create the
    # extension before their config is complete (filled later, from the
    # environment, per test), and a verify-only service has no private key.
    # What needs the key raises this message then; a key that IS set but
    # unusable fails here, at start-up.
    missing: dict[str, str] = {}

    def prepare(alg: str, for_signing: bool, required: bool) -> PreparedKey | None:
        return material.prepare(alg, for_signing, missing if required else None)

    encode_key = prepare(algorithm, True, required=need_signing)
    decode_keys: dict[str, PreparedKey] = {}
    for alg in decode_algorithms:
        # The signing algorithm must always be verifiable; extra decode
        # algorithms are usable only when a key of their family is configured.
        own = alg == algorithm
        if own and public is None and encode_key is not None and not is_symmetric(alg):
            # Only the private key is set: its public half verifies our tokens.
            decode_keys[alg] = PreparedKey(alg, encode_key.impl, encode_key.key.public_key())
            continue
        prepared = prepare(alg, False, required=own and need_verifying)
        if prepared is not None:
            decode_keys[alg] = prepared
    if missing:
        logger.warning("No key is set yet for %s: %s", algorithm, _not_set_yet(algorithm, missing))
    if is_symmetric(algorithm) and secret is not None:
        _warn_if_short(algorithm, secret)
    published = _published(algorithm, encode_key, decode_keys.get(algorithm))
    encode_kid = published.signing_kid if published is not None else None
    return StaticKeys(encode_key, encode_kid, decode_keys, published, missing)


class _Material(NamedTuple):
    """The configured key texts: which one serves an algorithm, parsed on demand."""

    secret: Any
    private: Any
    public: Any

    def prepare(
        self, alg: str, for_signing: bool, missing: dict[str, str] | None
    ) -> PreparedKey | None:
        """The key for ``alg``; when absent, ``None`` (noted in ``missing`` if given)."""
        if is_symmetric(alg):
            key_name, raw = "JWT_SECRET_KEY", self.secret
        elif for_signing:
            key_name, raw = "JWT_PRIVATE_KEY", self.private
        else:
            key_name, raw = "JWT_PUBLIC_KEY", self.public
        if raw is None:
            if missing is not None:
                missing[SIGNING if for_signing else alg] = _missing_key(key_name, alg, for_signing)
            return None
        try:
            prepared = prepare_key(alg, raw)
        except InvalidKeyError as exc:
            if is_symmetric(alg):
                raise fail(
                    key_name, f"cannot be used with {alg} ({exc})", "Check the key."
                ) from None
            raise _wrong_key(key_name, alg, raw, for_signing) from None
        if not is_symmetric(alg) and is_private_key(prepared.key) != for_signing:
            # A public key cannot sign (and has no public half to derive);
            # a private one where only the public half belongs would verify,
            # but hands the signing key to every service that only verifies.
            raise _wrong_key(key_name, alg, raw, for_signing)
        return prepared


def _wrong_key(key_name: str, alg: str, raw: Any, for_signing: bool) -> ConfigurationError:
    """A set asymmetric key that does not fit: say what it holds and what ``alg`` needs."""
    role = "private" if for_signing else "public"
    problem = (
        f"cannot be used with {alg}: it holds {describe_key(raw)}, and {alg} "
        f"{'signs' if for_signing else 'verifies'} with {key_family(alg)} {role} key"
    )
    if not for_signing and describe_key(raw).endswith("private key"):
        fix = (
            f"Set {key_name} to its public half only (openssl pkey -pubout): a service "
            "that verifies should not hold the signing key."
        )
    else:
        fix = (
            f"Set {key_name} to the PEM text of {key_family(alg)} {role} key "
            f"(-----BEGIN {role.upper()} KEY-----...), or JWT_ALGORITHM to the key's algorithm."
        )
    return fail(key_name, problem, fix)


def _warn_if_short(algorithm: str, secret: Any) -> None:
    if hmac_key_too_short(algorithm, secret):
        length = len(secret.encode() if isinstance(secret, str) else secret)
        minimum = MIN_HMAC_KEY_BYTES[algorithm]
        # Opens with PyJWT's wording, so the filters apps already have for the
        # Flask-JWT-Extended's warning (``ignore:The HMAC key is``) match this one too.
        warnings.warn(
            f"The HMAC key is {length} bytes long, which is below the minimum recommended "
            f"length of {minimum} bytes for SHA{algorithm[2:]}. JWT_SECRET_KEY is too short "
            f"for {algorithm} to resist brute force; use a longer random secret "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))').",
            WeakSecretWarning,
            stacklevel=5,
        )


#: The ways to provide keys other than the ``JWT_*_KEY`` settings, ending every fix.
_OTHER_WAYS: Final = "or use JWT_KEYS, or register a key loader before init_app."


def _missing_key(key_name: str, algorithm: str, for_signing: bool) -> str:
    """What to tell the developer when a key that is not set is needed."""
    if is_symmetric(algorithm):
        fix = "Set JWT_SECRET_KEY (or Flask's SECRET_KEY) to a random string of "
        fix += f"at least {MIN_HMAC_KEY_BYTES[algorithm]} bytes"
    else:
        fix = f"Set {key_name} to a PEM-encoded key"
    return (
        f"{key_name} must be set to {'sign' if for_signing else 'verify'} tokens "
        f"with the {algorithm} algorithm. {fix}, {_OTHER_WAYS}"
    )


def _not_set_yet(algorithm: str, missing: Mapping[str, str]) -> str:
    """The start-up line for keys not set yet (after its opening): what waits, the fix once.

    ``missing`` holds the error each use will raise (signing, verifying);
    joined, they would give the same advice twice, so this line says it once.
    """
    signing, verifying = SIGNING in missing, algorithm in missing
    uses = " or ".join(
        use for use, absent in (("created", signing), ("verified", verifying)) if absent
    )
    if is_symmetric(algorithm):
        fix = "Set JWT_SECRET_KEY (or Flask's SECRET_KEY) to a random string of "
        fix += f"at least {MIN_HMAC_KEY_BYTES[algorithm]} bytes"
    elif signing and verifying:
        fix = "Set JWT_PRIVATE_KEY to a PEM-encoded key (it verifies too; a service that only "
        fix += "verifies sets JWT_PUBLIC_KEY)"
    else:
        fix = f"Set {'JWT_PRIVATE_KEY' if signing else 'JWT_PUBLIC_KEY'} to a PEM-encoded key"
    return (
        f"tokens cannot be {uses} until one is, and the first attempt raises "
        f"ConfigurationError. {fix}, {_OTHER_WAYS}"
    )


def _published(
    algorithm: str, signing: PreparedKey | None, verifying: PreparedKey | None
) -> KeySet | None:
    """The key set an asymmetric app publishes at JWT_JWKS_PATH.

    Its key gets its RFC 7638 thumbprint as ``kid``; an HMAC app publishes
    nothing (a secret is never published).
    """
    if is_symmetric(algorithm):
        return None
    if signing is not None:
        verifying = verifying or PreparedKey(algorithm, signing.impl, signing.key.public_key())
        jwk = public_jwk(algorithm, verifying.key)
        return KeySet(
            [Key(thumbprint(jwk), algorithm, verifying, signing, {**jwk, "alg": algorithm})]
        )
    if verifying is not None:
        jwk = public_jwk(algorithm, verifying.key)
        return KeySet([Key(thumbprint(jwk), algorithm, verifying, None, jwk)])
    return None


def _remote_source(
    config: Mapping[str, Any], url: Any, algorithms: frozenset[str], resources: Resources
) -> CachedKeySource:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise fail("JWT_JWKS_URL", f"is {url!r}", "Use an http(s) URL of a JWKS document.")
    ttl = read(config, "JWT_JWKS_CACHE_TTL")
    interval = read(config, "JWT_JWKS_MIN_REFRESH_INTERVAL")
    timeout = read(config, "JWT_JWKS_TIMEOUT")
    max_bytes = read(config, "JWT_JWKS_MAX_BYTES")
    # A JWK without 'alg' is bound to the one algorithm allowed, if there is one.
    bind = next(iter(algorithms)) if len(algorithms) == 1 else None
    max_stale = read(config, "JWT_JWKS_MAX_STALE")
    spec = RemoteKeysSpec(url, ttl, interval, timeout, max_bytes, bind, max_stale)
    try:
        return resources.remote_keys(spec)
    except ValueError as exc:  # no host, a port out of range...
        raise fail("JWT_JWKS_URL", f"is {url!r} ({exc})", "Check the URL.") from None


@dataclass(frozen=True, slots=True)
class _KeySetLoader:
    """The app's ``key_set_loader``, as a key source's ``load`` (equal for the same loader).

    A set that cannot be used is reported like an unreachable source: the
    cached set keeps serving (logged), and with none cached the request is
    a 503. A rotation script that writes a broken set must not turn every
    request into a 500.
    """

    loader: Callable[[], Any]

    def __call__(self) -> KeySet:
        try:
            return coerce_key_set(self.loader(), "key_set_loader")
        except ConfigurationError as exc:
            raise InvalidKeyError(str(exc)) from None


def _remote_algorithms(key: str, names: Iterable[str]) -> frozenset[str]:
    asymmetric = frozenset(n for n in names if not is_symmetric(n))
    if not asymmetric:
        raise fail(
            key,
            "allows only HMAC algorithms, which a JWKS cannot verify",
            "Set JWT_DECODE_ALGORITHMS (or the issuer's 'algorithms') to e.g. ['RS256'].",
        )
    return asymmetric


def _trusted_issuers(
    config: Mapping[str, Any], entries: Any, resources: Resources
) -> dict[str, TrustedIssuer]:
    key = "JWT_TRUSTED_ISSUERS"
    if not isinstance(entries, list | tuple) or not entries:
        raise fail(key, f"is {entries!r}", "Use a list of issuer URLs or of dicts with 'issuer'.")
    resource = read(config, "JWT_RESOURCE")
    issuers: dict[str, TrustedIssuer] = {}
    for item in entries:
        # An issuer URL alone: its keys are found through its metadata (discovery).
        entry = {"issuer": item} if isinstance(item, str) else item
        if not isinstance(entry, Mapping) or "issuer" not in entry:
            raise fail(
                key,
                f"has the entry {item!r}",
                "Each is an issuer URL, or a dict with 'issuer' (and 'jwks_url', else the "
                "issuer's metadata names it).",
            )
        name = entry["issuer"]
        if not isinstance(name, str) or not name or name in issuers:
            raise fail(key, f"names the issuer {name!r} twice or badly", "Use unique strings.")
        algorithms = _remote_algorithms(key, string_list(entry.get("algorithms", ["RS256"]), key))
        for algorithm in algorithms:
            readers.algorithm(algorithm, key)
        token_types, required = issuer_profile(entry, name, resource)
        issuers[name] = TrustedIssuer(
            issuer=name,
            keys=_remote_source(config, entry["jwks_url"], algorithms, resources)
            if "jwks_url" in entry
            else _discovered_source(config, name, algorithms, resources),
            audience=_issuer_audience(config, entry, name, resource),
            algorithms=algorithms,
            token_types=token_types,
            required_claims=required,
        )
    return issuers


def _discovered_source(
    config: Mapping[str, Any], issuer: str, algorithms: frozenset[str], resources: Resources
) -> CachedKeySource:
    """The key source of an issuer named by URL alone (:mod:`.discovery`), cached like a JWKS."""
    spec = DiscoverySpec(
        issuer,
        ttl=read(config, "JWT_JWKS_CACHE_TTL"),
        min_refresh_interval=read(config, "JWT_JWKS_MIN_REFRESH_INTERVAL"),
        timeout=read(config, "JWT_JWKS_TIMEOUT"),
        max_bytes=read(config, "JWT_JWKS_MAX_BYTES"),
        algorithm=next(iter(algorithms)) if len(algorithms) == 1 else None,
        max_stale=read(config, "JWT_JWKS_MAX_STALE"),
    )
    try:
        return resources.discovered_keys(spec)
    except ValueError as exc:
        raise fail(
            "JWT_TRUSTED_ISSUERS", f"names {issuer!r} ({exc})", "Use the issuer's https URL."
        ) from None


def _issuer_audience(
    config: Mapping[str, Any], entry: Mapping[str, Any], name: str, resource: str | None = None
) -> tuple[str, ...] | None:
    """The audiences a trusted issuer's tokens must name: its own, else ``JWT_RESOURCE``
    (RFC 9068 section 4: the resource server's identifier), else JWT_DECODE_AUDIENCE.

    Services that share an identity provider receive tokens from the same
    issuer; without an audience check each would accept the tokens minted for
    the others. So an issuer without any audience is refused at start-up,
    unless its entry says ``"verify_audience": False`` in so many words (for
    an issuer that mints tokens for this service alone).
    """
    key = "JWT_TRUSTED_ISSUERS"
    own = entry.get("audience")
    if own is not None and own != "":
        names = string_list(own, key)
        if not names or not all(names):
            raise fail(key, f"gives {name!r} the audience {own!r}", "Use non-empty strings.")
        return names
    if resource is not None:
        return (resource,)
    inherited = read(config, "JWT_DECODE_AUDIENCE")
    if inherited is not None:
        return (inherited,) if isinstance(inherited, str) else inherited
    if entry.get("verify_audience", True) is False:
        return None
    raise fail(
        key,
        f"trusts {name!r} without an audience, so tokens it minted for other services "
        "would be accepted here",
        "Set JWT_DECODE_AUDIENCE (every issuer inherits it) or the entry's 'audience'; "
        "only for an issuer that serves this service alone, set 'verify_audience': False.",
    )


def _resolver(
    config: Mapping[str, Any],
    algorithm: str,
    decode_algorithms: tuple[str, ...],
    *,
    encode_loader: bool,
    decode_loader: bool,
    key_set_loader: Callable[[], Any] | None,
    resources: Resources,
) -> tuple[KeyResolver, frozenset[str]]:
    """The key resolver for this configuration, and the algorithms tokens may use."""
    explicit = configured(config, "JWT_DECODE_ALGORITHMS")
    remote_url = configured(config, "JWT_JWKS_URL")
    trusted = configured(config, "JWT_TRUSTED_ISSUERS")
    verifies_remotely = bool(remote_url) or trusted is not None
    if not HAS_CRYPTOGRAPHY:
        # A JWKS holds public keys: verifying with them takes cryptography.
        if trusted is not None:
            raise no_cryptography("JWT_TRUSTED_ISSUERS", "is set (issuers' keys are key pairs)")
        if remote_url:
            raise no_cryptography("JWT_JWKS_URL", "is set (a JWKS publishes key pairs)")

    local: KeyResolver
    allowed = frozenset(decode_algorithms)
    if key_set_loader is not None:
        source = resources.loader_keys(
            LoaderKeysSpec(
                _KeySetLoader(key_set_loader),
                ttl=read(config, "JWT_KEY_SET_REFRESH"),
                min_refresh_interval=read(config, "JWT_JWKS_MIN_REFRESH_INTERVAL"),
            )
        )
        local = KeySetKeys(source)
        allowed = frozenset(decode_algorithms) if explicit else SUPPORTED_ALGORITHMS
    elif configured(config, "JWT_KEYS") is not None:
        key_set = coerce_key_set(configured(config, "JWT_KEYS"))
        signing_kid = configured(config, "JWT_SIGNING_KID")
        if signing_kid is not None:
            if not isinstance(signing_kid, str):
                raise fail("JWT_SIGNING_KID", f"is {signing_kid!r}", "Use the kid string.")
            try:
                key_set = KeySet(list(key_set), signing_kid)
            except InvalidKeyError as exc:
                raise fail(
                    "JWT_SIGNING_KID", f"is {signing_kid!r}: {exc}", "Name a private key."
                ) from None
        local = KeySetKeys(key_set)
        allowed = (
            frozenset(decode_algorithms) if explicit else frozenset(k.algorithm for k in key_set)
        )
    else:
        local = _keys(
            config,
            algorithm,
            decode_algorithms,
            need_signing=not encode_loader and not verifies_remotely,
            need_verifying=not decode_loader and not verifies_remotely,
        )
    if trusted is not None:  # an empty list is a mistake, reported as one
        issuers = _trusted_issuers(config, trusted, resources)
        allowed = frozenset().union(*(i.algorithms for i in issuers.values()))
        return TrustedIssuers(issuers, local), allowed
    if remote_url:
        if read(config, "JWT_DECODE_AUDIENCE") is None:
            logger.warning(
                "JWT_JWKS_URL is set without JWT_DECODE_AUDIENCE: tokens its issuer minted "
                "for any other service will be accepted here. Set JWT_DECODE_AUDIENCE."
            )
        algorithms = _remote_algorithms("JWT_DECODE_ALGORITHMS", decode_algorithms)
        source = _remote_source(config, remote_url, algorithms, resources)
        return RemoteKeys(source, signing_from=local), algorithms
    return local, allowed
