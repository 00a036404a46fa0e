"""SQL store through SQLAlchemy: SQLite as the embedded default, PostgreSQL supported.

One table, ``jwtx_revocations (key, value, expires_at)``, created if missing,
and beside it ``jwtx_revocations_sessions (registry, member, value,
expires_at)`` for the session registry (listing only, never the request path)
and ``jwtx_revocations_changes`` (the change log replicas follow: see
:func:`_change_log`). Reads are one ``SELECT ... WHERE key IN (...)``; first-use writes are an
``INSERT ... ON CONFLICT DO NOTHING``, atomic in both databases. Expired rows
are deleted now and then by writers. Needs ``pip install flask-jwtx[sql]``
(and a driver such as ``psycopg`` for PostgreSQL).
"""

from __future__ import annotations

import functools
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from .base import (
    MAX_RECEIVE,
    Ack,
    Change,
    Feed,
    IgnoredMessages,
    RevocationStore,
    StoreUnavailableError,
    clamp_expiry,
    parse_hint,
)

try:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql, sqlite
except ImportError:  # pragma: no cover - exercised by the factory's error message
    sa = None  # type: ignore[assignment]

_SWEEP_EVERY = 512
#: Seconds a change-log row is kept: an SQLite replica that has not polled for
#: half of it takes a new snapshot instead of trusting the log.
CHANGE_RETENTION: Final = 86400.0
#: The longest PostgreSQL channel name is 63 bytes; beacons use a short one.
_BEACON_CHANNEL = "jwtx_beacon_{}"
#: A change-log number is a PostgreSQL ``bigint``: a larger one names nothing.
_MAX_SEQ: Final = 2**63 - 1


def _forget_pool(engine: weakref.ref[Any]) -> None:
    """In a forked child: drop the inherited pool (without closing the parent's sockets)."""
    alive = engine()
    if alive is not None:
        alive.dispose(close=False)


