"""``JWT_REVOCATION_STORE``: from a URL, a client, an engine or a store.

Every way a store can fail to come up ends here as one
:class:`ConfigurationError` at ``init_app`` that names the setting, the URL
(without its password) and the fix: a placeholder left in the URL, a host
name that cannot be a host, a missing driver (and the extra that installs it),
an SQLite file that cannot be created, a server that does not answer.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ...exceptions import ConfigurationError
from .base import RevocationStore, StoreCredentialsError, StoreUnavailableError
from .memory import MemoryStore
from .replica import Replica

_KEY = "JWT_REVOCATION_STORE"
#: Query parameters whose values are never printed back (drivers may echo them).
_CREDENTIAL = re.compile(r"pass|pwd|secret|token|key|auth|cred", re.IGNORECASE)
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_SQL_SCHEMES = ("sqlite:", "postgresql:", "postgresql+", "postgres:")
#: The module each optional part comes from, and the install line that brings it.
_INSTALL = {
    "redis": "pip install 'flask-jwtx[redis]'",
    "sqlalchemy": "pip install 'flask-jwtx[sql]'",
    "psycopg": "pip install 'flask-jwtx[postgresql]' (psycopg 3)",
    "psycopg2": "pip install psycopg2-binary, or 'flask-jwtx[postgresql]' with a "
    "postgresql+psycopg:// URL",
}


def make_store(
    value: Any, *, table: str = "jwtx_revocations", instance_path: str | None = None
) -> RevocationStore:
    """Build (and reach once) the store ``value`` describes; errors say what to fix.

    ``instance_path`` is the app's instance folder: a relative SQLite path
    (``sqlite:///revocations.db``) names a file there, created if missing,
    as Flask-SQLAlchemy 3 reads the same URL. Without it (outside an app),
    the path is relative to the working directory.
    """
    if isinstance(value, str) and instance_path is not None:
        try:
            value = in_instance_folder(value, instance_path)
        except OSError as exc:
            raise ConfigurationError(
                f"{_KEY} is {_shown(value)}, a path relative to the instance folder "
                f"{instance_path}, which cannot be created ({exc.strerror}). Create it, or "
                "give an absolute path: sqlite:////path/to/revocations.db"
            ) from None
    shown = _shown(value)  # a relative SQLite path as resolved: messages say where it is
    try:
        store = _build(value, table)
        _reach(store, owned=isinstance(value, str))
    except ImportError as exc:
        raise ConfigurationError(f"{_KEY} is {shown}: {_missing(exc)}") from None
    except StoreCredentialsError as exc:
        raise ConfigurationError(
            f"{_KEY} ({shown}): the server answers but refused this client "
            f"({_scrub(str(exc), value).rstrip('.')}). {_credentials_hint(value)}"
        ) from None
    except StoreUnavailableError as exc:
        raise ConfigurationError(
            f"{_KEY} ({shown}) cannot be reached: {_scrub(str(exc), value).rstrip('.')}. "
            f"{_unreachable_hint(value)}"
        ) from None
    except UnicodeError:
        # The IDNA codec refusing the host: an empty label ("..") or one over 63 characters.
        raise ConfigurationError(
            f"{_KEY} is {shown}: its host name is not a valid DNS name"
        ) from None
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{_KEY} is {shown}: {_scrub(str(exc), value)}") from None
    except Exception as exc:
        # SQLAlchemy's own refusals of a URL (ArgumentError, NoSuchModuleError).
        if not type(exc).__module__.startswith("sqlalchemy"):
            raise
        raise ConfigurationError(f"{_KEY} is {shown}: {_scrub(str(exc), value)}") from None
    return store


def _reach(store: RevocationStore, *, owned: bool) -> None:
    """Ping ``store``; one built from a URL is closed again if it does not answer."""
    try:
        store.ping()
    except BaseException:
        if owned:
            store.close()
        raise


def shown_target(value: Any) -> str:
    """A store setting as it may be printed: a URL without its password, or a type name."""
    return _shown(value)


def _shown(value: Any) -> str:
    """The URL as messages may print it: scheme, host, port and path only.

    The user-info part and the query string are dropped: both can carry a
    password (``redis://:pw@host``, ``unix:///redis.sock?password=pw``, libpq's
    ``?password=``).
    """
    if isinstance(value, str):
        scheme, _, rest = value.partition("://")
        rest = rest.partition("?")[0].partition("#")[0]
        host = rest.rsplit("@", 1)[-1]
        return f"{scheme}://{host}" if rest else value.partition("?")[0]
    return type(value).__name__


def _secrets(value: Any) -> set[str]:
    """The URL's password and credential-named query values (``password=``, ``sslkey=``...)."""
    if not isinstance(value, str):
        return set()
    try:
        parts = urlsplit(value)
        found = {parts.password or ""}
    except ValueError:
        found = set()
    query = parse_qsl(value.partition("?")[2], keep_blank_values=True)
    found |= {v for k, v in query if _CREDENTIAL.search(k)}
    found |= {unquote(v) for v in found}
    return {v for v in found if v}


def _scrub(message: str, value: Any) -> str:
    """``message`` without the URL's password or query values, should a driver echo them."""
    for secret in sorted(_secrets(value), key=len, reverse=True):
        # As a whole word only: a one-letter password must not eat every "p".
        pattern = rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])"
        message = re.sub(pattern, "***", message)
    return message


