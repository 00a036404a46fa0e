"""Sessions: a login is one session, listed and ended on every store, by any instance."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask, jsonify
from flask.testing import FlaskClient

import flask_jwtx
from flask_jwtx import signals
from flask_jwtx._core.revocation.base import RevocationStore, StoreUnavailableError
from flask_jwtx._core.revocation.factory import make_store
from flask_jwtx._core.revocation.memory import MemoryStore
from flask_jwtx._core.revocation.policy import CLOCK_MARGIN, record_key
from flask_jwtx._core.revocation.registry import (
    Session,
    SessionContentionError,
    ended_record,
    index_key,
    owner_of,
    parse,
    registry_name,
)
from flask_jwtx.cli import jwt_cli
from flask_jwtx.exceptions import ConfigurationError

from .helpers import SECRET, bearer, closed_after_test, make_app
from .stores import store_config


def build(**config: Any) -> Flask:
    """An app with a protected route and a rotating refresh route."""
    app = make_app(JWT_REFRESH_TOKEN_ROTATION=True, JWT_REFRESH_REUSE_GRACE=0, **config)

    @app.get("/protected")
    @flask_jwtx.jwt_required()
    def protected() -> Any:
        return jsonify(session=flask_jwtx.current_session_id())

    @app.post("/refresh")
    @flask_jwtx.jwt_required(refresh=True)
    def refresh() -> Any:
        access, refresh = flask_jwtx.rotate_refresh_token()
        return jsonify(access_token=access, refresh_token=refresh)

    return closed_after_test(app)


def login(app: Flask, identity: Any, **options: Any) -> tuple[str, str]:
    with app.test_request_context(headers={"User-Agent": "pytest-browser/1.0"}):
        return flask_jwtx.create_token_pair(identity, **options)


def status(client: FlaskClient, token: str) -> int:
    return client.get("/protected", headers=bearer(token)).status_code


def sessions(app: Flask, identity: Any) -> list[Session]:
    with app.app_context():
        return flask_jwtx.list_sessions(identity)


def revoke(app: Flask, session_id: str, **options: Any) -> bool:
    with app.app_context():
        return flask_jwtx.revoke_session(session_id, **options)


def test_the_login_access_token_is_refused_once_reuse_ends_its_session(
    any_store: dict[str, Any],
) -> None:
    app = build(**any_store)
    client = app.test_client()
    access, first_refresh = login(app, "alice")
    assert status(client, access) == 200
    rotated = client.post("/refresh", headers=bearer(first_refresh))
    assert rotated.status_code == 200
    replay = client.post("/refresh", headers=bearer(first_refresh))
    assert replay.status_code == 401
    assert status(client, access) == 401, "the login's own access token belongs to the session"
    assert status(client, rotated.get_json()["access_token"]) == 401
    assert sessions(app, "alice") == []


def test_a_login_is_one_session_carried_by_rotation(any_store: dict[str, Any]) -> None:
    app = build(**any_store)
    client = app.test_client()
    access, refresh = login(app, "alice")
    [session] = sessions(app, "alice")
    assert client.get("/protected", headers=bearer(access)).json == {"session": session.id}
    assert session.refreshed is None
    assert session.metadata == {}, "client metadata is off by default"
    rotated = client.post("/refresh", headers=bearer(refresh)).get_json()
    assert client.get("/protected", headers=bearer(rotated["access_token"])).json == {
        "session": session.id
    }
    [after] = sessions(app, "alice")
    assert after.id == session.id
    assert after.refreshed is not None
    assert after.expires is not None
    assert session.expires is not None
    assert after.expires >= session.expires


def test_sessions_listed_and_ended_across_two_instances(shared_store: dict[str, Any]) -> None:
    one, two = build(**shared_store), build(**shared_store)
    phone, _ = login(one, "alice")
    laptop, _ = login(one, "alice")
    listed = sessions(two, "alice")
    assert len(listed) == 2
    phone_id = next(s.id for s in listed if s.created == min(x.created for x in listed))
    assert revoke(two, phone_id) is True
    assert status(one.test_client(), phone) == 401
    assert status(two.test_client(), phone) == 401
    assert status(one.test_client(), laptop) == 200
    assert [s.id for s in sessions(one, "alice")] != [phone_id]
    assert len(sessions(one, "alice")) == 1
    assert revoke(one, phone_id) is False, "an ended session cannot be ended twice"


def test_revoke_session_with_identity_ends_only_that_identitys(any_store: dict[str, Any]) -> None:
    app = build(**any_store)
    access, _ = login(app, "alice")
    [alice] = sessions(app, "alice")
    assert revoke(app, alice.id, identity="bob") is False
    assert status(app.test_client(), access) == 200
    assert revoke(app, alice.id, identity="alice") is True
    assert status(app.test_client(), access) == 401
    assert revoke(app, "no-such-session") is False
    assert revoke(app, "x" * 5000 + "\x00\ud800", identity="alice") is False


def test_the_session_limit_ends_the_oldest(any_store: dict[str, Any]) -> None:
    app = build(JWT_SESSION_LIMIT=2, **any_store)
    ended: list[dict[str, Any]] = []

    def on_end(_app: Flask, **extra: Any) -> None:
        ended.append(extra)

    signals.session_ended.connect(on_end)
    try:
        tokens = [login(app, "alice")[0] for _ in range(3)]
    finally:
        signals.session_ended.disconnect(on_end)
    assert len(sessions(app, "alice")) == 2
    client = app.test_client()
    assert [status(client, t) for t in tokens] == [401, 200, 200]
    assert [e["reason"] for e in ended] == ["limit"]
    assert ended[0]["identity"] == "alice"


@pytest.mark.parametrize(
    ("identity", "config"),
    [
        (42, {"JWT_IDENTITY_AS_STRING": True}),
        (uuid.UUID("12345678-1234-5678-1234-567812345678"), {"JWT_IDENTITY_AS_STRING": True}),
        ("ünïcode \x00 ' OR 1=1 --", {}),
        ("x" * 2000, {}),
    ],
)
def test_identities_of_any_type(identity: Any, config: dict[str, Any], tmp_path: Path) -> None:
    app = build(JWT_REVOCATION_STORE=f"sqlite:///{tmp_path / 'r.db'}", **config)
    access, _ = login(app, identity)
    [session] = sessions(app, identity)
    assert sessions(app, "someone else") == []
    assert revoke(app, session.id, identity=identity) is True
    assert status(app.test_client(), access) == 401


def test_metadata_is_opt_in(tmp_path: Path) -> None:
    app = build(JWT_REVOCATION_STORE="memory://", JWT_SESSION_METADATA=True)
    login(app, "alice", metadata={"device": "phone"})
    [session] = sessions(app, "alice")
    assert session.metadata == {"user_agent": "pytest-browser/1.0", "ip": None, "device": "phone"}
    assert session.as_dict()["metadata"]["device"] == "phone"


def test_signals_for_created_and_ended_sessions() -> None:
    app = build(JWT_REVOCATION_STORE="memory://")
    seen: list[tuple[str, Any]] = []

    def created(_app: Flask, session: Session, identity: Any) -> None:
        seen.append(("created", session.id))

    def ended(_app: Flask, session_id: str, identity: Any, reason: str) -> None:
        seen.append((reason, session_id))

    signals.session_created.connect(created)
    signals.session_ended.connect(ended)
    try:
        login(app, "alice")
        [session] = sessions(app, "alice")
        revoke(app, session.id)
    finally:
        signals.session_created.disconnect(created)
        signals.session_ended.disconnect(ended)
    assert seen == [("created", session.id), ("revoked", session.id)]


def test_without_a_store_the_error_says_what_to_configure() -> None:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET)
    flask_jwtx.JWTManager(app)
    with app.app_context(), pytest.raises(ConfigurationError, match="JWT_REVOCATION_STORE"):
        flask_jwtx.create_token_pair("alice")


def test_a_store_without_a_registry_says_so() -> None:
    class Minimal(MemoryStore):
        registry_get = flask_jwtx.RevocationStore.registry_get

    app = build(JWT_REVOCATION_STORE=Minimal())
    with app.app_context(), pytest.raises(NotImplementedError, match="registry"):
        flask_jwtx.create_token_pair("alice")


@pytest.mark.parametrize("limit", [0, -1, True, "5", 1.5])
def test_session_limit_is_validated(limit: Any) -> None:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_SESSION_LIMIT=limit)
    with pytest.raises(ConfigurationError, match="JWT_SESSION_LIMIT"):
        flask_jwtx.JWTManager(app)


def test_fam_is_reserved() -> None:
    app = build(JWT_REVOCATION_STORE="memory://")
    with app.app_context(), pytest.raises(ValueError, match="fam"):
        flask_jwtx.create_token_pair("alice", additional_claims={"fam": "mine"})


# -- Logout everywhere (revoke_all) ends the sessions it logs out --------------------


def ended_by(app: Flask, action: Any) -> list[tuple[str, str, Any]]:
    """Run ``action`` in an app context; the session_ended signals it sent."""
    seen: list[tuple[str, str, Any]] = []

    def ended(_app: Flask, session_id: str, identity: Any, reason: str) -> None:
        seen.append((reason, session_id, identity))

    signals.session_ended.connect(ended)
    try:
        with app.app_context():
            action()
    finally:
        signals.session_ended.disconnect(ended)
    return seen


def test_revoke_all_ends_the_identitys_sessions(any_store: dict[str, Any]) -> None:
    """After revoke_all, list_sessions shows none of the logins whose tokens it refuses."""
    app = build(**any_store)
    laptop, _ = login(app, "alice")
    phone, phone_refresh = login(app, "alice")
    bob, _ = login(app, "bob")
    ids = [s.id for s in sessions(app, "alice")]
    seen = ended_by(app, lambda: flask_jwtx.revoke_all("alice"))
    assert sorted(seen) == sorted(("everywhere", i, "alice") for i in ids)
    assert sessions(app, "alice") == []
    client = app.test_client()
    assert [status(client, t) for t in (laptop, phone, bob)] == [401, 401, 200]
    assert client.post("/refresh", headers=bearer(phone_refresh)).status_code == 401
    assert len(sessions(app, "bob")) == 1, "another identity's sessions stay"
    again, _ = login(app, "alice")
    assert [s.id for s in sessions(app, "alice")] == [issuer_of_session(app, again)]
    assert status(client, again) == 200


def test_revoke_all_by_sub_ends_the_sessions_too(any_store: dict[str, Any]) -> None:
    """revoke_all(sub=...) (the claim as tokens carry it) ends them the same way."""
    app = build(JWT_IDENTITY_AS_STRING=True, **any_store)
    login(app, 42)
    login(app, 42)
    assert len(sessions(app, 42)) == 2
    ended_by(app, lambda: flask_jwtx.revoke_all(sub="42"))
    assert sessions(app, 42) == []


def test_revoke_all_for_one_issuer_ends_that_issuers_sessions_only() -> None:
    """With issuer=, the watermark and the sessions ended are that issuer's alone."""
    app = build(JWT_REVOCATION_STORE="memory://", JWT_ENCODE_ISSUER="https://old.example")
    old, _ = login(app, "alice")
    new, _ = login(app, "alice", additional_claims={"iss": "https://new.example"})
    ended_by(app, lambda: flask_jwtx.revoke_all("alice", issuer="https://new.example"))
    assert [s.id for s in sessions(app, "alice")] == [issuer_of_session(app, old)]
    client = app.test_client()
    assert [status(client, t) for t in (old, new)] == [200, 401]


