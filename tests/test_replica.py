"""The local revocation replica (``JWT_REVOCATION_REPLICA``) on real Redis, PostgreSQL and SQLite.

What is specified here: a replica answers like its store once it has proved
itself fresh; it asks the store whenever it cannot prove that (not started
yet, subscription lost, server down, server frozen); writes and refresh-token
reuse detection go to the store; records expire from it no earlier than from
the store. Waits are bounded loops with generous deadlines, never timing
assertions.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import sqlalchemy as sa
from flask import Flask, jsonify
from psycopg import sql

import flask_jwtx
from flask_jwtx._core.revocation.base import Ack, Change, Feed
from flask_jwtx._core.revocation.factory import make_replica, make_store
from flask_jwtx._core.revocation.memory import MemoryStore
from flask_jwtx._core.revocation.policy import ANY_ISSUER, record_key
from flask_jwtx._core.revocation.redis import RedisStore
from flask_jwtx._core.revocation.replica import Replica, merged
from flask_jwtx.exceptions import ConfigurationError, StoreUnavailableError

from .helpers import SECRET, bearer
from .stores import PostgresServer, RedisServer, sqlite_url

#: A bound short enough for tests to watch it work.
BOUND = 0.5
#: How long any wait may take before the test fails (a busy 2-core machine).
DEADLINE = 30.0

_OPENED: list[Any] = []


@pytest.fixture(autouse=True)
def _close_everything() -> Iterator[None]:
    yield
    while _OPENED:
        item = _OPENED.pop()
        if isinstance(item, Flask):
            item.extensions["flask-jwtx"].manager.close(item)
        else:
            item.close()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        return server.url
    if kind == "sqlite":
        return sqlite_url(tmp_path)
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    return postgres.url


@pytest.fixture(params=["redis", "postgresql", "sqlite"])
def url_and_table(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    return store_url(request.param, request, tmp_path), f"rev_{uuid.uuid4().hex[:12]}"


def build(url: str, table: str = "jwtx_revocations", **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        JWT_SECRET_KEY=SECRET,
        JWT_REVOCATION_STORE=url,
        JWT_REVOCATION_TABLE=table,
        **config,
    )
    flask_jwtx.JWTManager(app)
    _OPENED.append(app)

    @app.get("/me")
    @flask_jwtx.jwt_required()
    def me() -> Any:
        return jsonify(sub=flask_jwtx.get_jwt_identity())

    @app.post("/refresh")
    @flask_jwtx.jwt_required(refresh=True)
    def refresh() -> Any:
        access, refresh_token = flask_jwtx.rotate_refresh_token()
        return jsonify(access_token=access, refresh_token=refresh_token)

    return app


def replicated(url: str, table: str = "jwtx_revocations", **config: Any) -> Flask:
    return build(
        url,
        table,
        JWT_REVOCATION_REPLICA=True,
        JWT_REVOCATION_REPLICA_MAX_STALENESS=BOUND,
        **config,
    )


def replica_of(app: Flask) -> Replica:
    store = app.extensions["flask-jwtx"].settings.get().revocation_store
    assert isinstance(store, Replica)
    return store


def status(app: Flask, token: str, path: str = "/me") -> int:
    method = "POST" if path == "/refresh" else "GET"
    response = app.test_client().open(path, method=method, headers=bearer(token))
    return response.status_code


def access(app: Flask, identity: str = "alice") -> str:
    with app.app_context():
        return flask_jwtx.create_access_token(identity)


def warm(app: Flask, token: str) -> Replica:
    """Send requests until the app's replica answers locally; return it."""
    replica = replica_of(app)

    def fresh() -> bool:
        status(app, token)
        return replica.fresh()

    wait_until(fresh, "the replica proved itself fresh")
    return replica