def _missing(exc: ImportError) -> str:
    module = (exc.name or "").partition(".")[0]
    return f"{module} is not installed: {_INSTALL.get(module, f'pip install {module}')}"


def _credentials_hint(value: Any) -> str:
    """What to fix when the server is up but refused the credentials (or their absence)."""
    if not isinstance(value, str):
        return "The server wants a password: give the client its password (password=...)."
    if _secrets(value):
        return "Check the user name and password the URL gives."
    return (
        "The server wants a password: put it in the URL, as redis://:PASSWORD@host:6379/0 "
        "(redis://USER:PASSWORD@host:6379/0 for an ACL user, rediss:// alike), or "
        "unix:///path/to/redis.sock?password=PASSWORD."
    )


def _unreachable_hint(value: Any) -> str:
    if isinstance(value, str) and value.startswith("sqlite:"):
        return _sqlite_hint(value)
    return "Start the server or fix the URL."


def _sqlite_hint(url: str) -> str:
    database = Path(url.partition(":///")[2].partition("?")[0])
    folder = database.parent
    if folder.exists() and not folder.is_dir():
        return f"{folder} is not a folder: point the URL at a file in a folder."
    if not folder.is_dir():
        return f"The folder {folder} does not exist: create it, or point the URL elsewhere."
    if not os.access(folder, os.W_OK | os.X_OK) or (
        database.exists() and not os.access(database, os.R_OK | os.W_OK)
    ):
        return (
            f"{database} cannot be written by this process: give it (and its folder "
            f"{folder}) write permission, or point the URL elsewhere."
        )
    return "Check the file is an SQLite database this process can write."


def in_instance_folder(url: str, instance_path: str) -> str:
    """``url`` with a relative SQLite database path moved into ``instance_path``.

    Flask-SQLAlchemy 3 resolves ``sqlite:///name.db`` against the app's
    instance folder, not the working directory, which depends on how the
    app was started (``flask run`` from another folder, a service manager):
    the same URL in both settings must mean the same file. The folder is
    created if missing, as Flask-SQLAlchemy does. Absolute paths
    (``sqlite:////var/lib/app/revocations.db``), in-memory URLs and other
    schemes are returned unchanged.
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix) or _sqlite_in_memory(url):
        return url
    path, question, query = url.removeprefix(prefix).partition("?")
    is_uri = "uri=true" in query.lower().split("&")
    name = path.removeprefix("file:") if is_uri else path
    if os.path.isabs(name):
        return url
    os.makedirs(instance_path, exist_ok=True)
    resolved = os.path.join(instance_path, name)
    return f"{prefix}{'file:' if is_uri else ''}{resolved}{question}{query}"


def _sqlite_in_memory(url: str) -> bool:
    database = url.partition("://")[2].lstrip("/").partition("?")
    return database[0] in ("", ":memory:") or "mode=memory" in database[2]


def _sql_url(url: str) -> str:
    """``url`` with a driver SQLAlchemy can load, where the URL leaves it open."""
    if url.startswith("postgres://"):
        # The spelling Heroku and others hand out; SQLAlchemy only knows postgresql.
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://") and importlib.util.find_spec("psycopg2") is None:
        if importlib.util.find_spec("psycopg") is None:
            raise ImportError("no PostgreSQL driver", name="psycopg")
        # SQLAlchemy before 2.1 defaults to psycopg2; psycopg 3 is what we install.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _build(value: Any, table: str) -> RevocationStore:
    if isinstance(value, RevocationStore):
        return value
    if isinstance(value, str):
        return _from_url(value, table)
    module = type(value).__module__
    if module.startswith("redis"):
        from .redis import RedisStore

        return RedisStore(value)
    if module.startswith("sqlalchemy"):
        from .sql import SQLStore

        return SQLStore(value, table=table)
    raise TypeError("give a URL, a redis.Redis client, a SQLAlchemy Engine or a RevocationStore")


def _from_url(url: str, table: str) -> RevocationStore:
    if url == "memory://":
        return MemoryStore()
    if url.startswith(_REDIS_SCHEMES):
        from .redis import RedisStore

        return RedisStore.from_url(url)
    if url.startswith(_SQL_SCHEMES):
        if url.startswith("sqlite:") and _sqlite_in_memory(url):
            # Each connection would get its own empty database: a revocation
            # made by one thread would be invisible to the others.
            raise ValueError(
                "an in-memory SQLite database is private to one connection, so revocations "
                "would be lost between threads; use memory:// for an in-process store, or "
                "sqlite:////path/to/revocations.db"
            )
        from .sql import SQLStore

        return SQLStore.from_url(_sql_url(url), table=table)
    raise ValueError(
        "use memory://, redis://..., rediss://..., unix://..., sqlite:///... or postgresql://..."
    )


def make_replica(store: RevocationStore, max_staleness: float, *, owns_store: bool) -> Replica:
    """Wrap ``store`` in a local replica (``JWT_REVOCATION_REPLICA``); errors say what to fix."""
    try:
        return Replica(store, max_staleness, owns_store=owns_store)
    except TypeError as exc:
        raise ConfigurationError(
            f"JWT_REVOCATION_REPLICA is on, but {exc}. Use a redis://, postgresql+psycopg:// or "
            "sqlite:/// store, or turn the replica off."
        ) from None
