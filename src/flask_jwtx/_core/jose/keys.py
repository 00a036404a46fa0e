"""Key material, parsed once and bound to one algorithm.

Flask-JWT-Extended hands the raw PEM string to PyJWT for every token, so PyJWT
re-parses (and, for RSA, re-validates) the key each time: an RS256 token costs
milliseconds to create. Here a key is turned into a :class:`PreparedKey` when
settings are resolved, and signing or verifying is a single call into PyJWT's
algorithm object with the already-parsed key.

PyJWT's algorithm objects stay in charge of the cryptography (key parsing,
signature encodings such as ECDSA's raw ``r || s``); this module only decides
*when* that work happens.
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass
from typing import Any, Final

from jwt.algorithms import Algorithm, get_default_algorithms, has_crypto
from jwt.exceptions import InvalidKeyError as _PyJWTInvalidKeyError

from ...exceptions import InvalidKeyError

_ALGORITHMS: Final[dict[str, Algorithm]] = {
    name: impl for name, impl in get_default_algorithms().items() if name != "none"
}

HMAC_ALGORITHMS: Final = frozenset({"HS256", "HS384", "HS512"})
#: The key-pair algorithms. PyJWT implements them with the ``cryptography``
#: package, which is optional (the ``crypto`` extra), as with
#: Flask-JWT-Extended: an app that signs with a shared secret does not need it.
ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {
        *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
        *("ES256", "ES256K", "ES384", "ES512", "ES521", "EdDSA"),
    }
)
#: Whether ``cryptography`` is installed, so the key-pair algorithms are usable.
HAS_CRYPTOGRAPHY: Final[bool] = bool(has_crypto)
#: Every algorithm a token may be signed with in this installation: the HMAC
#: ones always, the key-pair ones with ``cryptography``. ``none`` never.
SUPPORTED_ALGORITHMS: Final = frozenset(_ALGORITHMS)
#: The command that brings the key-pair algorithms. The extra is ``crypto``:
#: Flask-JWT-Extended's name, ``asymmetric_crypto``, is declared too, but the
#: wheel spells it ``asymmetric-crypto`` (PEP 685) and pip matches the
#: underscored request to it only from 23.3 on; older pip (23.2 is what
#: ``python3 -m venv`` gives on Python 3.11) warns and installs nothing.
CRYPTO_INSTALL: Final = "pip install 'flask-jwtx[crypto]'"


def cryptography_missing(what: str) -> str:
    """Why ``what`` cannot work in this installation, and the command that fixes it."""
    return (
        f"{what} needs the cryptography package, which is not installed "
        f"(it is optional: HMAC apps do without). Install it with: {CRYPTO_INSTALL} "
        "(Flask-JWT-Extended's extra name, asymmetric_crypto, works too with pip 23.3+)"
    )


#: RFC 7518 section 3.2: an HMAC key must be at least as long as the hash output.
MIN_HMAC_KEY_BYTES: Final = {"HS256": 32, "HS384": 48, "HS512": 64}


def is_symmetric(algorithm: str) -> bool:
    """Whether ``algorithm`` signs with a shared secret rather than a key pair."""
    return algorithm in HMAC_ALGORITHMS


_HMAC_DIGESTS: Final = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}


@dataclass(frozen=True, slots=True)
class PreparedKey:
    """A parsed key bound to exactly one JWS algorithm."""

    algorithm: str
    impl: Algorithm
    key: Any

    def sign(self, message: bytes) -> bytes:
        digest = _HMAC_DIGESTS.get(self.algorithm)
        if digest is not None:
            # hmac.digest is the one-shot C path of what PyJWT's HMACAlgorithm
            # computes with hmac.new(...).digest(): same bytes, a third of the time.
            return hmac.digest(self.key, message, digest)
        return self.impl.sign(message, self.key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        digest = _HMAC_DIGESTS.get(self.algorithm)
        if digest is not None:
            return hmac.compare_digest(hmac.digest(self.key, message, digest), signature)
        return self.impl.verify(message, self.key, signature)


def prepare_key(algorithm: str, material: Any) -> PreparedKey:
    """Parse ``material`` (secret, PEM text or a ``cryptography`` key) for ``algorithm``.

    Raises :class:`~flask_jwtx.exceptions.InvalidKeyError` when the material
    does not fit the algorithm, for example an RSA key offered for ES256 or a
    PEM public key offered as an HMAC secret (the classic algorithm-confusion
    attack, which PyJWT's HMAC preparation refuses).
    """
    impl = _ALGORITHMS.get(algorithm)
    if impl is None:
        if algorithm in ASYMMETRIC_ALGORITHMS:
            raise InvalidKeyError(cryptography_missing(f"Algorithm {algorithm!r}"))
        raise InvalidKeyError(f"Algorithm {algorithm!r} is not supported")
    if isinstance(material, str | bytes):
        return _prepare_cached(algorithm, material)
    return _prepare(impl, algorithm, material)


def _prepare(impl: Algorithm, algorithm: str, material: Any) -> PreparedKey:
    try:
        key = impl.prepare_key(material)
    except _PyJWTInvalidKeyError as exc:
        raise InvalidKeyError(str(exc)) from None
    except (ValueError, TypeError) as exc:
        raise InvalidKeyError(f"Key cannot be used with {algorithm}: {exc}") from None
    return PreparedKey(algorithm, impl, key)


@functools.lru_cache(maxsize=64)
def _prepare_cached(algorithm: str, material: str | bytes) -> PreparedKey:
    # Key loaders (``encode_key_loader``/``decode_key_loader``) return PEM text
    # on every call; caching by (algorithm, text) keeps the parse to once per key.
    return _prepare(_ALGORITHMS[algorithm], algorithm, material)


def hmac_key_too_short(algorithm: str, secret: str | bytes) -> bool:
    """Whether ``secret`` is shorter than RFC 7518 asks for ``algorithm``."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return len(raw) < MIN_HMAC_KEY_BYTES.get(algorithm, 0)


# --- Saying what a key is, for configuration errors ------------------------------

_CURVES: Final = {
    "secp256r1": "P-256",
    "secp384r1": "P-384",
    "secp521r1": "P-521",
    "secp256k1": "secp256k1",
}
_FAMILIES: Final = {
    "ES256": "an EC P-256",
    "ES256K": "an EC secp256k1",
    "ES384": "an EC P-384",
    "ES512": "an EC P-521",
    "ES521": "an EC P-521",
    "EdDSA": "an Ed25519 or Ed448",
}


def is_private_key(key: Any) -> bool:
    """Whether a parsed asymmetric key is the private half of its pair."""
    if not HAS_CRYPTOGRAPHY:  # no key object of cryptography's can exist then
        return False
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    private = (
        rsa.RSAPrivateKey,
        ec.EllipticCurvePrivateKey,
        ed25519.Ed25519PrivateKey,
        ed448.Ed448PrivateKey,
    )
    return isinstance(key, private)


def key_family(algorithm: str) -> str:
    """The kind of key an asymmetric ``algorithm`` takes, with its article ("an RSA")."""
    return _FAMILIES.get(algorithm, "an RSA")


def describe_key(material: Any) -> str:
    """What ``material`` holds, in words: "an RSA public key", "no PEM-encoded key"...

    For errors only: PyJWT's own messages name what it tried last (an RSA
    text that is no key at all is "Could not parse the provided public key",
    even in ``JWT_PRIVATE_KEY``), not what the value is.
    """
    key = material if not isinstance(material, str | bytes) else _parse_pem(material)
    if isinstance(key, str):
        return key
    if not HAS_CRYPTOGRAPHY:
        return f"an object of type {type(key).__name__}"
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        family = "an RSA"
    elif isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        family = f"an EC {_CURVES.get(key.curve.name, key.curve.name)}"
    elif isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        family = "an Ed25519"
    elif isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        family = "an Ed448"
    else:
        return f"an object of type {type(key).__name__}"
    return f"{family} {'private' if is_private_key(key) else 'public'} key"


def _parse_pem(material: str | bytes) -> Any:
    """The key in a PEM text, or a description (a string) of why there is none."""
    data = material.encode() if isinstance(material, str) else material
    if b"-----BEGIN " not in data:
        return "no PEM-encoded key"
    if not HAS_CRYPTOGRAPHY:
        return "a PEM text, which needs the cryptography package to be read"
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        return "an encrypted private key"  # a passphrase is needed: we take none
    except (ValueError, UnsupportedAlgorithm):
        pass
    try:
        return serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        return "a PEM block that is not a key cryptography can read"
