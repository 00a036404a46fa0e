"""Redis store: shared by every app instance; entries expire with their tokens.

Keys are prefixed (``jwtx:`` by default) and written with the time they have
left by the app's clock (``PX``), so Redis itself drops a revocation when the
token it revokes would have expired, whatever Redis's own clock says.
Needs ``pip install flask-jwtx[redis]``.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from .base import (
    MAX_RECEIVE,
    Ack,
    Change,
    Feed,
    IgnoredMessages,
    RevocationStore,
    StoreCredentialsError,
    StoreUnavailableError,
    clamp_expiry,
    parse_hint,
)

T = TypeVar("T")

#: What Redis's ``SCAN MATCH`` reads as glob syntax rather than as itself.
_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


def _glob_escaped(text: str) -> str:
    """``text`` as a ``MATCH`` pattern that matches exactly itself.

    A key prefix is the app's choice (``prefix="app[1]:"``): unescaped, its
    brackets would make the snapshot miss every record, and a replica would
    accept revoked tokens while counting itself fresh.
    """
    return _GLOB_SPECIAL.sub(r"\\\1", text)


#: How many keys one snapshot round trip reads.
_SNAPSHOT_BATCH = 500

try:
    import redis as _redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError:  # pragma: no cover - exercised by the factory's error message
    _redis = None  # type: ignore[assignment]


def _unavailable(exc: Exception) -> StoreUnavailableError:
    """The store error for a redis-py error; a refused password is told apart.

    ``NOAUTH`` (no password sent, or ``HELLO`` before ``AUTH``), ``WRONGPASS``,
    and ``AUTH`` sent to a server that has no password all mean the server is
    up and the URL's credentials are what to fix.
    """
    message = f"Redis revocation store: {exc}"
    refused = (_redis.AuthenticationError, _redis.exceptions.AuthenticationWrongNumberOfArgsError)
    if isinstance(exc, refused):
        return StoreCredentialsError(message)
    return StoreUnavailableError(message)


class RedisStore(RevocationStore):
    """Revocations in Redis: ``MGET`` per request, ``SET ... NX`` for first use."""

    def __init__(self, client: Any, prefix: str = "jwtx:") -> None:
        self._client = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisStore:
        if _redis is None:
            raise ImportError(
                "The Redis store needs redis-py: pip install 'flask-jwtx[redis]'", name="redis"
            )
        # One immediate retry (for a dropped idle connection) and no backoff:
        # when Redis is down the request should get its 503 now, not after
        # redis-py's default seconds of retries.
        client = _redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, retry=Retry(NoBackoff(), 1)
        )
        return cls(client, **kwargs)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, method)(*args, **kwargs)
        except Exception as exc:
            if _redis is not None and isinstance(exc, _redis.RedisError):
                raise _unavailable(exc) from None
            raise

    @staticmethod
    def _guarded(operation: Callable[[], T]) -> T:
        """Run ``operation``; Redis errors become :class:`StoreUnavailableError`."""
        try:
            return operation()
        except Exception as exc:
            if _redis is not None and isinstance(exc, _redis.RedisError):
                raise _unavailable(exc) from None
            raise

    @staticmethod
    def _expiry(expires_at: float | None) -> dict[str, Any] | None:
        """A relative expiry (``PX``): what is left of ``expires_at`` by *our* clock.

        An absolute ``EXAT`` would be read on the Redis host's clock: an app
        whose clock is behind Redis's by d seconds would see every record
        vanish d seconds early, and one frozen in a test, at once. Rounded up
        to the millisecond, so a record never lives less than asked.
        ``None``: nothing is left, the record is already dead.
        """
        if expires_at is None:
            return {}
        remaining = math.ceil((expires_at - time.time()) * 1000)
        return {"px": remaining} if remaining > 0 else None

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        values = self._call("mget", [self._prefix + key for key in keys])
        return [v.decode() if isinstance(v, bytes) else v for v in values]

    def put(self, key: str, value: str, expires_at: float | None) -> None:
        # The write and its announcement to replicas (:mod:`.replica`) in one
        # MULTI/EXEC: one round trip, and no replica can miss a write that landed.
        # The announcement is the key alone: replicas read the value from here.
        expiry = self._expiry(clamp_expiry(expires_at))
        if expiry is None:  # already past: the key must not hold an older value either
            self._call("delete", self._prefix + key)
            return

        def run() -> None:
            pipe = self._client.pipeline(transaction=True)
            pipe.set(self._prefix + key, value, **expiry)
            pipe.publish(self.changes_channel, key)
            pipe.execute()

        self._guarded(run)

    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        name = self._prefix + key
        expiry = self._expiry(clamp_expiry(expires_at))
        if expiry is None:  # dead on arrival: as if written and expired at once
            return None
        if self._call("set", name, value, nx=True, **expiry):
            return None
        existing = self._call("get", name)
        if existing is None:  # expired between the two calls: try once more
            return self.put_if_absent(key, value, expires_at)
        return existing.decode() if isinstance(existing, bytes) else str(existing)

    # -- Registries: a hash of values and a sorted set of expiries, one slot ----

    def _registry_keys(self, registry: str) -> tuple[str, str]:
        # One hash tag, so both keys land on the same Redis Cluster slot.
        name = f"{self._prefix}{{{registry}}}"
        return name, name + ":exp"

    def registry_put(
        self, registry: str, member: str, value: str, expires_at: float | None
    ) -> None:
        expires_at = clamp_expiry(expires_at)
        score = "+inf" if expires_at is None else repr(expires_at)
        keys = self._registry_keys(registry)
        self._call("eval", _REGISTRY_PUT, 2, *keys, member, value, score, repr(time.time()))

    def registry_get(self, registry: str) -> Mapping[str, str]:
        keys = self._registry_keys(registry)
        flat = self._call("eval", _REGISTRY_GET, 2, *keys, repr(time.time()))
        text = [v.decode() if isinstance(v, bytes) else str(v) for v in flat]
        return dict(zip(text[::2], text[1::2], strict=True))

    def registry_delete(self, registry: str, members: Sequence[str]) -> None:
        if members:
            keys = self._registry_keys(registry)
            self._call("eval", _REGISTRY_DELETE, 2, *keys, repr(time.time()), *members)

    def ping(self) -> None:
        self._call("ping")

    def close(self) -> None:
        self._client.close()

    # -- Replication (:mod:`.replica`) -------------------------------------------

    @property
    def changes_channel(self) -> str:
        """The pub/sub channel every ``put`` is announced on."""
        return self._prefix + "changes"

    def follow_problem(self) -> str | None:
        return None

    def records(self, prefixes: tuple[str, ...]) -> list[Change]:
        """Every unexpired key under ``prefixes``: ``SCAN``, then ``GET`` and ``PTTL`` in batches.

        Expiry is rebuilt from the remaining time as the moment the answer
        arrived plus that time: never earlier than Redis's own.
        """

        def run() -> list[Change]:
            names: list[bytes] = []
            for prefix in prefixes:
                pattern = _glob_escaped(self._prefix + prefix) + "*"
                names.extend(self._client.scan_iter(match=pattern, count=1000))
            return self._read([name.decode()[len(self._prefix) :] for name in names])

        return self._guarded(run)

    def _read(self, keys: Iterable[str]) -> list[Change]:
        """The live ones among ``keys``, with their values: ``GET`` and ``PTTL`` in batches.

        Expiry is rebuilt from the remaining time as the moment the answer
        arrived plus that time: never earlier than Redis's own. Not guarded:
        callers run it inside :meth:`_guarded`.
        """
        keys = list(keys)
        changes: list[Change] = []
        for start in range(0, len(keys), _SNAPSHOT_BATCH):
            batch = keys[start : start + _SNAPSHOT_BATCH]
            pipe = self._client.pipeline(transaction=False)
            for key in batch:
                pipe.get(self._prefix + key)
                pipe.pttl(self._prefix + key)
            # An error reply (a key of another type: a message may name any
            # key) stands for that key alone, which is then skipped.
            replies = pipe.execute(raise_on_error=False)
            arrived = time.time()
            for index, key in enumerate(batch):
                value, ttl = replies[2 * index], replies[2 * index + 1]
                gone = ttl == -2  # noqa: PLR2004 - Redis: "no such key"
                if gone or not isinstance(value, bytes | str) or not isinstance(ttl, int):
                    continue
                expires_at = None if ttl < 0 else arrived + ttl / 1000
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                changes.append(Change(key, text, expires_at))
        return changes

    def follow(self) -> Feed:
        return _RedisFeed(
            self._client, self.changes_channel, self._prefix, self._guarded, self._read
        )


class _RedisFeed(Feed):
    """``put``'s announcements through pub/sub; beacons on a channel of our own.

    Redis runs commands one at a time and writes each subscriber's messages in
    the order the ``PUBLISH`` commands ran, whatever their channel; so our
    beacon, published after a write's ``EXEC`` returned, reaches us after that
    write's announcement.

    An announcement names a key and nothing else; :meth:`receive` reads the
    keys named (one pipelined round trip for all of them) before returning
    anything that came after them, so a beacon still proves what it proved.
    Any client allowed to ``PUBLISH`` can send us messages: what they name
    is read from the store like the rest, and what names nothing is ignored.
    """

    def __init__(
        self,
        client: Any,
        channel: str,
        prefix: str,
        guard: Callable[[Callable[[], Any]], Any],
        read: Callable[[Iterable[str]], list[Change]],
    ) -> None:
        self._guard = guard
        self._read = read
        self._client = client
        self._channel = channel
        self._beacons = f"{prefix}beacon:{uuid.uuid4().hex}"
        self._ignored = IgnoredMessages(f"Redis channel {channel}")
        self._pubsub = client.pubsub()
        try:
            self._guard(self._subscribe)
        except BaseException:
            self.close()
            raise

    def _subscribe(self) -> None:
        self._pubsub.subscribe(self._channel, self._beacons)
        # Wait for both confirmations: from then on nothing published is missed.
        confirmed = 0
        deadline = time.monotonic() + 5
        while confirmed < 2:  # noqa: PLR2004 - the two channels just subscribed
            if time.monotonic() > deadline:
                raise StoreUnavailableError("Redis revocation store: subscription not confirmed")
            message = self._pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "subscribe":
                confirmed += 1

    def beacon(self) -> str:
        token = uuid.uuid4().hex  # random: nobody can send it back before we publish it
        self._guard(lambda: self._client.publish(self._beacons, token))
        return token

    def receive(self, timeout: float) -> list[Change | Ack]:
        def run() -> list[Change | Ack]:
            items: list[Change | Ack] = []
            #: Keys named since the last beacon, read together before it is passed on.
            named: dict[str, None] = {}
            message = self._pubsub.get_message(timeout=timeout)
            taken = 0
            while message is not None:
                taken += 1
                if message["type"] == "message":
                    if _text(message["channel"]) == self._beacons:
                        items.extend(self._read(named))
                        named.clear()
                        items.append(Ack(_text(message["data"])))
                    else:
                        key = parse_hint(message["data"])
                        if isinstance(key, str):
                            named[key] = None
                        else:
                            self._ignored.note("not a key")
                elif message["type"] == "subscribe":
                    # redis-py reconnected and subscribed again on its own:
                    # whatever was published in between is lost. Start over.
                    raise StoreUnavailableError("Redis revocation store: subscription was lost")
                if taken >= MAX_RECEIVE:
                    break  # let the follower send its beacon; the rest waits in the socket
                message = self._pubsub.get_message(timeout=0)
            items.extend(self._read(named))
            return items

        items: list[Change | Ack] = self._guard(run)
        return items

    def close(self) -> None:
        self._pubsub.close()


def _text(data: bytes | str) -> str:
    """A pub/sub field as text (clients built with ``decode_responses=True`` give ``str``)."""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)


#: After a change: drop expired members, then make both keys expire with the
#: longest-lived member left (or never, if one never expires), so Redis drops
#: a registry no earlier than its last session, and no later either. NOW is
#: the app's clock, and so is the expiry: what is left until the last member
#: expires (``PEXPIRE``), never an instant read on Redis's own clock (as the
#: revocation records, see ``RedisStore._expiry``).
_REGISTRY_EXPIRE = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', NOW)
for _, m in ipairs(expired) do redis.call('HDEL', KEYS[1], m) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', NOW)
local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if #top == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
elseif top[2] == 'inf' then
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
else
  local left = string.format('%.0f', math.ceil((tonumber(top[2]) - tonumber(NOW)) * 1000))
  redis.call('PEXPIRE', KEYS[1], left)
  redis.call('PEXPIRE', KEYS[2], left)
end
"""

_REGISTRY_PUT = (
    """
local NOW = ARGV[4]
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
"""
    + _REGISTRY_EXPIRE
)

_REGISTRY_DELETE = (
    """
local NOW = ARGV[1]
for i = 2, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
"""
    + _REGISTRY_EXPIRE
)

_REGISTRY_GET = """
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')
local out = {}
if #live == 0 then return out end
local values = redis.call('HMGET', KEYS[1], unpack(live))
for i, m in ipairs(live) do
  if values[i] then
    out[#out + 1] = m
    out[#out + 1] = values[i]
  end
end
return out
"""