def _change_log(metadata: Any, table: str) -> Any:
    """The change log: every ``put`` appends a row naming the key it wrote.

    SQLite: replicas poll past the last ``seq`` they saw. SQLite has one
    writer at a time, so ``seq`` (AUTOINCREMENT: never reused) grows in
    commit order: the change counter replicas follow.

    PostgreSQL: the row's ``seq`` is all its ``NOTIFY`` says; a replica reads
    the row, and the key's value from the table. Sequence numbers are not
    handed out in commit order there, which is why each notification names
    its own row rather than "everything up to".

    Replicas read only ``seq`` and ``key`` and take the value from the table;
    ``value`` and ``expires_at`` are still written, as older SQLite readers
    expect them.
    """
    return sa.Table(
        f"{table}_changes",
        metadata,
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=True),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sqlite_autoincrement=True,
    )


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
        self._registry = sa.Table(
            f"{table}_sessions",
            self._metadata,
            sa.Column("registry", sa.String(320), primary_key=True),
            sa.Column("member", sa.String(320), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
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
        self._changes = _change_log(self._metadata, table)
        self._polled = dialect == "sqlite"
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
        engine = sa.create_engine(url)
        # A server forking its workers after the app was built (gunicorn
        # --preload): each child must open its own connections, not share the
        # parent's sockets. close=False leaves the parent's connections alone.
        os.register_at_fork(after_in_child=functools.partial(_forget_pool, weakref.ref(engine)))
        return cls(engine, **kwargs)

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
            log = self._changes
            connection.execute(sa.delete(log).where(log.c.at < time.time() - CHANGE_RETENTION))

    def put(self, key: str, value: str, expires_at: float | None) -> None:
        expires_at = clamp_expiry(expires_at)
        statement = self._insert(self._table).values(key=key, value=value, expires_at=expires_at)
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "expires_at": expires_at}
        )

        def run() -> None:
            with self._engine.begin() as connection:
                connection.execute(statement)
                self._announce(connection, key, value, expires_at)
                self._maybe_sweep(connection)

        self._guard(run)

    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        table = self._table
        expires_at = clamp_expiry(expires_at)

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

    def registry_put(
        self, registry: str, member: str, value: str, expires_at: float | None
    ) -> None:
        table = self._registry
        expires_at = clamp_expiry(expires_at)
        statement = self._insert(table).values(
            registry=registry, member=member, value=value, expires_at=expires_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=["registry", "member"], set_={"value": value, "expires_at": expires_at}
        )

        def run() -> None:
            with self._engine.begin() as connection:
                connection.execute(statement)
                connection.execute(
                    sa.delete(table).where(
                        table.c.registry == registry, table.c.expires_at <= time.time()
                    )
                )

        self._guard(run)

    def registry_get(self, registry: str) -> Mapping[str, str]:
        table = self._registry
        query = sa.select(table.c.member, table.c.value).where(
            table.c.registry == registry,
            sa.or_(table.c.expires_at.is_(None), table.c.expires_at > time.time()),
        )

        def run() -> dict[str, str]:
            with self._reader.connect() as connection:
                return dict(connection.execute(query).all())

        found: dict[str, str] = self._guard(run)
        return found

    def registry_delete(self, registry: str, members: Sequence[str]) -> None:
        table = self._registry
        statement = sa.delete(table).where(
            table.c.registry == registry, table.c.member.in_(list(members))
        )

        def run() -> None:
            with self._engine.begin() as connection:
                connection.execute(statement)

        if members:
            self._guard(run)

    def ping(self) -> None:
        def run() -> None:
            with self._engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))

        self._guard(run)

    def close(self) -> None:
        self._engine.dispose()

    # -- Replication (:mod:`.replica`) -------------------------------------------

    @property
    def changes_channel(self) -> str:
        """PostgreSQL: the ``NOTIFY`` channel every ``put`` is announced on (the table's name)."""
        return str(self._table.name)

    def _announce(self, connection: Any, key: str, value: str, expires_at: float | None) -> None:
        """Tell replicas about a write, inside the write's own transaction.

        A change-log row names the key. SQLite's replicas poll for it;
        PostgreSQL's are sent its number with ``NOTIFY``, delivered on commit,
        in commit order. The notification says nothing more: any role that
        can connect can ``LISTEN`` (and ``NOTIFY``), whatever its grants.
        """
        log = self._changes
        row = sa.insert(log).values(key=key, value=value, expires_at=expires_at, at=time.time())
        if self._polled:
            connection.execute(row)
            return
        written = row.returning(log.c.seq).cte("written")
        connection.execute(
            sa.select(
                sa.func.pg_notify(self.changes_channel, sa.cast(written.c.seq, sa.Text))
            ).select_from(written)
        )

    def _last_change(self) -> int:
        """The newest change-log ``seq`` (0: none yet)."""
        log = self._changes

        def run() -> int:
            with self._reader.connect() as connection:
                return int(connection.execute(sa.select(sa.func.max(log.c.seq))).scalar() or 0)

        last: int = self._guard(run)
        return last

    def _changed(self, after: int | None, seqs: Sequence[int] = ()) -> tuple[int, list[Change]]:
        """What the change-log rows past ``after`` (or numbered ``seqs``) name, from the table.

        Returns the highest ``seq`` seen and the live records of the keys the
        rows name; a key no longer in the table (expired) gives nothing.
        """
        log, table = self._changes, self._table
        query = sa.select(log.c.seq, log.c.key, table.c.value, table.c.expires_at).select_from(
            log.outerjoin(table, log.c.key == table.c.key)
        )
        if after is not None:
            query = query.where(log.c.seq > after).order_by(log.c.seq)
        else:
            query = query.where(log.c.seq.in_(list(seqs)))

        def run() -> list[Any]:
            with self._reader.connect() as connection:
                return list(connection.execute(query).all())

        rows = self._guard(run)
        now = time.time()
        last = after or 0
        changes: dict[str, Change] = {}
        for seq, key, value, expires_at in rows:
            last = max(last, int(seq))
            if value is not None and (expires_at is None or expires_at > now):
                changes[str(key)] = Change(
                    str(key), str(value), None if expires_at is None else float(expires_at)
                )
        return last, list(changes.values())

    def follow_problem(self) -> str | None:
        if not self._polled and self._engine.dialect.driver != "psycopg":
            return (
                "the replica follows PostgreSQL with psycopg 3: use a postgresql+psycopg:// URL "
                f"(this engine's driver is {self._engine.dialect.driver})"
            )
        return None

    def records(self, prefixes: tuple[str, ...]) -> list[Change]:
        table = self._table
        query = sa.select(table.c.key, table.c.value, table.c.expires_at).where(
            sa.or_(*(table.c.key.startswith(prefix, autoescape=True) for prefix in prefixes)),
            sa.or_(table.c.expires_at.is_(None), table.c.expires_at > time.time()),
        )

        def run() -> list[Change]:
            with self._reader.connect() as connection:
                rows = connection.execute(query).all()
            return [Change(str(k), str(v), None if e is None else float(e)) for k, v, e in rows]

        result: list[Change] = self._guard(run)
        return result

    def follow(self) -> Feed:
        if self._polled:
            return _PollingFeed(self._changed, self._last_change)
        raw = self._guard(self._engine.raw_connection)
        raw.detach()  # LISTEN state must not go back into the pool
        return _NotifyFeed(raw.dbapi_connection, self.changes_channel, self._changed)


