"""``JWT_REVOCATION_STORE``: from a URL, a client, an engine or a store."""

from __future__ import annotations

from typing import Any

from ..exceptions import ConfigurationError
from .base import RevocationStore, StoreUnavailableError
from .memory import MemoryStore

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_SQL_SCHEMES = ("sqlite:", "postgresql:", "postgresql+", "postgres:")


def make_store(value: Any, *, table: str = "jwtx_revocations") -> RevocationStore:
    """Build (and reach once) the store ``value`` describes; errors say what to fix."""
    key = "JWT_REVOCATION_STORE"
    try:
        store = _build(value, table)
    except ImportError as exc:
        raise ConfigurationError(f"{key} is {_shown(value)}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{key} is {_shown(value)}: {exc}") from None
    try:
        store.ping()
    except StoreUnavailableError as exc:
        raise ConfigurationError(
            f"{key} ({_shown(value)}) cannot be reached: {exc}. Start the server or fix the URL."
        ) from None
    return store


def _shown(value: Any) -> str:
    if isinstance(value, str):
        # Never print a password that may sit in the URL.
        scheme, _, rest = value.partition("://")
        host = rest.rsplit("@", 1)[-1]
        return f"{scheme}://{host}" if rest else value
    return type(value).__name__


def _build(value: Any, table: str) -> RevocationStore:
    if isinstance(value, RevocationStore):
        return value
    if isinstance(value, str):
        if value == "memory://":
            return MemoryStore()
        if value.startswith(_REDIS_SCHEMES):
            from .redis import RedisStore

            return RedisStore.from_url(value)
        if value.startswith(_SQL_SCHEMES):
            from .sql import SQLStore

            return SQLStore.from_url(value, table=table)
        raise ValueError(
            "use memory://, redis://..., rediss://..., unix://..., sqlite:///... "
            "or postgresql://..."
        )
    module = type(value).__module__
    if module.startswith("redis"):
        from .redis import RedisStore

        return RedisStore(value)
    if module.startswith("sqlalchemy"):
        from .sql import SQLStore

        return SQLStore(value, table=table)
    raise TypeError("give a URL, a redis.Redis client, a SQLAlchemy Engine or a RevocationStore")
