"""No revocation record expires while a token it covers can still verify.

A token verifies until ``exp + JWT_DECODE_LEEWAY``. Every record the
revocation layer writes (a revoked ``jti``, a used refresh token, a revoked
family, a "log out everywhere" watermark) must live at least that long for
every token it covers, including tokens minted after the record's subject
(a thief's rotations) and tokens with a per-call ``expires_delta``.

Two kinds of tests: the rule checked directly on every record written
(through a store that remembers what it was asked to write), and the attacks
that broke it, replayed with short lifetimes on a clock that time-machine
moves forward (the memory store and the tokens both read it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask

import flask_jwtx
from flask_jwtx import RevocationStore, signals
from flask_jwtx._core.revocation.factory import make_store
from flask_jwtx._core.revocation.memory import MemoryStore
from flask_jwtx._core.revocation.policy import record_key

from .helpers import ALL_STORES, REVOKED, bearer, revocation_app
from .stores import store_config


class RecordingStore(RevocationStore):
    """A real store, and a log of every record written to it with its expiry."""

    def __init__(self, inner: RevocationStore) -> None:
        self.inner = inner
        self.written: dict[str, tuple[str, float | None]] = {}

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        return self.inner.get_many(keys)

    def put(self, key: str, value: str, expires_at: float | None) -> None:
        self.inner.put(key, value, expires_at)
        self.written[key] = (value, expires_at)

    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        existing = self.inner.put_if_absent(key, value, expires_at)
        if existing is None:
            self.written[key] = (value, expires_at)
        return existing

    def close(self) -> None:
        self.inner.close()


class Minted:
    """Every token the app mints, by its claims (through the ``token_issued`` signal)."""

    def __init__(self) -> None:
        self.claims: list[dict[str, Any]] = []

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        self.claims.append(dict(kwargs["claims"]))


@pytest.fixture
def minted() -> Iterator[Minted]:
    recorder = Minted()
    signals.token_issued.connect(recorder)
    yield recorder
    signals.token_issued.disconnect(recorder)


def covers(key: str, value: str, claims: dict[str, Any]) -> bool:
    issuer = claims.get("iss")
    return key in {
        record_key("jti", issuer, claims.get("jti")),
        record_key("used", issuer, claims.get("jti")),
        record_key("fam", issuer, claims.get("fam")),
        record_key("sub", issuer, claims.get("sub")),
    }


def assert_no_record_expires_early(store: RecordingStore, minted: Minted, leeway: float) -> None:
    """The rule itself: each record outlives each token it covers, leeway included."""
    checked = 0
    for key, (value, expires_at) in store.written.items():
        for claims in minted.claims:
            if not covers(key, value, claims):
                continue
            checked += 1
            if expires_at is None:
                continue
            assert "exp" in claims, f"{key} expires, but covers a token that never does"
            assert expires_at >= claims["exp"] + leeway, (
                f"{key} expires {claims['exp'] + leeway - expires_at:.0f} s before a token "
                f"it covers stops verifying"
            )
    assert checked, "the scenario wrote no record covering a token"


def build(store: RevocationStore, **config: Any) -> Flask:
    """The revocation suite's app (``/me``, ``/refresh`` rotating) on ``store``."""
    return revocation_app(JWT_REVOCATION_STORE=store, **config)


def call(app: Flask, token: str, path: str = "/me") -> tuple[int, Any]:
    method = "POST" if path == "/refresh" else "GET"
    response = app.test_client().open(path, method=method, headers=bearer(token))
    return response.status_code, response.get_json()


@pytest.fixture(params=ALL_STORES)
def real_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordingStore]:
    config = store_config(request.param, request, tmp_path)
    store = RecordingStore(
        make_store(config["JWT_REVOCATION_STORE"], table=config["JWT_REVOCATION_TABLE"])
    )
    yield store
    store.close()


class TestEveryRecordOutlivesWhatItCovers:
    """The rule, checked on every record each operation writes, on every store."""

    def test_revoke_token_with_leeway(self, real_store: RecordingStore, minted: Minted) -> None:
        app = build(real_store, JWT_DECODE_LEEWAY=30)
        with app.app_context():
            token = flask_jwtx.create_access_token("alice")
            flask_jwtx.revoke_token(token)
        assert call(app, token) == REVOKED
        assert_no_record_expires_early(real_store, minted, leeway=30)

    def test_logout_everywhere_covers_tokens_longer_than_configured(
        self, real_store: RecordingStore, minted: Minted
    ) -> None:
        app = build(real_store, JWT_DECODE_LEEWAY=5)
        with app.app_context():
            long_lived = flask_jwtx.create_access_token("alice", expires_delta=timedelta(days=90))
            forever = flask_jwtx.create_refresh_token("alice", expires_delta=False)
            flask_jwtx.revoke_all("alice")
        assert call(app, long_lived) == REVOKED
        assert call(app, forever, "/refresh") == REVOKED
        assert_no_record_expires_early(real_store, minted, leeway=5)

    def test_reuse_detection_covers_the_thiefs_newer_tokens(
        self, real_store: RecordingStore, minted: Minted
    ) -> None:
        app = build(
            real_store,
            JWT_REFRESH_TOKEN_ROTATION=True,
            JWT_REFRESH_REUSE_GRACE=0,
            JWT_DECODE_LEEWAY=10,
        )
        with app.app_context():
            stolen = flask_jwtx.create_refresh_token("alice", expires_delta=timedelta(days=1))
        code, pair = call(app, stolen, "/refresh")  # the thief rotates first
        assert code == 200
        code, newer = call(app, pair["refresh_token"], "/refresh")
        assert code == 200
        assert call(app, stolen, "/refresh")[0] == 401  # the victim's reuse is detected
        for tokens in (pair, newer):  # the whole family is refused, access tokens included
            assert call(app, tokens["access_token"]) == REVOKED
            assert call(app, tokens["refresh_token"], "/refresh") == REVOKED
        assert_no_record_expires_early(real_store, minted, leeway=10)


