"""The live objects one app opens: remote key sources, key-set loader sources, revocation stores.

Settings are rebuilt whenever ``app.config`` changes (tests do it constantly);
what a rebuild must not do is open a second connection pool to the same
Redis, or forget a JWKS it fetched a second ago. :class:`Resources` is the
app's cache of such objects, keyed by typed specs of what they are, shared
by every rebuild, and closed by :meth:`Resources.close` (``JWTManager.close``,
or a second ``init_app``).

Objects are built outside the cache's lock (building a store reaches its
server): concurrent rebuilds may each build one, the first stored wins and
the others are closed (when they are ours to close: built from a URL), so no
request waits on another's network I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from ..jose.keyset import KeySet
from ..keysources.discovery import DiscoveredKeys
from ..keysources.introspection import IntrospectionSpec, Introspector
from ..keysources.jwks import CachedKeySource, JWKSFetcher
from ..revocation.base import RevocationStore
from ..revocation.factory import make_replica, make_store

T = TypeVar("T")


class RemoteKeysSpec(NamedTuple):
    """A remote JWKS and how it is fetched and cached (``JWT_JWKS_*``)."""

    url: str
    ttl: float
    min_refresh_interval: float
    timeout: float
    max_bytes: int
    #: The algorithm a JWK without ``alg`` is bound to (when only one is allowed).
    algorithm: str | None
    max_stale: float | None


class DiscoverySpec(NamedTuple):
    """A trusted issuer whose JWKS is found through its metadata (:mod:`.discovery`)."""

    issuer: str
    ttl: float
    min_refresh_interval: float
    timeout: float
    max_bytes: int
    algorithm: str | None
    max_stale: float | None


class LoaderKeysSpec(NamedTuple):
    """A ``key_set_loader`` and how often it is asked again."""

    loader: Callable[[], KeySet]
    ttl: float
    min_refresh_interval: float


class StoreSpec(NamedTuple):
    """A revocation store: its URL (or the id of a client/engine/store) and table."""

    target: str | int
    table: str
    #: ``JWT_REVOCATION_REPLICA_MAX_STALENESS`` when the replica is on, else ``None``.
    replica: float | None = None


def _close(store: RevocationStore) -> None:
    store.close()


class Resources:
    """The cache of one app's live objects; see the module docstring."""

    def __init__(self, instance_path: str | None = None) -> None:
        #: The app's instance folder, where relative SQLite paths point (see
        #: ``in_instance_folder``).
        self.instance_path = instance_path
        self._lock = threading.Lock()
        self._remote: dict[RemoteKeysSpec, CachedKeySource] = {}
        self._discovered: dict[DiscoverySpec, CachedKeySource] = {}
        self._introspectors: dict[tuple[IntrospectionSpec, float, int], Introspector] = {}
        self._loaders: dict[LoaderKeysSpec, CachedKeySource] = {}
        self._stores: dict[StoreSpec, RevocationStore] = {}
        #: Objects given by the user (a client, engine or store): kept alive
        #: so that their id() in a spec cannot be reused by another object.
        self._held: list[Any] = []

    def remote_keys(self, spec: RemoteKeysSpec) -> CachedKeySource:
        """The cached key source for a remote JWKS (raises ``ValueError`` for a bad URL)."""

        def build() -> CachedKeySource:
            fetcher = JWKSFetcher(
                spec.url, timeout=spec.timeout, max_bytes=spec.max_bytes, algorithm=spec.algorithm
            )
            return CachedKeySource(
                fetcher,
                ttl=spec.ttl,
                min_refresh_interval=spec.min_refresh_interval,
                max_stale=spec.max_stale,
            )

        return self._shared(self._remote, spec, build, None)

    def discovered_keys(self, spec: DiscoverySpec) -> CachedKeySource:
        """The cached key source of an issuer found by discovery (``ValueError``: bad URL)."""

        def build() -> CachedKeySource:
            load = DiscoveredKeys(
                spec.issuer,
                timeout=spec.timeout,
                max_bytes=spec.max_bytes,
                algorithm=spec.algorithm,
            )
            return CachedKeySource(
                load,
                ttl=spec.ttl,
                min_refresh_interval=spec.min_refresh_interval,
                max_stale=spec.max_stale,
                first_load_wait=spec.timeout,
            )

        return self._shared(self._discovered, spec, build, None)

    def introspector(
        self, spec: IntrospectionSpec, timeout: float, max_bytes: int
    ) -> Introspector:
        """The introspection client for ``spec`` (its cache survives settings rebuilds)."""
        return self._shared(
            self._introspectors,
            (spec, timeout, max_bytes),
            lambda: Introspector(spec, timeout=timeout, max_bytes=max_bytes),
            None,
        )

    def loader_keys(self, spec: LoaderKeysSpec) -> CachedKeySource:
        """The cached key source for the app's ``key_set_loader``."""
        return self._shared(
            self._loaders,
            spec,
            lambda: CachedKeySource(
                spec.loader, ttl=spec.ttl, min_refresh_interval=spec.min_refresh_interval
            ),
            None,
        )

    def store(self, value: Any, table: str, replica: float | None = None) -> RevocationStore:
        """The revocation store ``value`` describes (reached once when first built).

        With ``replica`` (a staleness bound in seconds), the store wrapped in a
        local ``Replica``, which is always
        ours to close (it stops its follower, and closes the store only if
        the store was built from a URL).
        """
        if replica is not None:
            owned = isinstance(value, str)
            spec = StoreSpec(value if owned else id(value), table, replica)
            if not owned:
                self._hold(value)
            return self._shared(
                self._stores,
                spec,
                lambda: make_replica(self._make_store(value, table), replica, owns_store=owned),
                _close,
            )
        if isinstance(value, str):
            spec = StoreSpec(value, table)
        else:
            spec = StoreSpec(id(value), table)
            with self._lock:
                if not any(held is value for held in self._held):
                    self._held.append(value)
        # A store built from a URL is ours to close; one that wraps the app's
        # own client, engine or store is not: closing it would cut the app's
        # (and other requests') connections under them.
        discard = _close if isinstance(value, str) else None
        return self._shared(self._stores, spec, lambda: self._make_store(value, table), discard)

    def _make_store(self, value: Any, table: str) -> RevocationStore:
        return make_store(value, table=table, instance_path=self.instance_path)

    def _hold(self, value: Any) -> None:
        with self._lock:
            if not any(held is value for held in self._held):
                self._held.append(value)

    def _shared(
        self,
        cache: dict[Any, T],
        spec: Any,
        build: Callable[[], T],
        discard: Callable[[T], None] | None,
    ) -> T:
        with self._lock:
            existing = cache.get(spec)
        if existing is not None:
            return existing
        built = build()  # outside the lock: it may reach a server
        with self._lock:
            winner = cache.setdefault(spec, built)
        if winner is not built and discard is not None:
            discard(built)  # a concurrent rebuild stored its own first
        return winner

    def key_sources(self) -> list[CachedKeySource]:
        """Every key source opened (for ``refresh_keys``)."""
        with self._lock:
            return [*self._remote.values(), *self._discovered.values(), *self._loaders.values()]

    def close(self) -> None:
        """Close the stores built from URLs; forget every store (they are rebuilt when needed).

        Stores wrapping the app's own client, engine or store object are
        forgotten but not closed: their lifetime is the app's.
        """
        with self._lock:
            owned = [
                store
                for spec, store in self._stores.items()
                if isinstance(spec.target, str) or spec.replica is not None
            ]
            self._stores.clear()
        for store in owned:
            store.close()