class TestReplicaAnswersLikeTheStore:
    def test_a_revocation_made_elsewhere_is_refused_within_the_bound(
        self, url_and_table: tuple[str, str]
    ) -> None:
        writer, reader = build(*url_and_table), replicated(*url_and_table)
        token, other = access(writer), access(writer, "bob")
        replica = warm(reader, other)
        with writer.app_context():
            flask_jwtx.revoke_token(token)
        wait_until(lambda: status(reader, token) == 401, "the revocation reached the replica")
        assert replica.fresh(), "the refusal came from the replica, not the store"
        assert status(reader, other) == 200

    def test_logout_everywhere_and_records_made_before_it_started(
        self, url_and_table: tuple[str, str]
    ) -> None:
        writer = build(*url_and_table)
        early = access(writer)
        with writer.app_context():
            flask_jwtx.revoke_token(early)
        reader = replicated(*url_and_table)
        replica = warm(reader, access(writer, "bob"))
        assert len(replica) == 1, "the snapshot holds the record made before the replica started"
        assert status(reader, early) == 401
        late = access(writer, "carol")
        with writer.app_context():
            flask_jwtx.revoke_all("carol")
        wait_until(lambda: status(reader, late) == 401, "the watermark reached the replica")

    def test_the_first_request_is_answered_by_the_store(
        self, url_and_table: tuple[str, str]
    ) -> None:
        writer, reader = build(*url_and_table), replicated(*url_and_table)
        token = access(writer)
        with writer.app_context():
            flask_jwtx.revoke_token(token)
        assert not replica_of(reader).fresh()
        assert status(reader, token) == 401

    def test_revocations_made_through_the_replica_show_at_once(
        self, url_and_table: tuple[str, str]
    ) -> None:
        reader = replicated(*url_and_table)
        token = access(reader)
        replica = warm(reader, access(reader, "bob"))
        with reader.app_context():
            flask_jwtx.revoke_token(token)
        assert replica.fresh()
        assert status(reader, token) == 401
        assert status(build(*url_and_table), token) == 401, "the write went to the store"

    def test_refresh_reuse_detection_stays_atomic_in_the_store(
        self, url_and_table: tuple[str, str]
    ) -> None:
        config: dict[str, Any] = {"JWT_REFRESH_TOKEN_ROTATION": True, "JWT_REFRESH_REUSE_GRACE": 0}
        one, two = replicated(*url_and_table, **config), replicated(*url_and_table, **config)
        warm(one, access(one)), warm(two, access(two))
        with one.app_context():
            refresh = flask_jwtx.create_refresh_token("alice")
        assert status(one, refresh, "/refresh") == 200
        # At once, on another instance: the used marker is read from the store.
        assert status(two, refresh, "/refresh") == 401
        assert len(replica_of(two)) >= 1, "the family revoked for reuse is replicated"

    def test_first_use_of_a_replicated_kind_is_published(
        self, url_and_table: tuple[str, str]
    ) -> None:
        reader = replicated(*url_and_table)
        other = make_replica(
            make_store(url_and_table[0], table=url_and_table[1]), BOUND, owns_store=True
        )
        _OPENED.append(other)
        replica = warm(reader, access(reader))
        assert other.put_if_absent("jti:first", "1", time.time() + 60) is None
        assert other.put_if_absent("jti:first", "2", time.time() + 60) == "1"
        assert other.put_if_absent("used:x", "5", time.time() + 60) is None
        wait_until(lambda: replica.get_many(["jti:first"]) == ["1"], "the first write arrived")
        assert replica.get_many(["used:x"]) == ["5"], "used markers are read from the store"

    def test_expired_records_leave_the_replica(self, url_and_table: tuple[str, str]) -> None:
        reader = replicated(*url_and_table)
        replica = warm(reader, access(reader))
        replica.put("jti:short", "1", time.time() + 1.5)
        replica.put("jti:long", "1", time.time() + 600)
        assert replica.get_many(["jti:short", "jti:long"]) == ["1", "1"]
        wait_until(lambda: replica.get_many(["jti:short"]) == [None], "the short record expired")
        wait_until(lambda: len(replica) == 1, "the sweep dropped the expired record")
        assert replica.get_many(["jti:long"]) == ["1"]