#: Expiries no store or date can hold as a time: year 12020, and 10**17 s
#: (Redis's PX overflows at about 9.2e15 s from now).
FAR_BEYOND = [
    pytest.param(317_000_000_000, id="year-12020"),
    pytest.param(10**17, id="exp-1e17"),
]


class TestExpiriesPastYear9999:
    """A token expiring after year 9999 is revoked for good, on every store."""

    @pytest.mark.parametrize("exp", FAR_BEYOND)
    def test_such_a_token_is_revoked_and_refused(
        self, real_store: RecordingStore, minted: Minted, exp: int
    ) -> None:
        """The record is written as never expiring: it still outlives the token."""
        app = build(real_store)
        with app.app_context():
            token = flask_jwtx.create_access_token("alice", additional_claims={"exp": exp})
            flask_jwtx.revoke_token(token)
        assert call(app, token) == REVOKED
        [(_, expires_at)] = real_store.written.values()
        assert expires_at is None
        assert_no_record_expires_early(real_store, minted, leeway=0)

    @pytest.mark.parametrize("exp", FAR_BEYOND)
    def test_every_store_writes_such_an_expiry_as_never(
        self, real_store: RecordingStore, exp: int
    ) -> None:
        """Records and session registries given such a time are kept, not refused or lost."""
        store = real_store.inner
        store.put("jti:far", "1", float(exp))
        assert store.put_if_absent("used:far", "5", float(exp)) is None
        assert store.get_many(["jti:far", "used:far"]) == ["1", "5"]
        store.registry_put("ses:far", "member", "value", float(exp))
        assert store.registry_get("ses:far") == {"member": "value"}


class TestTheAttacksReplayed:
    """The reported attacks, with lifetimes of seconds (memory store)."""

    def test_a_thiefs_rotated_token_stays_revoked_after_the_reused_one_expires(
        self, clock: time_machine.Traveller
    ) -> None:
        app = build(
            MemoryStore(),
            JWT_REFRESH_TOKEN_ROTATION=True,
            JWT_REFRESH_REUSE_GRACE=0,
            JWT_REFRESH_TOKEN_EXPIRES=timedelta(seconds=3),
        )
        with app.app_context():
            stolen = flask_jwtx.create_refresh_token("victim")  # day 0
            stolen_exp = flask_jwtx.decode_token(stolen)["exp"]
        clock.shift(1.2)
        code, thiefs = call(app, stolen, "/refresh")  # day 29: the thief rotates
        assert code == 200
        with app.app_context():
            thiefs_exp = flask_jwtx.decode_token(thiefs["refresh_token"])["exp"]
        assert call(app, stolen, "/refresh")[0] == 401  # the victim comes back: reuse
        # Day 30: the stolen token has expired (iat counts whole seconds, so
        # go to its exp itself), the thief's has not.
        clock.shift(max(0.0, stolen_exp + 0.05 - time.time()))
        assert time.time() < thiefs_exp
        assert call(app, thiefs["refresh_token"], "/refresh") == REVOKED

    def test_a_revoked_token_stays_revoked_through_the_leeway(
        self, clock: time_machine.Traveller
    ) -> None:
        app = build(MemoryStore(), JWT_DECODE_LEEWAY=30)
        with app.app_context():
            token = flask_jwtx.create_access_token("alice", expires_delta=timedelta(seconds=1))
            flask_jwtx.revoke_token(token)
        clock.shift(2.1)  # past exp, within the leeway: the token still verifies
        assert call(app, token) == REVOKED

    def test_a_used_refresh_token_stays_used_through_the_leeway(
        self, clock: time_machine.Traveller
    ) -> None:
        app = build(
            MemoryStore(),
            JWT_DECODE_LEEWAY=30,
            JWT_REFRESH_TOKEN_ROTATION=True,
            JWT_REFRESH_REUSE_GRACE=0,
        )
        with app.app_context():
            token = flask_jwtx.create_refresh_token("alice", expires_delta=timedelta(seconds=1))
        assert call(app, token, "/refresh")[0] == 200
        clock.shift(2.1)
        assert call(app, token, "/refresh")[0] == 401, "reuse within the leeway is still reuse"


class TestZeroGraceIsExclusive:
    def test_exactly_one_of_eight_concurrent_rotations_wins(
        self, real_store: RecordingStore
    ) -> None:
        app = build(real_store, JWT_REFRESH_TOKEN_ROTATION=True, JWT_REFRESH_REUSE_GRACE=0)
        with app.app_context():
            token = flask_jwtx.create_refresh_token("alice")
        barrier = threading.Barrier(8)
        codes: list[int] = []

        def rotate() -> None:
            barrier.wait()
            codes.append(call(app, token, "/refresh")[0])

        threads = [threading.Thread(target=rotate) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(codes) == [200] + [401] * 7
