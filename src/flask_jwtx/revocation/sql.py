"""SQL store through SQLAlchemy: SQLite as the embedded default, PostgreSQL supported.

One table, ``jwtx_revocations (key, value, expires_at)``, created if missing.
Reads are one ``SELECT ... WHERE key IN (...)``; first-use writes are an
``INSERT ... ON CONFLICT DO NOTHING``, atomic in both databases. Expired rows
are deleted now and then by writers. Needs ``pip install flask-jwtx[sql]``
(and a driver such as ``psycopg`` for PostgreSQL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from .base import RevocationStore, StoreUnavailableError

try:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql, sqlite
except ImportError:  # pragma: no cover - exercised by the factory's error message
    sa = None  # type: ignore[assignment]

_SWEEP_EVERY = 512


class SQLStore(RevocationStore):
    """Revocations in one SQL table."""

    def __init__(self, engine: Any, table: str = "jwtx_revocations") -> None:
        if sa is None:
            raise ImportError(
                "The SQL store needs SQLAlchemy: pip install 'flask-jwtx[sql]'", name="sqlalchemy"
            )
        self._engine = engine
        # Reads need no transaction: autocommit saves the BEGIN and the
        # ROLLBACK-on-return round trips, halving a request's cost on PostgreSQL.
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._metadata = sa.MetaData()
        self._table = sa.Table(
            table,
            self._metadata,
            sa.Column("key", sa.String(320), primary_key=True),
            sa.Column("value", sa.String(64), nullable=False),
            sa.Column("expires_at", sa.Float, nullable=True, index=True),
        )
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"The SQL store supports SQLite and PostgreSQL, not {dialect}")
        self._insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        # Built once with bound parameters, so SQLAlchemy compiles it once: a
        # statement rebuilt per call cost ~200 µs of the request's budget.
        columns = self._table.c
        self._read = sa.select(columns.key, columns.value).where(
            columns.key.in_(sa.bindparam("keys", expanding=True)),
            sa.or_(columns.expires_at.is_(None), columns.expires_at > sa.bindparam("now")),
        )
        self._writes = 0
        self._lock = threading.Lock()
        self._guard(lambda: self._metadata.create_all(engine, checkfirst=True))

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> SQLStore:
        if sa is None:
            raise ImportError(
                "The SQL store needs SQLAlchemy: pip install 'flask-jwtx[sql]'", name="sqlalchemy"
            )
        # No pool_pre_ping: it would add a round trip to every request. A
        # connection found dead is instead retried once by _guard.
        return cls(sa.create_engine(url), **kwargs)

    @staticmethod
    def _guard(operation: Any) -> Any:
        """Run ``operation``; retry once on a dropped connection; map errors to 503s."""
        for attempt in (1, 2):
            try:
                return operation()
            except sa.exc.DBAPIError as exc:
                # A pooled connection that died (server restart): the pool has
                # invalidated it; one more try gets a fresh connection.
                if exc.connection_invalidated and attempt == 1:
                    continue
                error: sa.exc.SQLAlchemyError = exc
            except sa.exc.SQLAlchemyError as exc:
                error = exc
            raise StoreUnavailableError(
                f"SQL revocation store: {type(error).__name__}: {str(error).splitlines()[0]}"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        params = {"keys": list(keys), "now": time.time()}

        def run() -> dict[str, str]:
            with self._reader.connect() as connection:
                return dict(connection.execute(self._read, params).all())

        found = self._guard(run)
        return [found.get(key) for key in keys]

    def _maybe_sweep(self, connection: Any) -> None:
        with self._lock:
            self._writes += 1
            due = self._writes % _SWEEP_EVERY == 0
        if due:
            table = self._table
            connection.execute(sa.delete(table).where(table.c.expires_at <= time.time()))

    def put(self, key: str, value: str, expires_at: float | None) -> None:
        statement = self._insert(self._table).values(key=key, value=value, expires_at=expires_at)
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "expires_at": expires_at}
        )

        def run() -> None:
            with self._engine.begin() as connection:
                connection.execute(statement)
                self._maybe_sweep(connection)

        self._guard(run)

    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        table = self._table

        def run() -> str | None:
            with self._engine.begin() as connection:
                # An expired entry counts as absent: clear it first.
                connection.execute(
                    sa.delete(table).where(table.c.key == key, table.c.expires_at <= time.time())
                )
                inserted = connection.execute(
                    self._insert(table)
                    .values(key=key, value=value, expires_at=expires_at)
                    .on_conflict_do_nothing(index_elements=["key"])
                    .returning(table.c.key)  # rowcount is not reliable across drivers
                ).first()
                if inserted is not None:
                    return None
                existing = connection.execute(
                    sa.select(table.c.value).where(table.c.key == key)
                ).scalar_one_or_none()
                return value if existing is None else str(existing)

        result: str | None = self._guard(run)
        return result

    def ping(self) -> None:
        def run() -> None:
            with self._engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))

        self._guard(run)

    def close(self) -> None:
        self._engine.dispose()