def _unavailable(exc: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(f"SQL revocation store: {type(exc).__name__}: {exc}")


#: Reads what change-log rows name: :meth:`SQLStore._changed`.
_Reader = Callable[..., tuple[int, list[Change]]]


class _NotifyFeed(Feed):
    """PostgreSQL ``LISTEN``: change-log numbers on the table's channel, beacons on our own.

    Notifications from different transactions arrive in commit order, so a
    beacon (itself a committed ``NOTIFY``) sent after a write committed comes
    back after that write's notification; the rows named before a beacon are
    read (one query) before the beacon is passed on. Any role can ``NOTIFY``
    on our channel: a number it sends makes us read a row of the log (which
    it cannot write) and the table; anything else is ignored.
    """

    def __init__(self, connection: Any, channel: str, read: _Reader) -> None:
        import psycopg
        from psycopg import sql

        self._psycopg = psycopg
        self._connection = connection
        self._channel = channel
        self._read = read
        self._ignored = IgnoredMessages(f"PostgreSQL channel {channel}")
        self._beacons = _BEACON_CHANNEL.format(uuid.uuid4().hex[:16])
        try:
            connection.autocommit = True
            for name in (channel, self._beacons):
                connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            self.close()
            raise _unavailable(exc) from None

    def beacon(self) -> str:
        token = uuid.uuid4().hex  # random: nobody can send it back before we do
        try:
            self._connection.execute("SELECT pg_notify(%s, %s)", (self._beacons, token))
        except self._psycopg.Error as exc:
            raise _unavailable(exc) from None
        return token

    def receive(self, timeout: float) -> list[Change | Ack]:
        items: list[Change | Ack] = []
        named: dict[int, None] = {}
        taken = 0
        try:
            wait = timeout
            while taken < MAX_RECEIVE:
                arrived = list(self._connection.notifies(timeout=wait, stop_after=1))
                if not arrived:
                    break
                wait = 0.0
                for notify in arrived:
                    taken += 1
                    if notify.channel == self._beacons:
                        items.extend(self._resolve(named))
                        named.clear()
                        items.append(Ack(notify.payload))
                        continue
                    seq = parse_hint(notify.payload)
                    if isinstance(seq, int) and 0 < seq <= _MAX_SEQ:
                        named[seq] = None
                    else:
                        self._ignored.note("not a change-log number")
        except self._psycopg.Error as exc:
            raise _unavailable(exc) from None
        items.extend(self._resolve(named))
        return items

    def _resolve(self, named: dict[int, None]) -> list[Change]:
        return self._read(None, list(named))[1] if named else []

    def close(self) -> None:
        self._connection.close()


class _PollingFeed(Feed):
    """SQLite: poll the change log past the last ``seq`` seen, once per beacon.

    A poll that starts after a beacon was sent sees every change committed
    before it, so it answers that beacon. The log names keys; their values
    are read from the table in the same query. Whoever can write the log can
    write the table itself (both are in the database file), so the log is no
    weaker a point than the table.
    """

    def __init__(self, read: _Reader, last: Callable[[], int]) -> None:
        self._read = read
        self._pending: list[str] = []
        self._last_seq = last()
        self._last_poll = time.monotonic()

    def beacon(self) -> str:
        token = uuid.uuid4().hex
        self._pending.append(token)
        return token

    def receive(self, timeout: float) -> list[Change | Ack]:
        if not self._pending:
            time.sleep(timeout)
            return []
        if time.monotonic() - self._last_poll > CHANGE_RETENTION / 2:
            raise StoreUnavailableError("SQL revocation store: the change log moved on; resyncing")
        self._last_seq, changes = self._read(self._last_seq)
        self._last_poll = time.monotonic()
        items: list[Change | Ack] = list(changes)
        items.extend(Ack(token) for token in self._pending)
        self._pending = []
        return items

    def close(self) -> None:
        self._pending = []
