"""Key sets: several keys, each with a ``kid`` and bound to one algorithm.

A :class:`Key` is parsed once into prepared signing and verifying keys (see
:mod:`flask_jwtx.keys`). A :class:`KeySet` holds keys by ``kid`` and names the
one new tokens are signed with; verification picks a key by the token's
``kid`` and nothing else, so a retired key keeps verifying until it is
removed, and an unknown ``kid`` is refused without trying other keys.

JWK parsing is PyJWT's (:class:`jwt.PyJWK`); the RFC 7638 thumbprint, a
SHA-256 over a few canonical members, is computed here.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from jwt import PyJWK
from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError as PyJWTInvalidKeyError
from jwt.exceptions import PyJWKError, PyJWKSetError

from .exceptions import ConfigurationError, InvalidKeyError
from .keys import HMAC_ALGORITHMS, SUPPORTED_ALGORITHMS, PreparedKey, prepare_key
from .tokens import b64url_encode

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

_IMPLEMENTATIONS = get_default_algorithms()


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
    jwk: dict[str, Any] = _IMPLEMENTATIONS[algorithm].to_jwk(public_key, as_dict=True)
    return {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS}


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
            raise InvalidKeyError(f"JWK alg {named!r} differs from the expected {algorithm!r}")
        alg = named or algorithm
        if alg is None:
            raise InvalidKeyError(
                "The JWK has no 'alg': pass algorithm= so the key is bound to one algorithm"
            )
        _check_algorithm(alg)
        try:
            parsed = PyJWK(dict(data), algorithm=alg)
        except (PyJWKError, PyJWTInvalidKeyError, ValueError, KeyError, TypeError) as exc:
            raise InvalidKeyError(f"Invalid JWK for {alg}: {exc}") from None
        kid = data.get("kid")
        if alg in HMAC_ALGORITHMS:
            prepared = PreparedKey(alg, _IMPLEMENTATIONS[alg], parsed.key)
            return cls(_kid(kid, None), alg, prepared, prepared, None)
        is_private = "d" in data
        key_object = parsed.key
        public_object = key_object.public_key() if is_private else key_object
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


def _check_algorithm(algorithm: str) -> None:
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise InvalidKeyError(f"Algorithm {algorithm!r} is not supported")


def _kid(kid: Any, jwk: Mapping[str, Any] | None) -> str:
    if kid is None:
        if jwk is None:
            raise InvalidKeyError("A shared-secret key needs an explicit kid")
        return thumbprint(jwk)
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
        raise InvalidKeyError(f"kid must be a non-empty string of at most {MAX_KID_LENGTH} chars")
    return kid


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
        ``"use": "enc"`` are not signature keys and are left out. With
        ``skip_unusable`` (for remote sets) keys that cannot be parsed are
        skipped instead of failing the whole set.
        """
        data = _json_object(jwks, "JWKS")
        entries = data.get("keys")
        if not isinstance(entries, list):
            raise InvalidKeyError("A JWKS must have a 'keys' list")
        keys = []
        for entry in entries:
            if isinstance(entry, Mapping) and entry.get("use", "sig") != "sig":
                continue
            try:
                keys.append(Key.from_jwk(entry, algorithm=algorithm))
            except (InvalidKeyError, PyJWKSetError, TypeError):
                if not skip_unusable:
                    raise
        return cls(keys, signing_kid)

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