def test_a_session_opened_after_revoke_all_is_left_alone(
    clock: time_machine.Traveller,
) -> None:
    """A login registered after the call's moment (racing it) keeps its session and tokens."""
    app = build(JWT_REVOCATION_STORE="memory://")
    before, _ = login(app, "alice")
    clock.shift(timedelta(seconds=2))
    after, _ = login(app, "alice")  # stamped two seconds later than the call below
    racing = issuer_of_session(app, after)
    clock.shift(timedelta(seconds=-1))
    ended_by(app, lambda: flask_jwtx.revoke_all("alice"))
    assert [s.id for s in sessions(app, "alice")] == [racing]
    clock.shift(timedelta(seconds=2))
    client = app.test_client()
    assert [status(client, t) for t in (before, after)] == [401, 200]


def test_revoke_all_on_a_store_without_a_registry_refuses_the_tokens() -> None:
    """A custom store with no session registry: the watermark alone, and no error."""

    class Minimal(MemoryStore):
        registry_get = flask_jwtx.RevocationStore.registry_get

    app = build(JWT_REVOCATION_STORE=Minimal())
    with app.app_context():
        token = flask_jwtx.create_access_token("alice")
        flask_jwtx.revoke_all("alice")
    assert status(app.test_client(), token) == 401


# -- Lifetimes: no record expires before a token it covers ---------------------------


