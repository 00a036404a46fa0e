"""The ``JWT_*`` keys, each declared once: :data:`SETTINGS`.

A key's declaration (a :class:`~.setting.Setting`, in the module of its
section) holds its default, its reader and its documentation. Everything
else is derived from the table: :data:`DEFAULTS`, which ``init_app`` writes
into ``app.config``; :data:`WATCHED_KEYS`, whose change rebuilds the
settings; :func:`read`, which ``resolve`` calls once per key at ``init_app``;
and the configuration reference (``docs/_ext/jwtx_settings.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from . import claims, cookies, csrf, jwks, keys, locations, resource, revocation
from .setting import SECTIONS, Setting

#: Where ``init_app`` keeps an app's flask-jwtx state, in ``app.extensions``.
EXTENSION_KEY: Final = "flask-jwtx"

#: ``max_age`` given to non-session cookies, as Flask-JWT-Extended does: one year.
PERSISTENT_COOKIE_MAX_AGE: Final = 31540000


def _table(*sections: Iterable[Setting]) -> dict[str, Setting]:
    table: dict[str, Setting] = {}
    for section in sections:
        for setting in section:
            if setting.name in table:
                raise ValueError(f"{setting.name} is declared twice")
            table[setting.name] = setting
    return table


#: Every key, by name, section by section in the reference's order.
SETTINGS: Final[Mapping[str, Setting]] = _table(
    keys.SETTINGS,
    claims.SETTINGS,
    locations.SETTINGS,
    cookies.SETTINGS,
    csrf.SETTINGS,
    jwks.SETTINGS,
    revocation.SETTINGS,
    resource.SETTINGS,
)

#: The defaults: Flask-JWT-Extended 4.x's, plus flask-jwtx's own keys
#: (``Setting.own``). ``init_app`` writes them into ``app.config`` with ``setdefault``.
DEFAULTS: Final[Mapping[str, Any]] = {name: s.default for name, s in SETTINGS.items()}

#: The keys whose change triggers a rebuild (``SECRET_KEY`` is the fallback secret).
WATCHED_KEYS: Final = (*DEFAULTS, "SECRET_KEY")


def configured(config: Mapping[str, Any], key: str) -> Any:
    """``key``'s value in ``config``, else its default; unchecked (for a key's group)."""
    return config.get(key, SETTINGS[key].default)


def read(config: Mapping[str, Any], key: str) -> Any:
    """``key``'s value in ``config`` (else its default), through its declared reader.

    Raises the reader's :class:`ConfigurationError` for a wrong value. Called
    at ``init_app`` only: the request path reads the resolved ``Settings``.
    """
    setting = SETTINGS[key]
    if setting.reader is None:
        raise TypeError(f"{key} has no reader of its own: {setting.group} checks it")
    return setting.reader(configured(config, key), key)


__all__ = [
    "DEFAULTS",
    "EXTENSION_KEY",
    "PERSISTENT_COOKIE_MAX_AGE",
    "SECTIONS",
    "SETTINGS",
    "WATCHED_KEYS",
    "Setting",
    "configured",
    "read",
]
