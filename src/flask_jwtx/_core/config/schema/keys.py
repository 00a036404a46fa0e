"""The keys of the "Algorithms and keys" section: what signs and verifies tokens.

The key material (``JWT_SECRET_KEY``, ``JWT_PRIVATE_KEY``, ``JWT_PUBLIC_KEY``,
``JWT_KEYS``) has no reader of its own: a key is parsed for the algorithms it
serves, so it is checked with them, in ``config.keys``.
"""

from __future__ import annotations

from typing import Final

from ...jose.keyset import Key, KeySet
from ..readers import algorithm, algorithm_list, positive_seconds
from .setting import KEY_SET_LOADER, SECONDS, Setting

_RS256: Final = {"JWT_ALGORITHM": "RS256"}


def _sample_key_set() -> KeySet:
    """A key set for the probes of keys that are read only with one."""
    return KeySet([Key.from_secret("s" * 32, kid="one", algorithm="HS256")])


SETTINGS: Final = (
    Setting(
        "JWT_ALGORITHM",
        "HS256",
        section="keys",
        reader=algorithm,
        accepts="an algorithm name",
        meaning=(
            "The algorithm new tokens are signed with, and the one always accepted when "
            "verifying. `none` is never allowed."
        ),
        probes=("none",),
    ),
    Setting(
        "JWT_DECODE_ALGORITHMS",
        None,
        section="keys",
        reader=algorithm_list,
        accepts="a list of algorithm names, or `None`",
        meaning=(
            "Further algorithms accepted when verifying (`JWT_ALGORITHM` is always added). Each "
            "needs a key of its family."
        ),
        probes=(["none"],),
    ),
    Setting(
        "JWT_SECRET_KEY",
        None,
        section="keys",
        group="keys._keys",
        accepts="a string or bytes",
        meaning=(
            "The HMAC secret for the `HS*` algorithms. Flask's `SECRET_KEY` stands in when this "
            "is unset and `JWT_ALGORITHM` is an HMAC algorithm, never otherwise. Shorter than the "
            "hash (32 bytes for HS256) warns with `WeakSecretWarning`."
        ),
        probes=("too-short",),
    ),
    Setting(
        "JWT_PRIVATE_KEY",
        None,
        section="keys",
        group="keys._keys",
        accepts="a PEM-encoded private key",
        meaning=(
            "Signs tokens with an asymmetric `JWT_ALGORITHM` (RS*, PS*, ES*, EdDSA). Parsed once, "
            "in `init_app`."
        ),
        probes=("not a PEM key",),
        context=_RS256,
    ),
    Setting(
        "JWT_PUBLIC_KEY",
        None,
        section="keys",
        group="keys._keys",
        accepts="a PEM-encoded public key",
        meaning=(
            "Verifies tokens of an asymmetric algorithm. When only `JWT_PRIVATE_KEY` is set, its "
            "public half verifies."
        ),
        probes=("not a PEM key",),
        context=_RS256,
    ),
    Setting(
        "JWT_KEYS",
        None,
        section="keys",
        group="keys._resolver",
        accepts="a `KeySet`, a JWKS (dict or JSON text), or a list of `Key` objects or JWK dicts",
        meaning=(
            "Several keys by `kid`, instead of the three settings above; tokens name their key in "
            "`kid`. See [Keys, rotation and JWKS](keys-and-jwks.md)."
        ),
        own=True,
        probes=({"keys": [{"kty": "oct"}]},),
    ),
    Setting(
        "JWT_SIGNING_KID",
        None,
        section="keys",
        group="keys._resolver",
        accepts="a `kid` of `JWT_KEYS`, or `None`",
        meaning="Which key of `JWT_KEYS` signs new tokens (default: the first that can sign).",
        own=True,
        probes=("unknown-kid",),
        context={"JWT_KEYS": _sample_key_set},
    ),
    Setting(
        "JWT_KEY_SET_REFRESH",
        60,
        section="keys",
        reader=positive_seconds,
        accepts=SECONDS,
        meaning="How often the `key_set_loader` is asked again for the current keys.",
        own=True,
        context={KEY_SET_LOADER: _sample_key_set},
    ),
)