def test_an_ended_session_stays_ended_while_its_longest_token_lives() -> None:
    app = build(JWT_REVOCATION_STORE="memory://", JWT_DECODE_LEEWAY=30)
    access, _ = login(app, "alice", access_expires_delta=timedelta(days=30))
    [session] = sessions(app, "alice")
    revoke(app, session.id)
    store = app.extensions["flask-jwtx"].settings.get().revocation_store
    _, expires_at = store._data[record_key("fam", None, session.id)]
    assert expires_at >= time.time() + timedelta(days=30).total_seconds() + 30
    assert status(app.test_client(), access) == 401


def test_a_session_with_a_never_expiring_token_is_ended_for_good() -> None:
    app = build(JWT_REVOCATION_STORE="memory://")
    login(app, "alice", access_expires_delta=False)
    [session] = sessions(app, "alice")
    assert session.expires is None
    revoke(app, session.id)
    store = app.extensions["flask-jwtx"].settings.get().revocation_store
    assert store._data[record_key("fam", None, session.id)][1] is None


def test_ended_record_covers_racing_rotations_and_the_sessions_tokens() -> None:
    day = timedelta(days=1)
    now = time.time()
    short = Session("s", now, None, now + 60, now + 60 + CLOCK_MARGIN)
    record = ended_record(None, short, "s", (timedelta(minutes=15), day), 5.0)
    assert record.expires_at is not None
    assert record.expires_at >= now + day.total_seconds() + 5 + CLOCK_MARGIN
    long = Session("s", now, None, now + 10 * 86400, now + 10 * 86400 + CLOCK_MARGIN)
    assert ended_record(None, long, "s", (day,), 0.0).expires_at == long.until
    assert ended_record(None, short, "s", (None,), 0.0).expires_at is None
    assert ended_record(None, None, "s", (day,), 0.0).expires_at is not None


