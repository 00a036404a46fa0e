"""The app's live objects: one store per spec whatever the concurrency, closed only when ours."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask, jsonify

import flask_jwtx
from flask_jwtx._core.config import resources as resources_module
from flask_jwtx._core.config.resources import Resources
from flask_jwtx._core.revocation.memory import MemoryStore

from .helpers import SECRET, bearer


class CountingStore(MemoryStore):
    closed = 0

    def close(self) -> None:
        CountingStore.closed += 1


def test_concurrent_builders_keep_one_store_and_close_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    CountingStore.closed = 0
    barrier = threading.Barrier(8)

    def slow_build(value: Any, *, table: str, instance_path: str | None) -> CountingStore:
        barrier.wait()  # every thread builds before any stores: the worst case
        return CountingStore()

    monkeypatch.setattr(resources_module, "make_store", slow_build)
    resources = Resources()
    got: list[Any] = []
    threads = [
        threading.Thread(target=lambda: got.append(resources.store("memory://", "t")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(store) for store in got}) == 1, "every caller shares the one kept"
    assert CountingStore.closed == 7, "the stores that lost the race were closed"
    resources.close()
    assert CountingStore.closed == 8


def test_after_close_the_next_request_reopens_and_tracks_the_store() -> None:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE="memory://")
    manager = flask_jwtx.JWTManager(app)

    @app.get("/me")
    @flask_jwtx.jwt_required()
    def me() -> Any:
        return jsonify(ok=True)

    state = app.extensions["flask-jwtx"]
    before = state.settings.get().revocation_store
    manager.close(app)
    with app.app_context():
        token = flask_jwtx.create_access_token("alice")
    assert app.test_client().get("/me", headers=bearer(token)).status_code == 200
    after = state.settings.get().revocation_store
    assert after is not before, "rebuilt after close, not the closed one"
    assert state.resources.store("memory://", "jwtx_revocations") is after
