"""Key sets: several keys, each with a ``kid`` and bound to one algorithm.

A :class:`Key` is parsed once into prepared signing and verifying keys (see
``flask_jwtx._core.jose.keys``). A :class:`KeySet` holds keys by ``kid`` and names the
one new tokens are signed with; verification picks a key by the token's
``kid`` and nothing else, so a retired key keeps verifying until it is
removed, and an unknown ``kid`` is refused without trying other keys.

JWK parsing is PyJWT's (:class:`jwt.PyJWK`); the RFC 7638 thumbprint, a
SHA-256 over a few canonical members, is computed here.

Every key, configured or fetched, must also be fit for its algorithm: RSA
of at least 2048 bits, and an EC key on the curve its ``alg`` names. PyJWT
accepts both a 1024-bit RSA key and a P-384 key labelled ES256; a key that
passes here is one we would choose ourselves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from jwt import PyJWK
from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError as PyJWTInvalidKeyError
from jwt.exceptions import PyJWKError

from ...exceptions import ConfigurationError, InvalidKeyError
from .jws import b64url_encode
from .keys import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHMS,
    SUPPORTED_ALGORITHMS,
    PreparedKey,
    cryptography_missing,
    prepare_key,
)

#: RFC 7638 section 3.2: the members a thumbprint covers, per key type.
_THUMBPRINT_MEMBERS: Final = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}
#: JWK members that hold private key material; never published.
PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_KID_LENGTH: Final = 256
#: RSA moduli below this are within reach of factoring (NIST SP 800-131A).
MIN_RSA_BITS: Final = 2048
#: OpenSSL refuses to verify with larger moduli, so such a key is useless.
MAX_RSA_BITS: Final = 16384
#: RFC 7518 section 3.4 and RFC 8812 section 3.2: each ECDSA algorithm has one curve.
EC_CURVES: Final = {
    "ES256": "secp256r1",
    "ES256K": "secp256k1",
    "ES384": "secp384r1",
    "ES512": "secp521r1",
    "ES521": "secp521r1",
}

_IMPLEMENTATIONS = get_default_algorithms()
logger = logging.getLogger("flask_jwtx.keyset")


def generate_private_key(algorithm: str, *, bits: int = 2048, curve: str = "Ed25519") -> Any:
    """A new ``cryptography`` private key for a key-pair ``algorithm``.

    The one place keys are made: ``flask jwt keygen`` and the testing
    helpers' wrongly signed tokens. ``bits`` is the RSA size; ``curve``
    chooses Ed25519 or Ed448 for EdDSA (an ECDSA algorithm has one curve,
    :data:`EC_CURVES`). Needs ``cryptography``, which the caller checks.
    """
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if algorithm.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if algorithm == "EdDSA":
        if curve == "Ed448":
            return ed448.Ed448PrivateKey.generate()
        return ed25519.Ed25519PrivateKey.generate()
    curves: dict[str, Callable[[], ec.EllipticCurve]] = {
        "secp256r1": ec.SECP256R1,
        "secp256k1": ec.SECP256K1,
        "secp384r1": ec.SECP384R1,
        "secp521r1": ec.SECP521R1,
    }
    return ec.generate_private_key(curves[EC_CURVES[algorithm]]())


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a JWK, base64url-encoded."""
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise InvalidKeyError(f"Cannot compute a thumbprint for key type {kty!r}")
    canonical = json.dumps(
        {name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True
    )
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def public_jwk(algorithm: str, public_key: Any) -> dict[str, Any]:
    """The public JWK of a parsed asymmetric key (no private members)."""
    jwk = key_jwk(algorithm, public_key)
    return {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS}


def key_jwk(algorithm: str, key: Any) -> dict[str, Any]:
    """The JWK of a parsed key (private members included for a private key).

    An EC key's ``x``, ``y`` and ``d`` have the full length of its curve
    (RFC 7518 section 6.2.1.2). PyJWT before 2.9 writes them as integers
    without their leading zero bytes: the RFC 7638 thumbprint (the ``kid``)
    of such a key would change with the PyJWT version, and PyJWT's own JWK
    parser refuses the short coordinates (about half of all P-521 keys).
    """
    jwk: dict[str, Any] = _IMPLEMENTATIONS[algorithm].to_jwk(key, as_dict=True)
    if jwk.get("kty") == "EC":
        size = (key.curve.key_size + 7) // 8
        for name in ("x", "y", "d"):
            if name in jwk:
                text = jwk[name]
                raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
                jwk[name] = b64url_encode(raw.rjust(size, b"\0"))
    return jwk


@dataclass(frozen=True, slots=True)
class Key:
    """One key: its ``kid``, its algorithm, and what it can do."""

    kid: str
    algorithm: str
    verifying: PreparedKey
    signing: PreparedKey | None = field(default=None, repr=False)
    #: The public JWK to publish; ``None`` for shared secrets, which never leave.
    jwk: Mapping[str, Any] | None = None

    @property
    def can_sign(self) -> bool:
        return self.signing is not None

    @classmethod
    def from_pem(
        cls,
        *,
        algorithm: str,
        private_key: str | bytes | None = None,
        public_key: str | bytes | None = None,
        kid: str | None = None,
    ) -> Key:
        """A key from PEM text. The public part is derived from a private key if not given.

        ``kid`` defaults to the RFC 7638 thumbprint of the public key.
        """
        _check_algorithm(algorithm)
        if algorithm in HMAC_ALGORITHMS:
            raise InvalidKeyError(f"{algorithm} takes a shared secret: use Key.from_secret")
        signing = prepare_key(algorithm, private_key) if private_key is not None else None
        if public_key is not None:
            verifying = prepare_key(algorithm, public_key)
        elif signing is not None:
            verifying = PreparedKey(algorithm, signing.impl, signing.key.public_key())
        else:
            raise InvalidKeyError("Key.from_pem needs a private_key, a public_key or both")
        check_key_strength(algorithm, verifying.key)
        jwk = public_jwk(algorithm, verifying.key)
        return cls(_kid(kid, jwk), algorithm, verifying, signing, {**jwk, "alg": algorithm})

    @classmethod
    def from_secret(cls, secret: str | bytes, *, kid: str, algorithm: str = "HS256") -> Key:
        """A shared-secret (HMAC) key. It signs and verifies, and is never published."""
        _check_algorithm(algorithm)
        if algorithm not in HMAC_ALGORITHMS:
            raise InvalidKeyError(f"{algorithm} is not an HMAC algorithm")
        prepared = prepare_key(algorithm, secret)
        return cls(_kid(kid, None), algorithm, prepared, prepared, None)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str, *, algorithm: str | None = None) -> Key:
        """A key from a JWK (dict or JSON). A private JWK (with ``d`` or ``k``) can sign.

        The algorithm is the JWK's ``alg``, or ``algorithm`` when the JWK has
        none; a JWK naming a different ``alg`` than ``algorithm`` is refused.
        """
        data = _json_object(jwk, "JWK")
        named = data.get("alg")
        if named is not None and algorithm is not None and named != algorithm:
            raise InvalidKeyError(
                f"JWK alg {_shown(named)} differs from the expected {algorithm!r}"
            )
        alg = named if named is not None else algorithm
        if alg is None:
            raise InvalidKeyError(
                "The JWK has no 'alg': pass algorithm= so the key is bound to one algorithm"
            )
        _check_algorithm(alg)
        try:
            parsed = PyJWK(dict(data), algorithm=alg)
        except (
            PyJWKError,
            PyJWTInvalidKeyError,
            ValueError,
            KeyError,
            TypeError,
            ArithmeticError,
        ) as exc:
            raise InvalidKeyError(f"Invalid JWK for {alg}: {exc}") from None
        kid = data.get("kid")
        if alg in HMAC_ALGORITHMS:
            prepared = PreparedKey(alg, _IMPLEMENTATIONS[alg], parsed.key)
            return cls(_kid(kid, None), alg, prepared, prepared, None)
        is_private = "d" in data
        key_object = parsed.key
        public_object = key_object.public_key() if is_private else key_object
        check_key_strength(alg, public_object)
        verifying = PreparedKey(alg, _IMPLEMENTATIONS[alg], public_object)
        signing = PreparedKey(alg, _IMPLEMENTATIONS[alg], key_object) if is_private else None
        public = public_jwk(alg, public_object)
        return cls(_kid(kid, public), alg, verifying, signing, {**public, "alg": alg})

    @classmethod
    def from_text(
        cls, text: str | bytes, *, algorithm: str | None = None, kid: str | None = None
    ) -> Key:
        """A key from PEM (private or public, ``algorithm`` required) or JWK JSON text."""
        raw = text.decode() if isinstance(text, bytes) else text
        stripped = raw.strip()
        if stripped.startswith("-----BEGIN"):
            if algorithm is None:
                raise InvalidKeyError("A PEM key needs algorithm= (for example 'RS256')")
            if "PRIVATE KEY-----" in stripped:
                return cls.from_pem(algorithm=algorithm, private_key=stripped, kid=kid)
            return cls.from_pem(algorithm=algorithm, public_key=stripped, kid=kid)
        jwk = dict(_json_object(stripped, "JWK"))
        if kid is not None:
            jwk["kid"] = kid
        return cls.from_jwk(jwk, algorithm=algorithm)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> Key:
        """A key from a PEM or JWK file (see :meth:`from_text`)."""
        return cls.from_text(Path(path).read_text(), **kwargs)

    @classmethod
    def from_env(cls, name: str, **kwargs: Any) -> Key:
        """A key from PEM or JWK text in the environment variable ``name``."""
        return cls.from_text(_env_text(name, "a PEM or JWK key"), **kwargs)


