"""Redis store: shared by every app instance; entries expire with their tokens.

Keys are prefixed (``jwtx:`` by default) and written with ``EXAT``, so Redis
itself drops a revocation when the token it revokes would have expired.
Needs ``pip install flask-jwtx[redis]``.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from .base import Ack, Change, Feed, RevocationStore, StoreCredentialsError, StoreUnavailableError

T = TypeVar("T")
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
        expiry = self._expiry(expires_at)
        if expiry is None:  # already past: the key must not hold an older value either
            self._call("delete", self._prefix + key)
            return
        message = json.dumps([key, value, expires_at])

        def run() -> None:
            pipe = self._client.pipeline(transaction=True)
            pipe.set(self._prefix + key, value, **expiry)
            pipe.publish(self.changes_channel, message)
            pipe.execute()

        self._guarded(run)

    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        name = self._prefix + key
        expiry = self._expiry(expires_at)
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
        score = "+inf" if expires_at is None else repr(float(expires_at))
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
                names.extend(self._client.scan_iter(match=self._prefix + prefix + "*", count=1000))
            changes: list[Change] = []
            for start in range(0, len(names), _SNAPSHOT_BATCH):
                batch = names[start : start + _SNAPSHOT_BATCH]
                pipe = self._client.pipeline(transaction=False)
                for name in batch:
                    pipe.get(name)
                    pipe.pttl(name)
                replies = pipe.execute()
                arrived = time.time()
                for index, name in enumerate(batch):
                    value, ttl = replies[2 * index], replies[2 * index + 1]
                    if value is None or ttl == -2:  # noqa: PLR2004 - Redis: "no such key"
                        continue
                    expires_at = None if ttl < 0 else arrived + ttl / 1000
                    key = name.decode()[len(self._prefix) :]
                    changes.append(Change(key, value.decode(), expires_at))
            return changes

        return self._guarded(run)

    def follow(self) -> Feed:
        return _RedisFeed(self._client, self.changes_channel, self._prefix, self._guarded)


class _RedisFeed(Feed):
    """``put``'s announcements through pub/sub; beacons on a channel of our own.

    Redis runs commands one at a time and writes each subscriber's messages in
    the order the ``PUBLISH`` commands ran, whatever their channel; so our
    beacon, published after a write's ``EXEC`` returned, reaches us after that
    write's announcement.
    """

    def __init__(
        self, client: Any, channel: str, prefix: str, guard: Callable[[Callable[[], Any]], Any]
    ) -> None:
        self._guard = guard
        self._client = client
        self._channel = channel
        self._beacons = f"{prefix}beacon:{uuid.uuid4().hex}"
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
        token = uuid.uuid4().hex
        self._guard(lambda: self._client.publish(self._beacons, token))
        return token

    def receive(self, timeout: float) -> list[Change | Ack]:
        def run() -> list[Change | Ack]:
            items: list[Change | Ack] = []
            message = self._pubsub.get_message(timeout=timeout)
            while message is not None:
                if message["type"] == "message":
                    items.append(self._parse(message["channel"], message["data"]))
                elif message["type"] == "subscribe":
                    # redis-py reconnected and subscribed again on its own:
                    # whatever was published in between is lost. Start over.
                    raise StoreUnavailableError("Redis revocation store: subscription was lost")
                message = self._pubsub.get_message(timeout=0)
            return items

        items: list[Change | Ack] = self._guard(run)
        return items

    def _parse(self, channel: bytes, data: bytes) -> Change | Ack:
        if channel.decode() == self._beacons:
            return Ack(data.decode())
        key, value, expires_at = json.loads(data)
        return Change(str(key), str(value), None if expires_at is None else float(expires_at))

    def close(self) -> None:
        self._pubsub.close()


#: After a change: drop expired members, then make both keys expire with the
#: longest-lived member left (or never, if one never expires), so Redis drops
#: a registry no earlier than its last session, and no later either.
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
  local at = math.floor(tonumber(top[2])) + 1
  redis.call('EXPIREAT', KEYS[1], at)
  redis.call('EXPIREAT', KEYS[2], at)
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
