"""A local replica of the revocation records: checks at memory speed, never staler than a bound.

Revocation records are few (unexpired revoked tokens, "log out everywhere"
watermarks, revoked refresh-token families), so each process can hold all of
them and answer :meth:`~.base.RevocationStore.get_many` from a dict instead
of a round trip to the store. :class:`Replica` is itself a
:class:`~.base.RevocationStore` wrapping a followable one, so the policy's
``check`` does not know it is there.

How it stays correct:

* **A proved bound.** A follower thread loads every record (a snapshot),
  then applies the store's change feed. Every ``max_staleness / 4`` seconds it
  sends a *beacon* through the same feed; the feed delivers a beacon only
  after every change committed before it was sent (:class:`~.base.Feed`). So
  when a beacon comes back, the replica is complete up to the moment it was
  sent (on the monotonic clock). ``get_many`` answers locally only while that
  moment is at most ``max_staleness`` seconds old; otherwise it asks the store,
  exactly as without a replica (and an unreachable store raises
  :class:`~.base.StoreUnavailableError`, for ``JWT_REVOCATION_FAILURE_POLICY``).
  A lost subscription, a dead server, a network that silently drops packets
  or a starved thread all end the same way: beacons stop coming back, and
  within the bound the replica stops answering. Nothing has to notice the
  failure for the bound to hold.
* **Writes go to the store.** ``put`` and ``put_if_absent`` are the store's;
  the store publishes them on its feed in the same transaction. Keys of kinds
  not replicated (refresh-token ``used`` markers: one per rotation, and read
  only when a refresh token is presented) are always read from the store, so
  reuse detection stays atomic across instances.
* **The feed is only a hint.** Anyone who can publish on the store's
  channel (any Redis client allowed to ``PUBLISH``, any PostgreSQL role at
  all) could send a message; so a message names at most a key, the feed
  reads that key's value from the store (:class:`~.base.Feed`), and the copy
  merges it monotonically (:func:`merged`): a later expiry, a higher
  watermark, never less than it held. A forged message costs a read; it can
  neither weaken a revocation nor, since beacon tokens are random, prove the
  copy fresh. Messages that name nothing are ignored and logged.
* **Expiry.** An entry is absent from its ``expires_at`` on, which is never
  earlier than the store's; expired entries are swept by the follower.
* **Fork safety.** Nothing is started until the first ``get_many`` in a
  process: a replica built before gunicorn forks its workers opens no socket
  and starts no thread in the parent. A child that inherits a started replica
  sees it go stale within the bound (its thread did not survive the fork) and
  starts its own.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .base import Ack, Change, Feed, FollowableStore, RevocationStore, StoreUnavailableError

logger = logging.getLogger("flask_jwtx.revocation")

#: The record kinds a replica holds (see :mod:`.policy`); ``used`` markers are not among them.
REPLICATED_KINDS: Final = ("jti:", "sub:", "fam:")
#: Beacons per staleness bound: a beacon late by up to three intervals still
#: keeps the replica answering.
BEACONS_PER_BOUND: Final = 4
#: The longest wait before a broken feed is opened again.
MAX_RETRY_DELAY: Final = 1.0
#: The longest the follower waits on its feed at a time, so ``close`` is prompt
#: whatever the bound.
MAX_WAIT: Final = 0.5

_NEVER: Final = -math.inf
#: Feeds inherited across a fork: closing them in the child would close the
#: parent's connections (PostgreSQL's goodbye message), so they are kept, unused.
_inherited: list[Any] = []


class Replica(RevocationStore):
    """A local copy of a followable store's records; see the module docstring."""

    def __init__(
        self,
        store: RevocationStore,
        max_staleness: float,
        *,
        kinds: tuple[str, ...] = REPLICATED_KINDS,
        owns_store: bool = True,
    ) -> None:
        if not isinstance(store, FollowableStore):
            raise TypeError(
                f"{type(store).__name__} publishes no changes: it cannot be replicated"
            )
        problem = store.follow_problem()
        if problem is not None:
            raise TypeError(problem)
        if not max_staleness > 0:
            raise ValueError("the staleness bound must be a positive number of seconds")
        self._store = store
        self._followable: FollowableStore = store
        self._bound = float(max_staleness)
        self._kinds = kinds
        self._owns_store = owns_store
        self._data: dict[str, tuple[str, float | None]] = {}
        #: Serialises merges (the follower's and our own writes'): a merge reads, then writes.
        self._merging = threading.Lock()
        #: Monotonic time up to which the data is provably complete.
        self._fresh_at = _NEVER
        self._lock = threading.Lock()
        self._pid = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._feed: Feed | None = None
        self._closed = False

    # -- The request path -------------------------------------------------------

    @property
    def max_staleness(self) -> float:
        return self._bound

    @property
    def store(self) -> RevocationStore:
        """The store replicated: for the rare read that must not be stale at all."""
        return self._store

    def fresh(self) -> bool:
        """Whether the replica may answer now (its proof is within the bound)."""
        return time.monotonic() - self._fresh_at <= self._bound

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        if time.monotonic() - self._fresh_at <= self._bound and all(
            key.startswith(self._kinds) for key in keys
        ):
            data, now = self._data, time.time()
            values: list[str | None] = []
            for key in keys:
                entry = data.get(key)
                live = entry is not None and (entry[1] is None or entry[1] > now)
                values.append(entry[0] if live and entry is not None else None)
            return values
        self._ensure_following()
        return self._store.get_many(keys)

    def put(self, key: str, value: str, expires_at: float | None) -> None:
        self._store.put(key, value, expires_at)
        self._apply(Change(key, value, expires_at))

    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        existing = self._store.put_if_absent(key, value, expires_at)
        if existing is None and key.startswith(self._kinds):
            # First writes of replicated kinds are published like any other
            # (the stores publish only from put): write the same value again.
            self._store.put(key, value, expires_at)
            self._apply(Change(key, value, expires_at))
        return existing

    # -- The session registry: not replicated (listing only), always the store's --

    def registry_put(
        self, registry: str, member: str, value: str, expires_at: float | None
    ) -> None:
        self._store.registry_put(registry, member, value, expires_at)

    def registry_get(self, registry: str) -> Mapping[str, str]:
        return self._store.registry_get(registry)

    def registry_delete(self, registry: str, members: Sequence[str]) -> None:
        self._store.registry_delete(registry, members)

    def ping(self) -> None:
        self._store.ping()

    def close(self) -> None:
        """Stop the follower; close the wrapped store if it is ours."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
            self._stop.set()
            self._fresh_at = _NEVER
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if self._owns_store:
            self._store.close()

    def __len__(self) -> int:
        return len(self._data)

    # -- The follower -------------------------------------------------------------

    def _apply(self, change: Change) -> None:
        """Merge ``change`` into the copy: it may add, lengthen or raise, never less."""
        if change.key.startswith(self._kinds):
            with self._merging:
                data = self._data
                data[change.key] = merged(change.key, data.get(change.key), change)

    def _ensure_following(self) -> None:
        """Start the follower in this process if it is not running (lazily, fork-safe)."""
        pid = os.getpid()
        if self._pid == pid and self._thread is not None:
            return
        with self._lock:
            if self._closed or (self._pid == pid and self._thread is not None):
                return
            if self._pid != pid and self._feed is not None:
                _inherited.append(self._feed)  # the parent's connection: never close it here
                self._feed = None
            self._pid = pid
            self._fresh_at = _NEVER
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._follow, args=(self._stop,), name="jwtx-replica", daemon=True
            )
            self._thread.start()

    def _follow(self, stop: threading.Event) -> None:
        """Snapshot, then follow, until closed; start over after any failure."""
        delay = min(self._bound / BEACONS_PER_BOUND, MAX_RETRY_DELAY)
        #: Whether the outage was reported: once per outage, not once per retry.
        reported = False
        while not stop.is_set():
            try:
                self._sync(stop)
            except StoreUnavailableError as exc:
                if self._fresh_at != _NEVER:
                    reported = False  # it had recovered since: a new outage
                if not reported:
                    logger.warning("Revocation replica lost its feed (%s); reading the store", exc)
                    reported = True
            except Exception:  # a bug must not kill the thread silently and for good
                logger.exception("Revocation replica failed; reading the store")
            self._fresh_at = _NEVER
            self._drop_feed()
            stop.wait(delay)
        self._drop_feed()

    def _drop_feed(self) -> None:
        feed, self._feed = self._feed, None
        if feed is not None:
            # A broken feed's close may fail too; it is gone either way.
            with contextlib.suppress(Exception):
                feed.close()

    def _sync(self, stop: threading.Event) -> None:
        interval = self._bound / BEACONS_PER_BOUND
        feed = self._followable.follow()
        self._feed = feed
        snapshot = {c.key: (c.value, c.expires_at) for c in self._followable.records(self._kinds)}
        with self._merging:
            self._data = snapshot
        pending: dict[str, float] = {}
        next_beacon = 0.0
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_beacon:
                pending[feed.beacon()] = now
                next_beacon = now + interval
                self._sweep()
            wait = min(next_beacon - time.monotonic(), interval, MAX_WAIT)
            for item in feed.receive(max(0.0, wait)):
                if isinstance(item, Ack):
                    sent = pending.pop(item.token, None)
                    if sent is not None:
                        self._fresh_at = max(self._fresh_at, sent)
                        # Older beacons can only prove less: forget them.
                        pending = {t: s for t, s in pending.items() if s > sent}
                else:
                    self._apply(item)

    def _sweep(self) -> None:
        now = time.time()
        data = self._data
        expired = [k for k, (_, exp) in list(data.items()) if exp is not None and exp <= now]
        for key in expired:
            entry = data.get(key)
            # Re-read: a write since the list was made may have renewed it.
            if entry is not None and entry[1] is not None and entry[1] <= now:
                data.pop(key, None)


def merged(
    key: str, held: tuple[str, float | None] | None, change: Change
) -> tuple[str, float | None]:
    """What the replica holds for ``key`` after ``change``: never less than it held.

    A record only ever grows stricter in the store: a later expiry, a higher
    "log out everywhere" watermark. So the merge keeps the later expiry
    (``None``, never, beats any time) and, for a ``sub:`` watermark, the
    higher value. Nothing that reaches the follower, a stale read included,
    can shorten an entry, lower a watermark or remove one; entries leave only
    by expiring (or with a new snapshot, read from the store).
    """
    if held is None:
        return change.value, change.expires_at
    value, expires_at = held
    if change.expires_at is None or (expires_at is not None and change.expires_at > expires_at):
        expires_at = change.expires_at
    if key.startswith("sub:"):
        value = max(value, change.value, key=_watermark)
    return value, expires_at


def _watermark(value: str) -> int:
    """A watermark's value for comparison (what :func:`~.policy.check` reads: an int)."""
    try:
        return int(value)
    except ValueError:
        return -1