class TestExpiryIsNeverEarlierThanTheStore:
    def test_redis_snapshot_and_feed(self, redis_server: RedisServer) -> None:
        redis_server.flush()
        writer = make_store(redis_server.url)
        _OPENED.append(writer)
        writer.put("jti:before", "1", time.time() + 100.2)
        app = replicated(redis_server.url)
        replica = warm(app, access(app))
        writer.put("jti:after", "1", time.time() + 100.2)
        wait_until(lambda: replica.get_many(["jti:after"]) == ["1"], "the feed delivered")
        client = redis.Redis(unix_socket_path=redis_server.socket)
        for key in ("jti:before", "jti:after"):
            store_expiry = time.time() + client.pttl(f"jwtx:{key}") / 1000
            local_expiry = replica._data[key][1]
            assert local_expiry is not None
            assert local_expiry >= store_expiry - 0.01  # ms rounding of PTTL itself
        client.close()

    def test_sql_keeps_the_exact_expiry(self, tmp_path: Path) -> None:
        url = sqlite_url(tmp_path)
        writer = make_store(url)
        _OPENED.append(writer)
        expiry = time.time() + 100.25
        writer.put("jti:before", "1", expiry)
        app = replicated(url)
        replica = warm(app, access(app))
        assert replica._data["jti:before"] == ("1", expiry)


class TestWhenFreshnessCannotBeProved:
    """Lost subscriptions, dead or frozen servers: the replica stops answering within the bound."""

    @pytest.fixture(params=["redis", "postgresql"])
    def own_server(self, request: pytest.FixtureRequest) -> Iterator[Any]:
        server: RedisServer | PostgresServer = (
            RedisServer() if request.param == "redis" else PostgresServer()
        )
        try:
            yield server
        finally:
            server.stop()

    def test_server_down_means_503_then_recovery_without_restarting(
        self, own_server: RedisServer | PostgresServer
    ) -> None:
        writer, reader = build(own_server.url), replicated(own_server.url)
        revoked, fine = access(writer), access(writer, "bob")
        with writer.app_context():
            flask_jwtx.revoke_token(revoked)
        replica = warm(reader, fine)
        own_server.stop()
        wait_until(lambda: not replica.fresh(), "the replica noticed it cannot prove freshness")
        for token in (revoked, fine):
            assert status(reader, token) == 503
        own_server.start()
        wait_until(lambda: status(reader, fine) == 200 and replica.fresh(), "it recovered")
        assert status(reader, revoked) == 401

    def test_fail_open_lets_requests_through_only_when_the_store_is_down(
        self, own_server: RedisServer | PostgresServer
    ) -> None:
        reader = replicated(own_server.url, JWT_REVOCATION_FAILURE_POLICY="open")
        token = access(reader)
        replica = warm(reader, token)
        own_server.stop()
        wait_until(lambda: not replica.fresh(), "the replica went stale")
        assert status(reader, token) == 200
        own_server.start()

    def test_redis_subscription_killed_while_the_server_stays_up(
        self, redis_server: RedisServer
    ) -> None:
        redis_server.flush()
        writer, reader = build(redis_server.url), replicated(redis_server.url)
        token, other = access(writer), access(writer, "bob")
        replica = warm(reader, other)
        admin = redis.Redis(unix_socket_path=redis_server.socket)
        admin.client_kill_filter(_type="pubsub")
        # Revoked while the subscription is gone: only a new snapshot can bring it in.
        with writer.app_context():
            flask_jwtx.revoke_token(token)
        wait_until(lambda: status(reader, token) == 401, "the revocation was seen")
        wait_until(lambda: status(reader, other) == 200 and replica.fresh(), "fresh again")
        assert status(reader, token) == 401
        admin.close()

    def test_postgres_listener_terminated(self, postgres_server: PostgresServer) -> None:
        table = f"rev_{uuid.uuid4().hex[:12]}"
        writer, reader = build(postgres_server.url, table), replicated(postgres_server.url, table)
        token, other = access(writer), access(writer, "bob")
        replica = warm(reader, other)
        admin = sa.create_engine(postgres_server.url)
        with admin.begin() as connection:
            ended = connection.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() "
                    "AND (query LIKE '%pg_notify%' OR query LIKE 'LISTEN%')"
                )
            ).scalar()
        admin.dispose()
        assert ended
        with writer.app_context():
            flask_jwtx.revoke_token(token)
        wait_until(lambda: status(reader, token) == 401, "the revocation was seen")
        wait_until(lambda: status(reader, other) == 200 and replica.fresh(), "fresh again")

    @pytest.mark.slow  # its own redis-server, and the wait for the freshness bound
    def test_a_frozen_redis_stops_local_answers_within_the_bound(self) -> None:
        """No error, no closed socket: beacons simply stop coming back."""
        server = RedisServer()
        try:
            reader = replicated(server.url)
            token = access(reader)
            replica = warm(reader, token)
            os.kill(server._server.pid, signal.SIGSTOP)
            try:
                wait_until(lambda: not replica.fresh(), "the replica went stale")
                assert status(reader, token) == 503, "the store, asked instead, cannot answer"
            finally:
                os.kill(server._server.pid, signal.SIGCONT)
            wait_until(lambda: status(reader, token) == 200 and replica.fresh(), "fresh again")
        finally:
            server.stop()

    def test_closing_stops_local_answers_and_the_follower(
        self, url_and_table: tuple[str, str]
    ) -> None:
        app = replicated(*url_and_table)
        replica = warm(app, access(app))
        replica.close()
        assert not replica.fresh()
        with contextlib.suppress(StoreUnavailableError):  # its store was closed too
            replica.get_many(["jti:x"])
        assert replica._thread is None, "a closed replica starts no new follower"
        assert not replica.fresh()


