"""The readers of ``JWT_*`` values: each turns one raw value into its resolved form.

A reader is a function ``(value, key) -> resolved``: ``value`` is what the
app configured (or the key's default), ``key`` names it in the
:class:`ConfigurationError` raised for a wrong value, with the fix. Readers
know nothing of the defaults or of other keys: which reader a key has is
said in its declaration (:mod:`.schema`), and keys that are only valid
together are checked where they are combined (``settings.resolve``,
``keys``, ``stores``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ...exceptions import ConfigurationError
from ..jose.keys import (
    ASYMMETRIC_ALGORITHMS,
    CRYPTO_INSTALL,
    HAS_CRYPTOGRAPHY,
    SUPPORTED_ALGORITHMS,
)
from ..keysources.introspection import IntrospectionSpec, introspection_spec

logger = logging.getLogger("flask_jwtx")

#: What ``JWT_TOKEN_LOCATION`` may list, in the order Flask-JWT-Extended documents.
LOCATIONS: Final = ("headers", "cookies", "query_string", "json")

_SAMESITE: Final = {"lax": "Lax", "strict": "Strict", "none": "None"}


def fail(key: str, problem: str, fix: str) -> ConfigurationError:
    """The error for a wrong value: the key, what is wrong, and how to fix it."""
    return ConfigurationError(f"{key} {problem}. {fix}")


def lifetime(value: Any, key: str) -> timedelta | None:
    """A token lifetime: a timedelta, a relativedelta, seconds, or ``False`` for never."""
    if value is False:
        return None
    if isinstance(value, bool):
        raise fail(key, "is True", "Use a timedelta, a number of seconds, or False for never.")
    try:
        span = timedelta(seconds=value) if isinstance(value, int) else lifetime_from(value, key)
    except TypeError:
        raise fail(
            key,
            f"is {value!r}",
            "Use a timedelta, a number of seconds, or False for tokens that never expire.",
        ) from None
    return never_if_zero(span, key)


def never_if_zero(span: timedelta, name: str) -> timedelta | None:
    """A zero lifetime means "never expires", as Flask-JWT-Extended reads it (``if delta:``).

    Apps rely on it (LinOTP documents ``JWT_ACCESS_TOKEN_EXPIRES = 0`` as
    "indefinitely"), so it is honoured, and the explicit spelling is logged once.
    """
    if span:
        return span
    if name not in _ZERO_WARNED:
        _ZERO_WARNED.add(name)
        logger.warning(
            "%s is zero: its tokens never expire (as with Flask-JWT-Extended). Say False to "
            "mean that explicitly, or give a positive lifetime.",
            name,
        )
    return None


#: Settings and arguments already warned about for a zero lifetime (once per process).
_ZERO_WARNED: Final[set[str]] = set()


def lifetime_from(value: Any, name: str) -> timedelta:
    """A ``timedelta``, or anything that adds to a datetime, as a ``timedelta``.

    dateutil's ``relativedelta`` (which Flask-JWT-Extended documents) is turned
    into the fixed span it means from now, so ``relativedelta(months=1)``
    counts the days of this month.
    """
    if isinstance(value, timedelta):
        return value
    now = datetime.now(UTC)
    try:
        span = (now + value) - now
    except TypeError:
        raise TypeError(
            f"{name} must be a timedelta or a dateutil relativedelta, not {value!r}"
        ) from None
    if not isinstance(span, timedelta):
        raise TypeError(f"{name} must be a timedelta or a dateutil relativedelta, not {value!r}")
    return span


def string(value: Any, key: str) -> str:
    """Any string, the empty one included (a path, a prefix)."""
    if not isinstance(value, str):
        raise fail(key, f"is {value!r}", "It must be a non-empty string.")
    return value


def non_empty_string(value: Any, key: str) -> str:
    """A string that names something (a header, a cookie, a claim)."""
    if not isinstance(value, str) or not value:
        raise fail(key, f"is {value!r}", "It must be a non-empty string.")
    return value


def optional_string(value: Any, key: str) -> str | None:
    """A string, or ``None``; the empty string counts as ``None``."""
    if value is None or isinstance(value, str):
        return value or None
    raise fail(key, f"is {value!r}", "It must be a string or None.")


def flag(value: Any, key: str) -> bool:
    """Any value, by its truth (as Flask-JWT-Extended reads its switches)."""
    return bool(value)


def string_list(value: Any, key: str, allowed: Iterable[str] | None = None) -> tuple[str, ...]:
    """A string or a list of strings, as a tuple; each one of ``allowed`` if given."""
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, Mapping):
        raise fail(key, f"is {value!r}", "It must be a string or a list of strings.")
    names = tuple(items)
    if not all(isinstance(n, str) for n in names):
        raise fail(key, f"is {value!r}", "It must be a string or a list of strings.")
    if allowed is not None:
        allowed = tuple(allowed)
        for name in names:
            if name not in allowed:
                raise fail(
                    key,
                    f"contains {name!r}",
                    f"Allowed values: {', '.join(allowed)}.",
                )
    return names


def token_locations(value: Any, key: str) -> tuple[str, ...]:
    """One or more of :data:`LOCATIONS`."""
    names = string_list(value, key, LOCATIONS)
    if not names:
        raise fail(key, "is empty", f"List at least one of {', '.join(LOCATIONS)}.")
    return names


def algorithm(name: Any, key: str) -> str:
    """A supported signing algorithm (never ``none``), usable in this installation."""
    if isinstance(name, str) and name in ASYMMETRIC_ALGORITHMS and not HAS_CRYPTOGRAPHY:
        raise no_cryptography(key, f"is {name!r}, a key-pair algorithm")
    if not isinstance(name, str) or name not in SUPPORTED_ALGORITHMS:
        raise fail(
            key,
            f"is {name!r}, which is not a supported signing algorithm",
            f"Use one of {', '.join(sorted(SUPPORTED_ALGORITHMS))} ('none' is never allowed).",
        )
    return str(name)


def algorithm_list(value: Any, key: str) -> tuple[str, ...]:
    """Algorithm names (each as :func:`algorithm` reads it); nothing set is ``()``."""
    if not value:
        return ()
    listed = string_list(value, key)
    for name in listed:
        algorithm(name, key)
    return listed


def no_cryptography(key: str, what: str) -> ConfigurationError:
    """The error for a setting that needs ``cryptography`` in an installation without it.

    It is an optional dependency, as with Flask-JWT-Extended: an app that
    signs with a shared secret never needs it, so it is not installed with
    flask-jwtx. A setting that does need it fails at ``init_app``, saying so.
    """
    return fail(
        key,
        f"{what}, which needs the cryptography package, and it is not installed",
        f"Install it with: {CRYPTO_INSTALL} (HMAC algorithms such as HS256 work without it; "
        "Flask-JWT-Extended's extra name, asymmetric_crypto, works too with pip 23.3+).",
    )


def audience(value: Any, key: str) -> str | tuple[str, ...] | None:
    """One audience, several, or ``None`` (an empty string or list is ``None``)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return string_list(value, key) or None