def _env_text(name: str, what: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigurationError(f"Environment variable {name} ({what}) is not set")
    return value


def _check_algorithm(algorithm: Any) -> None:
    # A JWK's 'alg' is whatever JSON value its author wrote, hashable or not.
    if not isinstance(algorithm, str) or algorithm not in SUPPORTED_ALGORITHMS:
        if isinstance(algorithm, str) and algorithm in ASYMMETRIC_ALGORITHMS:
            raise InvalidKeyError(cryptography_missing(f"Algorithm {algorithm!r}"))
        raise InvalidKeyError(f"Algorithm {_shown(algorithm)} is not supported")


def check_key_strength(algorithm: str, public_key: Any) -> None:
    """Refuse a key too weak for, or not made for, ``algorithm``.

    PyJWT checks that a key is of the algorithm's family, not that it is
    fit: its algorithms verify RS256 with a 512-bit modulus, and ES256 with
    a P-384 key (hashing with SHA-256 what that curve expects as SHA-384).
    Its key-length check only warns, and only inside ``jwt.encode``/
    ``jwt.decode``, which verification here does not go through. A token
    signed with a factorable key is forgeable by anyone who factors it, so
    such keys are refused wherever they come from.
    """
    # Only a key-pair algorithm gets here, so cryptography is installed:
    # imported on use, as an HMAC-only installation does not have it.
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        bits = public_key.key_size
        if bits < MIN_RSA_BITS:
            raise InvalidKeyError(
                f"RSA key of {bits} bits is too weak for {algorithm}: "
                f"use at least {MIN_RSA_BITS} bits"
            )
        if bits > MAX_RSA_BITS:
            raise InvalidKeyError(f"RSA key of {bits} bits is larger than {MAX_RSA_BITS}")
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        expected = EC_CURVES.get(algorithm)
        if public_key.curve.name != expected:
            raise InvalidKeyError(
                f"{algorithm} needs a key on {expected}, not {public_key.curve.name}"
            )


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut short: untrusted values end up in errors and logs."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _kid(kid: Any, jwk: Mapping[str, Any] | None) -> str:
    if kid is None:
        if jwk is None:
            raise InvalidKeyError("A shared-secret key needs an explicit kid")
        return thumbprint(jwk)
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
        raise InvalidKeyError(f"kid must be a non-empty string of at most {MAX_KID_LENGTH} chars")
    return kid


def _published_key(entry: Mapping[str, Any], algorithm: str | None, source: str) -> Key:
    kid = entry.get("kid")
    alg = entry.get("alg", algorithm)
    if entry.get("kty") == "oct" or (isinstance(alg, str) and alg in HMAC_ALGORITHMS):
        raise InvalidKeyError("a shared secret in a public JWKS is no secret")
    public = {name: value for name, value in entry.items() if name not in PRIVATE_MEMBERS}
    if len(public) != len(entry):
        logger.warning(
            "%s publishes private key material for kid %s; ignoring it", source, _shown(kid)
        )
    return Key.from_jwk(public, algorithm=algorithm)


def _name(entry: Mapping[str, Any], index: int) -> str:
    kid = entry.get("kid")
    return f"#{index}" if kid is None else f"#{index} (kid {_shown(kid)})"


def _json_object(value: Mapping[str, Any] | str | bytes, what: str) -> Mapping[str, Any]:
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError) as exc:
            raise InvalidKeyError(f"Invalid {what} JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise InvalidKeyError(f"A {what} must be a JSON object")
    return value


class KeySet:
    """Keys by ``kid``, and the ``kid`` new tokens are signed with."""

    __slots__ = ("_keys", "signing_kid")

    def __init__(self, keys: Iterable[Key], signing_kid: str | None = None) -> None:
        self._keys: dict[str, Key] = {}
        for key in keys:
            if key.kid in self._keys:
                raise InvalidKeyError(f"Two keys share the kid {key.kid!r}")
            self._keys[key.kid] = key
        if signing_kid is None:
            signing_kid = next((k.kid for k in self._keys.values() if k.can_sign), None)
        elif signing_kid not in self._keys or not self._keys[signing_kid].can_sign:
            raise InvalidKeyError(f"No key with kid {signing_kid!r} can sign")
        self.signing_kid = signing_kid

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys.values())

    def get(self, kid: str) -> Key | None:
        return self._keys.get(kid)

    @property
    def signing_key(self) -> Key | None:
        return None if self.signing_kid is None else self._keys[self.signing_kid]

    def public_jwks(self) -> dict[str, Any]:
        """The JWKS to publish: public parts of asymmetric keys, with kid, alg and use."""
        return {
            "keys": [
                {**key.jwk, "kid": key.kid, "alg": key.algorithm, "use": "sig"}
                for key in self._keys.values()
                if key.jwk is not None
            ]
        }

    @classmethod
    def from_jwks(
        cls,
        jwks: Mapping[str, Any] | str | bytes,
        *,
        algorithm: str | None = None,
        signing_kid: str | None = None,
        skip_unusable: bool = False,
    ) -> KeySet:
        """A key set from a JWKS document (dict or JSON).

        ``algorithm`` binds keys whose JWK has no ``alg``. Keys marked
        ``"use": "enc"`` are not signature keys and are left out.

        Without ``skip_unusable`` (keys this application is configured with)
        any bad key or a ``kid`` listed twice fails the whole set: the
        operator can fix it, and should hear about it at start-up.

        ``skip_unusable`` is for a JWKS published by someone else (see
        :meth:`from_published_jwks`): bad entries are skipped, with a warning,
        so that one of them cannot take down every key of the set.
        """
        if skip_unusable:
            return cls.from_published_jwks(jwks, algorithm=algorithm, signing_kid=signing_kid)
        data = _json_object(jwks, "JWKS")
        entries = data.get("keys")
        if not isinstance(entries, list):
            raise InvalidKeyError("A JWKS must have a 'keys' list")
        keys = [
            Key.from_jwk(entry, algorithm=algorithm)
            for entry in entries
            if not (isinstance(entry, Mapping) and entry.get("use", "sig") != "sig")
        ]
        return cls(keys, signing_kid)

    @classmethod
    def from_published_jwks(
        cls,
        jwks: Mapping[str, Any] | str | bytes,
        *,
        algorithm: str | None = None,
        signing_kid: str | None = None,
        source: str = "JWKS",
    ) -> KeySet:
        """The usable public keys of a JWKS fetched from an issuer.

        Only a document that is not a JSON object with a ``keys`` list is an
        error (:class:`~flask_jwtx.exceptions.InvalidKeyError`); every entry
        is judged on its own, and one that cannot be used is skipped with a
        warning naming its ``kid`` (``source`` says where the set came from):

        * anything :meth:`Key.from_jwk` refuses: unparseable, an unsupported
          algorithm or ``none``, a key of another family than its ``alg``, an
          RSA key under 2048 bits, an EC key off its algorithm's curve;
        * a shared secret (``kty: oct`` or an HMAC ``alg``): a JWKS is
          public, so a secret in it is known to everyone;
        * every entry of a ``kid`` listed more than once: nothing tells the
          genuine key from the other, so neither is used.

        Private members, should an issuer publish them, are ignored: a
        fetched key verifies, it never signs.
        """
        data = _json_object(jwks, "JWKS")
        entries = data.get("keys")
        if not isinstance(entries, list):
            raise InvalidKeyError("A JWKS must have a 'keys' list")
        keys: list[Key] = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                logger.warning("Skipping entry #%d of %s: not a JSON object", index, source)
                continue
            if entry.get("use", "sig") != "sig":
                continue  # an encryption key, not meant for us
            try:
                keys.append(_published_key(entry, algorithm, source))
            except InvalidKeyError as exc:
                logger.warning("Skipping key %s of %s: %s", _name(entry, index), source, exc)
            except Exception as exc:
                # PyJWT and cryptography do not document every exception their
                # parsers raise on hostile input; a JWKS is input, and one bad
                # entry must not take the others (or the request) down.
                logger.warning(
                    "Skipping key %s of %s: %s", _name(entry, index), source, type(exc).__name__
                )
        counts = Counter(key.kid for key in keys)
        for kid, count in counts.items():
            if count > 1:
                logger.warning(
                    "Skipping all %d keys with kid %s of %s: the kid is not unique",
                    count,
                    _shown(kid),
                    source,
                )
        return cls((key for key in keys if counts[key.kid] == 1), signing_kid)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> KeySet:
        """A key set from a JWKS JSON file."""
        return cls.from_jwks(Path(path).read_text(), **kwargs)

    @classmethod
    def from_env(cls, name: str, **kwargs: Any) -> KeySet:
        """A key set from a JWKS JSON held in the environment variable ``name``."""
        return cls.from_jwks(_env_text(name, "a JWKS"), **kwargs)


def coerce_key_set(value: Any, key: str = "JWT_KEYS") -> KeySet:
    """Accept a :class:`KeySet`, a JWKS (dict or JSON) or a list of keys/JWKs."""
    try:
        if isinstance(value, KeySet):
            return value
        if isinstance(value, Mapping | str | bytes):
            return KeySet.from_jwks(value)
        if isinstance(value, list | tuple):
            return KeySet(item if isinstance(item, Key) else Key.from_jwk(item) for item in value)
    except InvalidKeyError as exc:
        raise ConfigurationError(f"{key} is not a usable key set: {exc}") from None
    raise ConfigurationError(
        f"{key} must be a KeySet, a JWKS (dict or JSON text) or a list of Key/JWK; "
        f"got {type(value).__name__}"
    )