class TestForkSafety:
    def test_nothing_starts_before_the_first_request(self, redis_server: RedisServer) -> None:
        app = replicated(redis_server.url)
        assert replica_of(app)._thread is None
        status(app, access(app))
        assert replica_of(app)._thread is not None

    def test_a_forked_child_follows_on_its_own(self, redis_server: RedisServer) -> None:
        redis_server.flush()
        app = replicated(redis_server.url)
        token = access(app)
        replica = warm(app, token)
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through its exit code
            code = 1
            try:
                deadline = time.monotonic() + DEADLINE
                while time.monotonic() < deadline:
                    if (
                        status(app, token) == 200
                        and replica.fresh()
                        and replica._pid == os.getpid()
                    ):
                        code = 0
                        break
                    time.sleep(0.01)
            finally:
                os._exit(code)
        _, exit_status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(exit_status) == 0
        assert replica.fresh() or status(app, token) == 200, "the parent's replica still works"


class TestConfiguration:
    def test_off_by_default_reads_the_store(self, redis_server: RedisServer) -> None:
        app = build(redis_server.url)
        store = app.extensions["flask-jwtx"].settings.get().revocation_store
        assert not isinstance(store, Replica)

    @pytest.mark.parametrize(
        ("config", "message"),
        [
            ({"JWT_REVOCATION_STORE": None}, "no store to replicate"),
            ({"JWT_REVOCATION_STORE": "memory://"}, "memory:// is already in this process"),
            ({"JWT_REVOCATION_REPLICA_MAX_STALENESS": 0}, "positive number of seconds"),
            ({"JWT_REVOCATION_REPLICA_MAX_STALENESS": -1}, "positive number of seconds"),
            ({"JWT_REVOCATION_REPLICA_MAX_STALENESS": True}, "positive number of seconds"),
            ({"JWT_REVOCATION_REPLICA_MAX_STALENESS": "1"}, "positive number of seconds"),
            ({"JWT_REVOCATION_REPLICA_MAX_STALENESS": float("inf")}, "positive number"),
            ({"JWT_REVOCATION_STORE": MemoryStore()}, "publishes no changes"),
        ],
    )
    def test_refused_at_startup(
        self, redis_server: RedisServer, config: dict[str, Any], message: str
    ) -> None:
        app = Flask(__name__)
        app.config.update(
            JWT_SECRET_KEY=SECRET,
            JWT_REVOCATION_STORE=redis_server.url,
            JWT_REVOCATION_REPLICA=True,
        )
        app.config.update(config)
        with pytest.raises(ConfigurationError, match=message):
            flask_jwtx.JWTManager(app)

    def test_a_bad_staleness_is_refused_even_with_the_replica_off(self) -> None:
        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_REPLICA_MAX_STALENESS=0)
        with pytest.raises(ConfigurationError, match="JWT_REVOCATION_REPLICA_MAX_STALENESS"):
            flask_jwtx.JWTManager(app)

    def test_timedelta_staleness_and_the_apps_own_client(self, redis_server: RedisServer) -> None:
        client = redis.Redis(unix_socket_path=redis_server.socket)
        app = build(
            client,  # type: ignore[arg-type]
            JWT_REVOCATION_REPLICA=True,
            JWT_REVOCATION_REPLICA_MAX_STALENESS=timedelta(milliseconds=500),
        )
        replica = warm(app, access(app))
        assert replica.max_staleness == 0.5
        app.extensions["flask-jwtx"].manager.close(app)
        assert not replica.fresh(), "closing the app stopped the replica"
        assert client.ping(), "but left the app's own client open"
        client.close()

    def test_postgres_needs_psycopg_3(self, postgres_server: PostgresServer) -> None:
        engine = sa.create_engine(postgres_server.url)
        store = make_store(engine)
        # The engine's driver name is what decides; pretend another driver was chosen.
        engine.dialect.driver = "psycopg2"
        with pytest.raises(ConfigurationError, match="psycopg 3"):
            make_replica(store, 1.0, owns_store=False)
        engine.dispose()

    def test_the_default_bound(self) -> None:
        from flask_jwtx._core.config.schema import DEFAULTS

        assert DEFAULTS["JWT_REVOCATION_REPLICA_MAX_STALENESS"] == 1.0
        assert DEFAULTS["JWT_REVOCATION_REPLICA"] is False


