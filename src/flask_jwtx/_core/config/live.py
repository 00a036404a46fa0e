"""Settings that follow ``app.config``: rebuilt when a ``JWT_*`` value changes.

Users (and especially tests) change ``app.config`` after ``init_app``. To
honour that without re-reading everything per request, :class:`LiveSettings`
keeps a snapshot of the raw values and rebuilds when any of them changed. The
comparison is one tuple equality, mostly identity checks, about a microsecond.
"""

from __future__ import annotations

import copy
import logging
import operator
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .schema import WATCHED_KEYS
from .settings import Settings

logger = logging.getLogger("flask_jwtx")


_watched = operator.itemgetter(*WATCHED_KEYS)


def _snapshot(config: Mapping[str, Any]) -> tuple[Any, ...]:
    # Copies of mutable values, so an in-place ``.append`` is seen as a change.
    return tuple(
        copy.copy(v) if isinstance(v, list | dict | set) else v
        for v in map(config.get, WATCHED_KEYS)
    )


class LiveSettings:
    """Settings for one app, rebuilt when its ``JWT_*`` config changes."""

    __slots__ = ("_build", "_config", "_lock", "_settings", "_snapshot")

    def __init__(self, config: Mapping[str, Any], build: Callable[[], Settings]) -> None:
        self._config = config
        self._build = build
        self._lock = threading.Lock()
        self._snapshot = _snapshot(config)
        self._settings = build()

    def invalidate(self) -> None:
        """Rebuild on the next :meth:`get` (after the app's stores were closed)."""
        with self._lock:
            self._snapshot = ()

    def get(self) -> Settings:
        try:
            # One C call for every watched key (init_app wrote them all).
            current = _watched(self._config)
        except KeyError:  # a key was deleted from app.config: compare with defaults
            current = tuple(map(self._config.get, WATCHED_KEYS))
        if current != self._snapshot:
            # Built outside the lock: a build may reach a store's server, and
            # no request waits on another's network I/O. Concurrent builds
            # share the app's Resources: one store is kept (the others are
            # closed); the lock only keeps the settings and their snapshot together.
            snapshot = _snapshot(self._config)
            settings = self._build()
            with self._lock:
                self._settings, self._snapshot = settings, snapshot
                return settings
        return self._settings
