"""No request waits for another request's refresh of the key set.

Whoever sends a token chooses its ``kid``. If an unknown ``kid`` waited for a
refresh in progress, a client sending random ``kid`` values while the issuer
is slow would park every worker thread on that refresh. So an unknown
``kid`` during a refresh is refused at once; the only wait is for the very
first key set, and it is bounded. Real issuer on loopback, real threads.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import jwt
import pytest

from flask_jwtx._core.jose.keyset import KeySet
from flask_jwtx._core.keysources.jwks import CachedKeySource, JWKSFetcher
from flask_jwtx.exceptions import KeySourceUnavailableError

from .jwks_issuer import NEW, OLD, JWKSServer, get, resource_app, token

#: Well under the issuer's delay: an answer this fast did not wait for it.
FAST = 0.5


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.01)


def test_an_unknown_kid_is_refused_at_once_while_a_refresh_is_in_flight(
    jwks_server: tuple[JWKSServer, str],
) -> None:
    server, url = jwks_server
    app = resource_app(url, JWT_JWKS_TIMEOUT=5, JWT_JWKS_MIN_REFRESH_INTERVAL=0.1)
    assert get(app, token(OLD))[0] == 200
    server.keys = KeySet([OLD, NEW])
    server.mode, server.delay = "slow", 2.0
    time.sleep(0.15)  # past the minimum refresh interval

    refreshing: list[tuple[int, Any]] = []
    refresher = threading.Thread(target=lambda: refreshing.append(get(app, token(NEW))))
    refresher.start()
    wait_for(lambda: server.hits == 2)  # the refresh has reached the slow issuer

    random_kid = jwt.encode(
        {"sub": "x"},
        NEW.signing.key,  # type: ignore[union-attr]
        algorithm="RS256",
        headers={"kid": "random-kid"},
    )
    for encoded in (token(NEW), random_kid):
        started = time.monotonic()
        assert get(app, encoded)[0] == 422, "unknown until the refresh completes"
        assert time.monotonic() - started < FAST, "it did not wait for the refresh"
    started = time.monotonic()
    assert get(app, token(OLD))[0] == 200, "known keys keep verifying meanwhile"
    assert time.monotonic() - started < FAST

    refresher.join(timeout=10)
    assert refreshing == [(200, {"sub": "alice"})], "the refreshing request gets its key"
    assert get(app, token(NEW))[0] == 200
    assert server.hits == 2, "no request started a second refresh"


def test_the_first_load_is_waited_for_at_most_first_load_wait() -> None:
    """A loader that hangs (here: until released) costs a waiting lookup no more."""
    loading, release = threading.Event(), threading.Event()

    def hanging_loader() -> KeySet:
        loading.set()
        release.wait(10)
        return KeySet([OLD])

    source = CachedKeySource(hanging_loader, first_load_wait=0.3)
    first = threading.Thread(target=source.current)
    first.start()
    assert loading.wait(5), "the first lookup holds the load"
    started = time.monotonic()
    with pytest.raises(KeySourceUnavailableError, match="first fetch"):
        source.key("old")
    assert time.monotonic() - started < 0.3 + FAST
    release.set()
    first.join(timeout=5)
    assert source.key("old") is not None


def test_the_first_load_wait_defaults_to_the_fetch_deadline() -> None:
    fetcher = JWKSFetcher("http://127.0.0.1:9/jwks", timeout=2.5)
    assert CachedKeySource(fetcher).first_load_wait == 2.5
    assert CachedKeySource(lambda: KeySet([OLD])).first_load_wait > 0


def test_waiters_of_a_first_load_share_its_result(jwks_server: tuple[JWKSServer, str]) -> None:
    """Requests arriving during a first load that succeeds in time get its keys."""
    server, url = jwks_server
    server.mode, server.delay = "slow", 0.5
    app = resource_app(url, JWT_JWKS_TIMEOUT=2)
    results: list[tuple[int, Any]] = []
    threads = [
        threading.Thread(target=lambda: results.append(get(app, token(OLD)))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert [status for status, _ in results] == [200] * 4
    assert server.hits == 1
