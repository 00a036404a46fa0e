"""What one declaration of a ``JWT_*`` key says: :class:`Setting`, and the sections."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Final

#: The sections of the configuration reference, in its order: id, then heading.
SECTIONS: Final[Mapping[str, str]] = {
    "keys": "Algorithms and keys",
    "claims": "Lifetimes and claims",
    "locations": "Where tokens are looked for",
    "cookies": "Cookies",
    "csrf": "CSRF protection (cookies only)",
    "jwks": "Publishing and consuming JWKS",
    "revocation": "Revocation and refresh-token rotation",
    "resource": "OAuth 2.0 resource server and DPoP",
}

#: In :attr:`Setting.context`, not a setting: the app's ``key_set_loader``.
KEY_SET_LOADER: Final = "key_set_loader"

#: The ``accepts`` of a plain duration.
SECONDS: Final = "a number of seconds (int or float)"

#: The context of keys that are read only when there is a revocation store.
WITH_STORE: Final[Mapping[str, Any]] = {"JWT_REVOCATION_STORE": "memory://"}


@dataclass(frozen=True, slots=True)
class Setting:
    """One ``JWT_*`` key, declared once: its default, how it is read, what it means.

    ``init_app`` writes :attr:`default` into ``app.config``; ``resolve`` reads
    the value through :attr:`reader`; the configuration reference
    (``docs/_ext/jwtx_settings.py``) prints the default, :attr:`accepts` and
    :attr:`meaning` under the heading of :attr:`section`, with what the
    readers refuse, found by trying wrong values (:attr:`probes`).
    """

    name: str
    default: Any
    _: KW_ONLY
    #: An id of :data:`SECTIONS`.
    section: str
    #: The kinds of value accepted, as a phrase ("a non-empty string").
    accepts: str
    #: What the key does, in MyST markdown.
    meaning: str
    #: Checks one value, ``(value, key) -> resolved``, raising ConfigurationError.
    reader: Callable[[Any, str], Any] | None = None
    #: Where a key without a reader of its own is checked, with the keys it
    #: only makes sense with (the key material with the algorithms, say).
    group: str | None = None
    #: A key of flask-jwtx's own, not one of Flask-JWT-Extended's.
    own: bool = False
    #: Wrong values worth showing in the reference, besides the generic ones.
    probes: tuple[Any, ...] = ()
    #: Other settings (or :data:`KEY_SET_LOADER`) this key is only read with,
    #: so that the reference's probes reach its check; a callable value is
    #: called for a fresh one each time.
    context: Mapping[str, Any] = field(default_factory=dict)
