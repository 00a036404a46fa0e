"""Key sets that change: fetched from a JWKS URL or a loader, cached, refreshed.

Why not ``jwt.PyJWKClient``? It is used for what it does well elsewhere
(PyJWT parses every JWK here), but as a cache it falls short of what a
resource server needs, each point covered by a test against a real server:

* when its cache lifespan ends while the issuer is down, it drops the keys
  and every request fails; :class:`CachedKeySource` keeps serving the last
  good set and retries at a bounded rate;
* it reads the whole response body, however large; :class:`JWKSFetcher`
  stops at ``max_bytes``;
* every request waits for a refresh in progress; here, when a set is cached,
  only one thread refreshes and the others keep using the cached set.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from .exceptions import InvalidKeyError, KeySourceUnavailableError
from .keyset import Key, KeySet

logger = logging.getLogger("flask_jwtx.jwks")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A JWKS URL is configuration: a redirect elsewhere is refused, not followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class JWKSFetcher:
    """GET a JWKS document over HTTP(S), bounded in time and size."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        max_bytes: int = 256 * 1024,
        algorithm: str | None = None,
    ) -> None:
        if urlparse(url).scheme not in ("http", "https"):
            raise ValueError(f"JWKS URL must be http(s): {url!r}")
        self.url = url
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.algorithm = algorithm
        self._opener = urllib.request.build_opener(_NoRedirects())

    def __call__(self) -> KeySet:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                if response.status != 200:
                    raise KeySourceUnavailableError(
                        f"JWKS endpoint {self.url} answered {response.status}"
                    )
                body = response.read(self.max_bytes + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise KeySourceUnavailableError(
                f"JWKS endpoint {self.url} answered {exc.code}"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
            raise KeySourceUnavailableError(
                f"JWKS endpoint {self.url} unreachable: {exc}"
            ) from None
        if len(body) > self.max_bytes:
            raise KeySourceUnavailableError(
                f"JWKS document from {self.url} is larger than {self.max_bytes} bytes"
            )
        try:
            keys = KeySet.from_jwks(body, algorithm=self.algorithm, skip_unusable=True)
        except InvalidKeyError as exc:
            raise KeySourceUnavailableError(f"Malformed JWKS from {self.url}: {exc}") from None
        if not len(keys):
            raise KeySourceUnavailableError(f"JWKS from {self.url} holds no usable signing key")
        return keys


class CachedKeySource:
    """A key set from ``load``, cached for ``ttl`` seconds.

    * After ``ttl`` the next lookup refreshes; if that fails, the cached set
      keeps serving (logged) and the next attempt waits ``min_refresh_interval``.
    * An unknown ``kid`` triggers a refresh at most once per
      ``min_refresh_interval``, so random ``kid`` values cannot make us
      hammer the issuer.
    * While one thread refreshes, others use the cached set; only the very
      first load blocks.
    """

    def __init__(
        self,
        load: Callable[[], KeySet],
        *,
        ttl: float = 300.0,
        min_refresh_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self.ttl = ttl
        self.min_refresh_interval = min_refresh_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._attempts = 0
        self._loaded_at = float("-inf")
        self._attempted_at = float("-inf")

    def _refresh(self, *, block: bool, after_attempt: int | None = None) -> None:
        """Load the set once. With ``after_attempt`` (a count of completed attempts
        read before waiting), skip if another attempt completed meanwhile."""
        if not self._lock.acquire(blocking=block):
            return  # another thread is refreshing; the caller uses the cached set
        try:
            if after_attempt is not None and self._attempts != after_attempt:
                return  # an attempt completed while we waited for the lock
            self._attempted_at = self._clock()
            try:
                keys = self._load()
            except (KeySourceUnavailableError, InvalidKeyError) as exc:
                if self._keys is None:
                    raise KeySourceUnavailableError(str(exc)) from None
                logger.warning("Keeping the cached key set: %s", exc)
                return
            finally:
                self._attempts += 1  # completed attempts, successful or not
            self._keys = keys
            self._loaded_at = self._attempted_at
        finally:
            self._lock.release()

    def _may_retry(self) -> bool:
        return self._clock() - self._attempted_at >= self.min_refresh_interval

    def current(self) -> KeySet:
        """The key set, refreshed if older than ``ttl`` (see the class docstring)."""
        if self._keys is None:
            attempts = self._attempts
            # Never fetched successfully: retry at the same bounded rate as an
            # unknown kid, so an unreachable issuer is not asked (and waited
            # for, up to the timeout) once per request.
            if attempts and not self._may_retry():
                raise KeySourceUnavailableError("No key set fetched yet; retrying later")
            self._refresh(block=True, after_attempt=attempts)
            if self._keys is None:  # a concurrent first load failed meanwhile
                raise KeySourceUnavailableError("No key set fetched yet; retrying later")
        elif self._clock() - self._loaded_at >= self.ttl and self._may_retry():
            self._refresh(block=False)
        assert self._keys is not None  # _refresh(block=True) raised otherwise
        return self._keys

    def key(self, kid: str) -> Key | None:
        """The key with ``kid``, refreshing once (rate-bounded) if it is unknown.

        A thread that meets an unknown ``kid`` while another is refreshing
        waits for that refresh (the new key is likely in it) rather than
        failing or fetching again.
        """
        attempts = self._attempts
        key = self.current().get(kid)
        if key is None and (self._may_retry() or self._lock.locked()):
            self._refresh(block=True, after_attempt=attempts)
            key = self.current().get(kid)
        return key

    def invalidate(self) -> None:
        """Forget the load time, so the next lookup refreshes (rotation on demand)."""
        self._loaded_at = float("-inf")
        self._attempted_at = float("-inf")