# -- The registry operations on every store ------------------------------------------


def test_registry_operations(any_store: dict[str, Any]) -> None:
    store = make_store(any_store["JWT_REVOCATION_STORE"], table=any_store["JWT_REVOCATION_TABLE"])
    try:
        now = time.time()
        assert store.registry_get("r") == {}
        store.registry_put("r", "a", "1", now + 100)
        store.registry_put("r", "b", "2", None)
        store.registry_put("r", "gone", "3", now - 1)
        store.registry_put("other", "a", "x", now + 100)
        assert store.registry_get("r") == {"a": "1", "b": "2"}
        store.registry_put("r", "a", "1b", now + 200)
        assert store.registry_get("r") == {"a": "1b", "b": "2"}
        store.registry_delete("r", ["b", "missing"])
        store.registry_delete("r", [])
        assert store.registry_get("r") == {"a": "1b"}
        store.registry_delete("r", ["a"])
        store.registry_delete("nothing", ["a"])
        assert store.registry_get("r") == {}
        assert store.registry_get("other") == {"a": "x"}
    finally:
        store.close()


def test_redis_registry_keys_expire_with_their_last_member(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    config = store_config("redis", request, tmp_path)
    store = make_store(config["JWT_REVOCATION_STORE"])
    try:
        client: Any = getattr(store, "_client")  # noqa: B009 - the Redis client behind the store
        now = time.time()
        store.registry_put("r", "a", "1", now + 100)
        store.registry_put("r", "b", "1", now + 1000)
        ttl = client.ttl("jwtx:{r}")
        assert 900 < ttl <= 1001
        store.registry_put("r", "c", "1", None)
        assert client.ttl("jwtx:{r}") == -1
        store.registry_delete("r", ["c"])
        assert 900 < client.ttl("jwtx:{r}") <= 1001
        store.registry_delete("r", ["a", "b"])
        assert client.exists("jwtx:{r}", "jwtx:{r}:exp") == 0
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["redis", "postgresql"])
def test_sessions_through_the_local_replica(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    config = store_config(kind, request, tmp_path)
    one = build(JWT_REVOCATION_REPLICA=True, **config)
    two = build(JWT_REVOCATION_REPLICA=True, **config)
    access, _ = login(one, "alice")
    [session] = sessions(two, "alice")
    assert revoke(two, session.id) is True
    assert status(two.test_client(), access) == 401
    assert sessions(one, "alice") == []


# -- Concurrent logins at the cap: a login never returns an ended session's tokens ----


class Interleaved(RevocationStore):
    """A real store that, at one step of the main thread's login, runs another login in a thread.

    ``step`` is ``"register"`` (just before the new session's registry entry
    is written) or ``"read"`` (just before the registry is read back). The
    other login runs to its end, in its own thread, while this one waits:
    the interleaving two app instances can produce, made certain.
    """

    def __init__(self, inner: RevocationStore, step: str, times: int = 1) -> None:
        self.inner = inner
        self.app: Flask | None = None
        self.step = step
        self.times = times
        self.main = threading.get_ident()
        #: What the other logins returned, in order.
        self.others: list[tuple[str, str]] = []

    def _maybe_interleave(self, step: str, registry: str) -> None:
        if step != self.step or not registry.startswith("ses:") or self.times <= 0:
            return
        if threading.get_ident() != self.main:
            return
        self.times -= 1
        failures: list[BaseException] = []
        app = self.app
        assert app is not None

        def other_login() -> None:
            try:
                self.others.append(login(app, "alice"))
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

        thread = threading.Thread(target=other_login)
        thread.start()
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert not failures, failures

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        return self.inner.get_many(keys)

    def put(self, key: str, value: str, expires_at: float | None) -> None:
        self.inner.put(key, value, expires_at)

    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        return self.inner.put_if_absent(key, value, expires_at)

    def registry_put(
        self, registry: str, member: str, value: str, expires_at: float | None
    ) -> None:
        self._maybe_interleave("register", registry)
        self.inner.registry_put(registry, member, value, expires_at)

    def registry_get(self, registry: str) -> Mapping[str, str]:
        self._maybe_interleave("read", registry)
        return self.inner.registry_get(registry)

    def registry_delete(self, registry: str, members: Sequence[str]) -> None:
        self.inner.registry_delete(registry, members)

    def close(self) -> None:
        self.inner.close()


def interleaved_app(
    shared_store: dict[str, Any], step: str, times: int = 1
) -> tuple[Flask, Interleaved]:
    inner = make_store(
        shared_store["JWT_REVOCATION_STORE"], table=shared_store["JWT_REVOCATION_TABLE"]
    )
    store = Interleaved(inner, step, times)
    store.app = app = build(JWT_SESSION_LIMIT=1, JWT_REVOCATION_STORE=store)
    return app, store


@pytest.mark.parametrize(
    "step",
    [
        pytest.param("read", id="ended-by-a-login-that-registered-after-it"),
        pytest.param("register", id="older-than-a-login-that-registered-first"),
    ],
)
def test_a_login_racing_another_at_the_cap_returns_a_live_session(
    shared_store: dict[str, Any], step: str
) -> None:
    """Whichever way two logins interleave at JWT_SESSION_LIMIT, each returns live tokens."""
    app, store = interleaved_app(shared_store, step)
    try:
        access, refresh = login(app, "alice")
        client = app.test_client()
        assert status(client, access) == 200, "the login returned an ended session's token"
        [(other_access, _)] = store.others
        [live] = sessions(app, "alice")
        assert live.id == decoded_fam(app, access), "the cap holds: the later login's session"
        assert status(client, other_access) == 401, "ended by the login that came after it"
        assert client.post("/refresh", headers=bearer(refresh)).status_code == 200
    finally:
        store.close()


def test_a_login_ended_at_every_try_is_refused_not_handed_out(
    shared_store: dict[str, Any],
) -> None:
    """When concurrent logins end every session it opens, a login gives up with a 503 error."""
    app, store = interleaved_app(shared_store, "read", times=100)
    try:
        with pytest.raises(SessionContentionError, match="try again") as raised:
            login(app, "alice")
        assert isinstance(raised.value, StoreUnavailableError)
        assert raised.value.status == 503
        assert len(store.others) >= 5, "each of its five sessions was ended by another login"
        [live] = sessions(app, "alice")
        assert live.id == decoded_fam(app, store.others[-1][0])
    finally:
        store.close()


def decoded_fam(app: Flask, token: str) -> str:
    with app.app_context():
        family: str = flask_jwtx.decode_token(token)["fam"]
        return family


# -- Failures: the registry is best effort where the tokens are already decided ------


class FlakyRegistry(MemoryStore):
    """A memory store whose registry can be switched off, as a store under strain."""

    broken = False

    def registry_get(self, registry: str) -> Any:
        if self.broken:
            raise StoreUnavailableError("registry down")
        return super().registry_get(registry)

    def registry_put(self, registry: str, member: str, value: str, expires_at: Any) -> None:
        if self.broken:
            raise StoreUnavailableError("registry down")
        super().registry_put(registry, member, value, expires_at)


def test_a_rotation_survives_a_registry_that_cannot_be_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FlakyRegistry()
    app = build(JWT_REVOCATION_STORE=store)
    _, refresh = login(app, "alice")
    store.broken = True
    rotated = app.test_client().post("/refresh", headers=bearer(refresh))
    assert rotated.status_code == 200, "the new pair is not lost"
    assert "refresh not recorded" in caplog.text


def test_reuse_is_refused_even_when_the_registry_is_down(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyRegistry()
    app = build(JWT_REVOCATION_STORE=store)
    client = app.test_client()
    access, refresh = login(app, "alice")
    assert client.post("/refresh", headers=bearer(refresh)).status_code == 200
    store.broken = True
    assert client.post("/refresh", headers=bearer(refresh)).status_code == 401
    assert status(client, access) == 401
    assert "registry not updated" in caplog.text


def test_a_family_outside_the_registry_is_revoked_as_before() -> None:
    app = build(JWT_REVOCATION_STORE="memory://")
    with app.test_request_context():
        refresh = flask_jwtx.create_refresh_token("alice")  # a family, not a session
    client = app.test_client()
    rotated = client.post("/refresh", headers=bearer(refresh)).get_json()
    assert client.post("/refresh", headers=bearer(refresh)).status_code == 401
    assert client.post("/refresh", headers=bearer(rotated["refresh_token"])).status_code == 401


def test_entries_we_did_not_write_are_ignored() -> None:
    store = MemoryStore()
    store.registry_put(registry_name(None, "alice"), "junk", "not json", None)
    store.registry_put(index_key(None, "sid"), "owner", "{}", None)
    assert parse(store.registry_get(registry_name(None, "alice"))) == []
    assert owner_of(store, None, "sid") == (False, None)
    assert Session.from_json('{"id": "x"}') is None


def test_a_store_without_registry_methods_refuses_clearly() -> None:
    class Bare(RevocationStore):
        def get_many(self, keys: Any) -> list[str | None]:
            return [None for _ in keys]

        def put(self, key: str, value: str, expires_at: Any) -> None:
            pass

        def put_if_absent(self, key: str, value: str, expires_at: Any) -> str | None:
            return None

    bare = Bare()
    for call in (
        lambda: bare.registry_put("r", "m", "v", None),
        lambda: bare.registry_get("r"),
        lambda: bare.registry_delete("r", ["m"]),
    ):
        with pytest.raises(NotImplementedError, match="Bare keeps no session registry"):
            call()


# --- Tokens whose iss comes from additional_claims_loader, not JWT_ENCODE_ISSUER ------

#: Each user's tenant: the claims loader writes it as the token's issuer.
TENANTS = {"alice": "https://acme.example", "bob": "https://globex.example"}


def loader_issued(constant: bool = True, **config: Any) -> Flask:
    """An app whose tokens get their ``iss`` from the claims loader (no JWT_ENCODE_ISSUER)."""
    app = build(**config)
    manager: flask_jwtx.JWTManager = app.extensions["flask-jwtx"].manager

    @manager.additional_claims_loader
    def issuer_claim(identity: Any) -> dict[str, Any]:
        return {"iss": "https://login.example" if constant else TENANTS[identity]}

    return app


def issuer_of(app: Flask, token: str) -> Any:
    with app.app_context():
        return flask_jwtx.decode_token(token)["iss"]


class TestIssuerFromTheClaimsLoader:
    """Sessions and logout everywhere find tokens by the issuer they carry."""

    def test_list_sessions_finds_them(self, any_store: dict[str, Any]) -> None:
        """list_sessions returns the sessions of tokens whose iss the loader wrote."""
        app = loader_issued(**any_store)
        access, _ = login(app, "alice")
        assert issuer_of(app, access) == "https://login.example"
        listed = sessions(app, "alice")
        assert [s.id for s in listed] == [issuer_of_session(app, access)]

    def test_revoke_session_by_id_ends_it(self, any_store: dict[str, Any]) -> None:
        """revoke_session(id) ends such a session and its tokens are refused."""
        app = loader_issued(**any_store)
        access, refresh = login(app, "alice")
        session_id = issuer_of_session(app, access)
        assert revoke(app, session_id) is True
        client = app.test_client()
        assert status(client, access) == 401
        assert client.post("/refresh", headers=bearer(refresh)).status_code == 401
        assert sessions(app, "alice") == []

    def test_revoke_session_with_identity_ends_only_that_identitys(self) -> None:
        """With identity=, only the owner's session is ended, whatever its issuer."""
        app = loader_issued(constant=False, JWT_REVOCATION_STORE="memory://")
        alice, _ = login(app, "alice")
        session_id = issuer_of_session(app, alice)
        assert revoke(app, session_id, identity="bob") is False
        assert status(app.test_client(), alice) == 200
        assert revoke(app, session_id, identity="alice") is True
        assert status(app.test_client(), alice) == 401

    def test_revoke_all_refuses_them(self, any_store: dict[str, Any]) -> None:
        """revoke_all(identity) refuses the identity's tokens whatever iss they carry."""
        app = loader_issued(**any_store)
        access, refresh = login(app, "alice")
        with app.test_request_context():
            outside = flask_jwtx.create_access_token("alice")  # no session, same issuer
        bob, _ = login(app, "bob")
        with app.app_context():
            flask_jwtx.revoke_all("alice")
        client = app.test_client()
        assert [status(client, t) for t in (access, outside, bob)] == [401, 401, 200]
        assert client.post("/refresh", headers=bearer(refresh)).status_code == 401
        assert sessions(app, "alice") == [], "and its session is ended"
        again, _ = login(app, "alice")
        assert status(client, again) == 200

    def test_revoke_all_with_an_issuer_per_user(self) -> None:
        """An issuer the loader picks per user is covered too; other users are not."""
        app = loader_issued(constant=False, JWT_REVOCATION_STORE="memory://")
        alice, _ = login(app, "alice")
        bob, _ = login(app, "bob")
        assert issuer_of(app, bob) == "https://globex.example"
        with app.app_context():
            flask_jwtx.revoke_all("bob")
        client = app.test_client()
        assert [status(client, t) for t in (alice, bob)] == [200, 401]
        assert (len(sessions(app, "alice")), sessions(app, "bob")) == (1, [])

    def test_the_cli_revoke_all_refuses_them(self, tmp_path: Path) -> None:
        """``flask jwt revoke-all alice`` refuses alice's tokens, as it says it does."""
        app = loader_issued(JWT_REVOCATION_STORE=f"sqlite:///{tmp_path / 'r.db'}")
        access, _ = login(app, "alice")
        bob, _ = login(app, "bob")
        result = app.test_cli_runner().invoke(jwt_cli, ["revoke-all", "alice"])
        assert result.exit_code == 0, result.output
        assert 'Every token issued to "alice" before' in result.output
        client = app.test_client()
        assert [status(client, t) for t in (access, bob)] == [401, 200]
        assert (sessions(app, "alice"), len(sessions(app, "bob"))) == ([], 1)

    def test_sessions_of_several_issuers_are_listed_together(self) -> None:
        """Sessions minted under the configured issuer and the loader's are one list."""
        app = build(JWT_REVOCATION_STORE="memory://", JWT_ENCODE_ISSUER="https://old.example")
        first, _ = login(app, "alice")
        second, _ = login(app, "alice", additional_claims={"iss": "https://new.example"})
        assert issuer_of(app, second) == "https://new.example"
        ids = [issuer_of_session(app, t) for t in (first, second)]
        assert [s.id for s in sessions(app, "alice")] == ids
        assert revoke(app, ids[1], identity="alice") is True
        assert [s.id for s in sessions(app, "alice")] == ids[:1]


def issuer_of_session(app: Flask, token: str) -> str:
    with app.app_context():
        family: str = flask_jwtx.decode_token(token)["fam"]
    return family
