"""In-memory store: one process, for development and tests. Lost on restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence

from .base import RevocationStore, clamp_expiry

#: Expired entries are swept after this many writes, so memory stays bounded
#: by the number of live revocations.
_SWEEP_EVERY = 1024


class MemoryStore(RevocationStore):
    """A dict behind a lock; entries expire lazily and in periodic sweeps."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._lock = threading.Lock()
        self._writes = 0
        #: registry -> member -> (value, expires_at)
        self._registries: dict[str, dict[str, tuple[str, float | None]]] = {}

    def _live(self, key: str, now: float) -> str | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at is not None and expires_at <= now:
            return None
        return value

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        now = time.time()
        with self._lock:
            return [self._live(key, now) for key in keys]

    def _write(self, key: str, value: str, expires_at: float | None) -> None:
        self._data[key] = (value, expires_at)
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            now = time.time()
            self._data = {k: v for k, v in self._data.items() if v[1] is None or v[1] > now}

    def put(self, key: str, value: str, expires_at: float | None) -> None:
        with self._lock:
            self._write(key, value, clamp_expiry(expires_at))

    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        with self._lock:
            existing = self._live(key, time.time())
            if existing is not None:
                return existing
            self._write(key, value, clamp_expiry(expires_at))
            return None

    def registry_put(
        self, registry: str, member: str, value: str, expires_at: float | None
    ) -> None:
        with self._lock:
            members = self._registries.setdefault(registry, {})
            members[member] = (value, clamp_expiry(expires_at))
            now = time.time()
            # Expired members go at every write: a registry is small (capped).
            for name in [m for m, (_, at) in members.items() if at is not None and at <= now]:
                del members[name]

    def registry_get(self, registry: str) -> Mapping[str, str]:
        now = time.time()
        with self._lock:
            members = self._registries.get(registry, {})
            return {m: v for m, (v, at) in members.items() if at is None or at > now}

    def registry_delete(self, registry: str, members: Sequence[str]) -> None:
        with self._lock:
            found = self._registries.get(registry)
            if found is None:
                return
            for member in members:
                found.pop(member, None)
            if not found:
                del self._registries[registry]

    def __len__(self) -> int:
        return len(self._data)
