"""Redis store: shared by every app instance; entries expire with their tokens.

Keys are prefixed (``jwtx:`` by default) and written with ``EXAT``, so Redis
itself drops a revocation when the token it revokes would have expired.
Needs ``pip install flask-jwtx[redis]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import RevocationStore, StoreUnavailableError

try:
    import redis as _redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError:  # pragma: no cover - exercised by the factory's error message
    _redis = None  # type: ignore[assignment]


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
                raise StoreUnavailableError(f"Redis revocation store: {exc}") from None
            raise

    @staticmethod
    def _expiry(expires_at: float | None) -> dict[str, Any]:
        # EXAT takes whole seconds; round up so an entry never outlives less than its token.
        return {} if expires_at is None else {"exat": int(expires_at) + 1}

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        values = self._call("mget", [self._prefix + key for key in keys])
        return [v.decode() if isinstance(v, bytes) else v for v in values]

    def put(self, key: str, value: str, expires_at: float | None) -> None:
        self._call("set", self._prefix + key, value, **self._expiry(expires_at))

    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        name = self._prefix + key
        if self._call("set", name, value, nx=True, **self._expiry(expires_at)):
            return None
        existing = self._call("get", name)
        if existing is None:  # expired between the two calls: try once more
            return self.put_if_absent(key, value, expires_at)
        return existing.decode() if isinstance(existing, bytes) else str(existing)

    def ping(self) -> None:
        self._call("ping")

    def close(self) -> None:
        self._client.close()