class TestReplicaObject:
    """The Flask-free replica, used directly."""

    def test_bound_must_be_positive(self, tmp_path: Path) -> None:
        store = make_store(sqlite_url(tmp_path))
        _OPENED.append(store)
        with pytest.raises(ValueError, match="positive"):
            Replica(store, 0)

    def test_ping_and_len_reach_through(self, tmp_path: Path) -> None:
        replica = make_replica(make_store(sqlite_url(tmp_path)), BOUND, owns_store=True)
        _OPENED.append(replica)
        replica.ping()
        replica.put("jti:a", "1", None)
        assert len(replica) == 1
        assert replica.get_many(["jti:a", "jti:b"]) == ["1", None], "read from the store"


# -- What the change feed trusts (docs/replica.md, "What the feed trusts") -----------

#: A bound long enough that a replica proved fresh stays fresh while a test looks.
PATIENT = 5.0


def patient(url: str, table: str = "jwtx_revocations") -> Flask:
    return build(
        url, table, JWT_REVOCATION_REPLICA=True, JWT_REVOCATION_REPLICA_MAX_STALENESS=PATIENT
    )


def settle(replica: Replica) -> None:
    """Wait for a beacon sent from now on to come back: all published before it was handled."""
    now = time.monotonic()
    wait_until(lambda: replica._fresh_at > now, "a beacon sent after the messages came back")


def claims_of(app: Flask, token: str) -> dict[str, Any]:
    with app.app_context():
        return flask_jwtx.decode_token(token)