def samesite(value: Any, key: str) -> str | None:
    """A cookie ``SameSite`` value in any case, spelled as browsers expect; or ``None``."""
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in _SAMESITE:
        return _SAMESITE[value.lower()]
    raise fail(key, f"is {value!r}", "Use 'Lax', 'Strict', 'None' or None.")


def positive_int(value: Any, key: str) -> int:
    """A count or a size: an ``int`` above zero (``True`` is no number here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise fail(key, f"is {value!r}", "It must be a positive integer.")
    return value


def one_of(*allowed: str) -> Callable[[Any, str], str]:
    """The reader of a key whose value is one of ``allowed``."""

    def choice(value: Any, key: str) -> str:
        if value not in allowed:
            raise fail(key, f"is {value!r}", f"Use one of {', '.join(map(repr, allowed))}.")
        return str(value)

    return choice


def non_negative_seconds(value: Any, key: str) -> float:
    """A duration that may be zero: seconds or a ``timedelta``, as seconds."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise fail(key, f"is {value!r}", "Use a number of seconds (>= 0) or a timedelta.")
    return float(value)


def whole_seconds(value: Any, key: str) -> int:
    """Whole seconds, zero included (an HTTP ``max-age``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(key, f"is {value!r}", "It must be a whole number of seconds (>= 0).")
    return value


def positive_seconds(value: Any, key: str) -> float:
    """A number of seconds above zero (a cache lifetime, a deadline)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise fail(key, f"is {value!r}", "It must be a positive number of seconds.")
    return float(value)


def optional_positive_seconds(value: Any, key: str) -> float | None:
    """:func:`positive_seconds`, or ``None`` (no bound)."""
    return None if value is None else positive_seconds(value, key)


def bounded_seconds(value: Any, key: str) -> float:
    """A positive, finite duration: seconds or a ``timedelta``, as seconds."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise fail(key, f"is {value!r}", "Use a positive number of seconds or a timedelta.")
    return float(value)


def url_path(value: Any, key: str) -> str | None:
    """A URL path to serve something at (``None`` or ``""``: not served)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith("/"):
        raise fail(key, f"is {value!r}", "Use a URL path such as '/.well-known/jwks.json'.")
    return value


def introspection(value: Any, key: str) -> IntrospectionSpec | None:
    """``JWT_INTROSPECTION``'s dict, checked by :func:`introspection_spec` (which names it)."""
    return introspection_spec(value)