@pytest.fixture
def stranger(postgres_server: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    """A PostgreSQL role that can log in and nothing more: no grant on any table."""
    name = f"stranger_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_server.url)
    with admin.begin() as setup:
        setup.execute(sa.text(f'CREATE ROLE "{name}" LOGIN'))
    admin.dispose()
    url = sa.engine.make_url(postgres_server.url).set(drivername="postgresql", username=name)
    connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    yield connection
    connection.close()


class Channel:
    """The change channel of a store, as someone outside the app can publish on it."""

    def __init__(self, url: str, table: str, publish: Callable[[str], None]) -> None:
        self.url = url
        self.table = table
        self.publish = publish


@pytest.fixture(params=["redis", "postgresql"])
def channel(request: pytest.FixtureRequest) -> Iterator[Channel]:
    """Redis: any client allowed to PUBLISH. PostgreSQL: a role with no grant at all."""
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        client = redis.Redis(unix_socket_path=server.socket)

        def publish(payload: str) -> None:
            client.publish("jwtx:changes", payload)

        yield Channel(server.url, "jwtx_revocations", publish)
        client.close()
        return
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    outsider: psycopg.Connection[Any] = request.getfixturevalue("stranger")
    table = f"rev_{uuid.uuid4().hex[:12]}"

    def notify(payload: str) -> None:
        outsider.execute("SELECT pg_notify(%s, %s)", (table, payload))

    yield Channel(postgres.url, table, notify)


class TestTheFeedIsOnlyAHint:
    """A message on the change channel can make a replica read the store, and nothing else."""

    def test_a_forged_change_cannot_shorten_a_revocation(self, channel: Channel) -> None:
        """A message saying a revoked token's record expired long ago leaves it refused."""
        writer, reader = build(channel.url, channel.table), patient(channel.url, channel.table)
        token = access(writer)
        with writer.app_context():
            flask_jwtx.revoke_token(token)
        replica = warm(reader, access(writer, "bob"))
        assert status(reader, token) == 401
        key = record_key("jti", None, claims_of(writer, token)["jti"])
        channel.publish(json.dumps([key, "1", time.time() - 3600]))  # the old message format
        settle(replica)
        assert status(reader, token) == 401
        assert replica.fresh(), "the refusal came from the replica itself"
        channel.publish(key)  # a key alone: the replica reads it from the store, and keeps it
        settle(replica)
        assert status(reader, token) == 401
        assert status(build(channel.url, channel.table), token) == 401, "the store still holds it"

    def test_a_forged_change_cannot_lower_a_logout_everywhere(self, channel: Channel) -> None:
        """A message saying an identity's watermark is 0 leaves its older tokens refused."""
        writer, reader = build(channel.url, channel.table), patient(channel.url, channel.table)
        token = access(writer)
        with writer.app_context():
            flask_jwtx.revoke_all("alice")
        replica = warm(reader, access(writer, "bob"))
        assert status(reader, token) == 401
        for issuer in (None, ANY_ISSUER):  # revoke_all writes both watermarks
            key = record_key("sub", issuer, "alice")
            channel.publish(json.dumps([key, "0", None]))
            channel.publish(json.dumps([key, "0", time.time() - 1]))
        settle(replica)
        assert status(reader, token) == 401
        assert replica.fresh()

    def test_garbage_on_the_channel_is_ignored_once_logged_and_never_resyncs(
        self, channel: Channel, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Bad JSON, huge and key-less messages: the follower keeps its feed and its answers."""
        writer, reader = build(channel.url, channel.table), patient(channel.url, channel.table)
        token, other = access(writer), access(writer, "bob")
        with writer.app_context():
            flask_jwtx.revoke_token(token)
        replica = warm(reader, other)
        feed = replica._feed
        garbage = ["{not json", "[", "null", "", "x" * 7000, "9" * 400, "-1", "\x01\x7f", "jti:é"]
        garbage += ["jti:", "sub:" + "A" * 300, "[1, 2, 3]", '["jti:x", "1"]'] * 20
        with caplog.at_level("WARNING", logger="flask_jwtx.revocation"):
            for payload in garbage:
                channel.publish(payload)
            settle(replica)
        assert replica._feed is feed, "the follower did not start over"
        assert status(reader, token) == 401
        assert status(reader, other) == 200
        assert replica.fresh()
        ignored = [r for r in caplog.records if "ignored" in r.getMessage()]
        assert len(ignored) == 1, "one line for the flood, not one per message"
        assert "x" * 100 not in ignored[0].getMessage(), "what was sent is not echoed"

    def test_redis_announces_the_key_alone(self, redis_server: RedisServer) -> None:
        """A subscriber sees which key changed: no value, no expiry."""
        redis_server.flush()
        writer = build(redis_server.url)
        listener = redis.Redis(unix_socket_path=redis_server.socket).pubsub()  # type: ignore[no-untyped-call]
        listener.subscribe("jwtx:changes")
        token = access(writer)
        with writer.app_context():
            flask_jwtx.revoke_token(token)
        seen: list[bytes] = []
        wait_until(lambda: _collect(listener, seen), "the announcement arrived")
        key = record_key("jti", None, claims_of(writer, token)["jti"])
        assert seen == [key.encode()]
        listener.close()

    def test_a_redis_hint_naming_a_key_of_another_type_is_skipped(
        self, redis_server: RedisServer
    ) -> None:
        """A message may name any key: one holding a hash is skipped, and the feed is kept."""
        redis_server.flush()
        reader = patient(redis_server.url)
        token = access(reader)
        replica = warm(reader, token)
        feed = replica._feed
        client = redis.Redis(unix_socket_path=redis_server.socket)
        client.hset("jwtx:jti:not-a-string", "a", "b")
        client.publish("jwtx:changes", "jti:not-a-string")
        settle(replica)
        assert replica._feed is feed, "the follower did not start over"
        assert "jti:not-a-string" not in replica._data
        assert status(reader, token) == 200
        client.close()

    def test_a_listening_role_without_grants_learns_nothing(
        self, postgres_server: PostgresServer, stranger: psycopg.Connection[Any]
    ) -> None:
        """LISTEN needs no privilege: the notifications carry only a change-log number."""
        table = f"rev_{uuid.uuid4().hex[:12]}"
        writer = build(postgres_server.url, table)
        stranger.execute(sql.SQL("LISTEN {}").format(sql.Identifier(table)))
        token = access(writer)
        claims = claims_of(writer, token)
        with writer.app_context():
            flask_jwtx.revoke_token(token)
            flask_jwtx.revoke_all("alice")
        # Notifications arrive in commit order: once our own comes back, the
        # writer's (committed before it) have all arrived.
        stranger.execute("SELECT pg_notify(%s, 'end')", (table,))
        payloads: list[str] = []
        deadline = time.monotonic() + DEADLINE
        while "end" not in payloads and time.monotonic() < deadline:
            payloads.extend(n.payload for n in stranger.notifies(timeout=1.0, stop_after=1))
        assert payloads[-1] == "end"
        payloads.pop()
        assert len(payloads) >= 2, "a revocation and a watermark were announced"
        secrets = [
            claims["jti"],
            "alice",
            record_key("jti", None, claims["jti"]).split(":")[1],
            record_key("sub", None, "alice").split(":")[1],
            str(int(claims["exp"]))[:6],
        ]
        for payload in payloads:
            assert payload.isdigit(), payload
            assert not any(secret in payload for secret in secrets)
        for name in (table, f"{table}_changes"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                stranger.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(name)))

    def test_a_row_slipped_into_the_sqlite_change_log_cannot_unrevoke(
        self, tmp_path: Path
    ) -> None:
        """The log names keys; values come from the table, so a lying row changes nothing."""
        url = sqlite_url(tmp_path)
        writer, reader = build(url), patient(url)
        token = access(writer)
        with writer.app_context():
            flask_jwtx.revoke_token(token)
        replica = warm(reader, access(writer, "bob"))
        key = record_key("jti", None, claims_of(writer, token)["jti"])
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO jwtx_revocations_changes (key, value, expires_at, at) "
                    "VALUES (:key, '1', :past, :now)"
                ),
                {"key": key, "past": time.time() - 3600, "now": time.time()},
            )
        engine.dispose()
        settle(replica)
        assert status(reader, token) == 401
        assert replica.fresh()

    def test_a_beacon_the_replica_did_not_send_proves_nothing(
        self, redis_server: RedisServer
    ) -> None:
        """Beacon tokens are random: messages on the beacon channel cannot make a replica fresh."""
        redis_server.flush()
        client = redis.Redis(unix_socket_path=redis_server.socket)
        replica = Replica(_SilentBeaconStore(client), BOUND, owns_store=False)
        _OPENED.append(replica)
        replica.get_many(["jti:start"])  # starts the follower
        wait_until(lambda: client.pubsub_channels("jwtx:beacon:*") != [], "it subscribed")
        [beacons] = client.pubsub_channels("jwtx:beacon:*")
        for token in [uuid.uuid4().hex for _ in range(200)] + ["", "0" * 32, "null"]:
            client.publish(beacons, token)
        RedisStore(client).put("jti:marker", "1", time.time() + 60)  # after the forgeries
        wait_until(lambda: "jti:marker" in replica._data, "the feed handled what came before")
        assert not replica.fresh()
        assert replica.get_many(["jti:marker"]) == ["1"], "read from the store"
        client.close()


class _SilentBeacons(Feed):
    """A real feed whose beacons are never sent: only a forged one could come back."""

    def __init__(self, feed: Feed) -> None:
        self._feed = feed

    def beacon(self) -> str:
        return uuid.uuid4().hex

    def receive(self, timeout: float) -> list[Change | Ack]:
        return self._feed.receive(timeout)

    def close(self) -> None:
        self._feed.close()


class _SilentBeaconStore(RedisStore):
    def follow(self) -> Feed:
        return _SilentBeacons(super().follow())


def _collect(listener: Any, seen: list[bytes]) -> bool:
    message = listener.get_message(timeout=0.1)
    if message is not None and message["type"] == "message":
        seen.append(message["data"])
    return bool(seen)


class TestTheCopyOnlyGrowsStricter:
    """Whatever reaches the follower, an entry is never shortened, lowered or removed."""

    def test_the_later_expiry_wins(self) -> None:
        """An earlier expiry never replaces a later one; never expiring beats any time."""
        assert merged("jti:a", ("1", 200.0), Change("jti:a", "1", 100.0)) == ("1", 200.0)
        assert merged("jti:a", ("1", 100.0), Change("jti:a", "1", 200.0)) == ("1", 200.0)
        assert merged("jti:a", ("1", None), Change("jti:a", "1", 100.0)) == ("1", None)
        assert merged("jti:a", ("1", 100.0), Change("jti:a", "1", None)) == ("1", None)
        assert merged("jti:a", None, Change("jti:a", "1", 5.0)) == ("1", 5.0)

    def test_the_higher_watermark_wins(self) -> None:
        """A lower or unreadable watermark never replaces a higher one."""
        assert merged("sub:a", ("2000", None), Change("sub:a", "1000", None)) == ("2000", None)
        assert merged("sub:a", ("1000", None), Change("sub:a", "2000", None)) == ("2000", None)
        assert merged("sub:a", ("1000", None), Change("sub:a", "x", None)) == ("1000", None)

    def test_a_replica_keeps_what_it_held_against_an_older_read(self, tmp_path: Path) -> None:
        """Applying a weaker record (a stale read, a lie) leaves the stronger one in place."""
        replica = make_replica(make_store(sqlite_url(tmp_path)), BOUND, owns_store=True)
        _OPENED.append(replica)
        replica.put("jti:a", "1", time.time() + 600)
        replica._apply(Change("jti:a", "1", time.time() - 1))
        assert replica._data["jti:a"][1] is not None
        assert replica._data["jti:a"][1] > time.time() + 500
