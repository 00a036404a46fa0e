"""Key sets that change: fetched from a JWKS URL or a loader, cached, refreshed.

Why not ``jwt.PyJWKClient``? It is used for what it does well elsewhere
(PyJWT parses every JWK here), but as a cache it falls short of what a
resource server needs, each point covered by a test against a real server:

* when its cache lifespan ends while the issuer is down, it drops the keys
  and every request fails; :class:`CachedKeySource` keeps serving the last
  good set and retries at a bounded rate;
* it reads the whole response body, however large; :class:`JWKSFetcher`
  stops at ``max_bytes``;
* its timeout bounds each socket read, so an issuer that sends a byte now
  and then holds a request for as long as it likes; :class:`JWKSFetcher`'s
  timeout is a deadline for the whole fetch;
* every request waits for a refresh in progress; here no request ever waits
  for another's refresh, except for the very first set, and then only for
  as long as a fetch may take.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Final, NamedTuple
from urllib.parse import unquote, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ReadTimeoutError,
)

from ...exceptions import InvalidKeyError, KeySourceUnavailableError
from ..jose.keyset import Key, KeySet

logger = logging.getLogger("flask_jwtx.jwks")

#: How long a lookup waits for another thread's first load of a key set whose
#: loader has no timeout of its own (a ``key_set_loader``).
FIRST_LOAD_WAIT: Final = 5.0
_CHUNK: Final = 64 * 1024


def parse_remote_jwks(
    document: bytes | str | Mapping[str, Any],
    *,
    algorithm: str | None = None,
    url: str = "the JWKS endpoint",
) -> KeySet:
    """The usable keys of a JWKS fetched from ``url``, or KeySourceUnavailableError.

    Those are the only two outcomes, whatever the document holds: the
    request path turns the error into a 503 and anything else would be a 500.
    Entries that cannot be used are skipped with a warning (see
    :meth:`KeySet.from_published_jwks`); a document with none left is
    unavailable rather than an empty set, so a cached set keeps serving.
    """
    try:
        keys = KeySet.from_published_jwks(document, algorithm=algorithm, source=url)
    except InvalidKeyError as exc:
        raise KeySourceUnavailableError(f"Malformed JWKS from {url}: {exc}") from None
    if not len(keys):
        raise KeySourceUnavailableError(f"JWKS from {url} holds no usable signing key")
    return keys


class _Cutoff:
    """Ends one fetch's connection when its deadline passes, from another thread.

    urllib3's ``Timeout(total=...)`` bounds the connection and then each
    socket operation by the time left, but not their sum: an issuer that
    sends a byte just within each read's timeout (in the TLS handshake, the
    status line, the headers or the body) keeps a fetch going for as long
    as it likes. The caller therefore stops waiting at the deadline and
    shuts the connection down, which ends a read in progress at once.

    The socket is watched through a duplicate of its descriptor: the one
    urllib3 holds is handed to the TLS layer during the handshake, and a
    shutdown through any descriptor ends the connection for all of them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cut = False

    def watch(self, sock: socket.socket) -> None:
        twin = sock.dup()
        with self._lock:
            if not self._cut:
                self._sockets.append(twin)
                return
        # The deadline passed while the name was still being looked up.
        _shut(twin)
        twin.close()

    def cut(self) -> None:
        """The deadline has passed: end every connection of the fetch."""
        with self._lock:  # held, so that close() cannot free a descriptor in between
            self._cut = True
            for twin in self._sockets:
                _shut(twin)

    def close(self) -> None:
        """The fetch is over: drop the duplicates (never before, or they keep it open)."""
        with self._lock:
            self._cut = True
            twins, self._sockets = self._sockets, []
        for twin in twins:
            twin.close()


def _shut(sock: socket.socket) -> None:
    # OSError: not connected, or the connection is already gone.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


#: The cutoff of the fetch running on this thread (each fetch has a thread of its own).
_running = threading.local()


def _watched(sock: socket.socket) -> socket.socket:
    cutoff: _Cutoff | None = getattr(_running, "cutoff", None)
    if cutoff is not None:
        cutoff.watch(sock)
    return sock


class _Connection(HTTPConnection):
    """urllib3's connection, its socket shown to the fetch's cutoff."""

    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())


class _TLSConnection(HTTPSConnection):
    """The same for HTTPS (and an HTTPS target through a proxy's tunnel)."""

    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())


class _Pool(urllib3.HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


class _Proxy(NamedTuple):
    url: str
    #: ``Proxy-Authorization`` from the proxy URL's user info, if any.
    headers: dict[str, str]


def _proxy_for(scheme: str, host: str) -> _Proxy | None:
    """The proxy urllib would use for ``scheme://host`` (``*_PROXY``, ``NO_PROXY``).

    urllib3 does not read the environment itself; the standard library's
    reading is the one every Python HTTP client agrees with.
    """
    url = urllib.request.getproxies().get(scheme)
    if not url or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = f"{parts.scheme}://{parts.hostname or ''}"  # without credentials
        raise ValueError(
            f"the {scheme} proxy from the environment, {shown}, is not an http:// or https://"
            " proxy; set one, or exclude this host with NO_PROXY"
        )
    host_part = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 8080)
    headers: dict[str, str] = {}
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        token = base64.b64encode(credentials.encode()).decode("ascii")
        headers = {"Proxy-Authorization": f"Basic {token}"}
    return _Proxy(f"{parts.scheme}://{host_part}:{port}", headers)


class _Outcome:
    """What a fetch's worker thread hands back: the body, or the error."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.body = b""
        self.error: Exception | None = None


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it, outermost first (urllib3 wraps socket and TLS errors)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = (
            current.__cause__ or current.__context__ or getattr(current, "original_error", None)
        )
    return chain


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, NewConnectionError):
        return False  # refused or unresolvable; urllib3 files it under timeouts
    return isinstance(exc, TimeoutError | ReadTimeoutError | ConnectTimeoutError)


class _Request(NamedTuple):
    """What one fetch sends: a GET, or with ``form`` a form POST, and extra headers."""

    form: bytes | None
    headers: dict[str, str]


class JWKSFetcher:
    """GET a JWKS document over HTTP(S), within ``timeout`` seconds and ``max_bytes``.

    ``timeout`` is a deadline for the whole fetch: name lookup, connection,
    TLS handshake, request, status line, headers and body. It is what
    ``JWT_JWKS_TIMEOUT`` promises, and what bounds the wait of a request
    that finds no key set yet.

    The HTTP is urllib3's, given ``Timeout(total=timeout)``, which bounds
    the connection and each read by the time left. Two waits escape that
    bound: a name lookup (``getaddrinfo`` takes no timeout at all) and an
    issuer that drips a byte just within each read's timeout. So the fetch
    runs in a worker thread of its own, and the caller waits for it until
    the deadline only; then :class:`_Cutoff` shuts the worker's connection
    down, which ends it at once. A worker stuck in a name lookup is left
    to the system resolver's own timeout, as no Python code can interrupt
    it; it holds no connection and no lock.

    A redirect is never followed: a JWKS URL is configuration, and a
    redirect elsewhere is refused like any answer other than 200. Each
    fetch opens a connection of its own. ``ssl_context`` defaults to
    :func:`ssl.create_default_context` (system CAs, host name checked).

    Proxies are found as urllib finds them (``HTTPS_PROXY``/``HTTP_PROXY``,
    ``NO_PROXY``), read when the fetcher is built, and used through
    urllib3's :class:`~urllib3.ProxyManager`: HTTPS goes through a
    ``CONNECT`` tunnel (TLS and the host name are still checked end to end),
    plain HTTP as an absolute-URI request. The proxy's part counts against
    the same deadline.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        max_bytes: int = 256 * 1024,
        algorithm: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"JWKS URL must be http(s): {url!r}")
        if not parts.hostname:
            raise ValueError(f"JWKS URL has no host: {url!r}")
        _ = parts.port  # ValueError if out of range
        self.url = url
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.algorithm = algorithm
        self._request_url = parts._replace(fragment="").geturl()
        self._ssl_context = ssl_context
        if parts.scheme == "https" and ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        self._proxy = _proxy_for(parts.scheme, parts.hostname)

    def __call__(self) -> KeySet:
        return parse_remote_jwks(self._get(), algorithm=self.algorithm, url=self.url)

    def _get(self, *, form: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
        """The body of a GET (or, with ``form``, a form POST: token introspection)."""
        cutoff = _Cutoff()
        outcome = _Outcome()
        request = _Request(form, headers or {})
        worker = threading.Thread(
            target=self._work,
            args=(cutoff, outcome, request),
            name="flask-jwtx-jwks-fetch",
            daemon=True,
        )
        worker.start()
        if not outcome.done.wait(self.timeout):
            cutoff.cut()
            raise KeySourceUnavailableError(
                f"JWKS endpoint {self.url} did not answer within {self.timeout} s"
            )
        if outcome.error is not None:
            raise outcome.error
        return outcome.body

    def _get_json_object(
        self, *, form: bytes | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """The body of :meth:`_get` as a JSON object (metadata, introspection), or unavailable."""
        body = self._get(form=form, headers=headers)
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            raise KeySourceUnavailableError(f"{self.url} did not answer with JSON") from None
        if not isinstance(value, dict):
            raise KeySourceUnavailableError(f"{self.url} did not answer with a JSON object")
        return value

    def _work(self, cutoff: _Cutoff, outcome: _Outcome, request: _Request) -> None:
        """The worker thread: fetch, and hand back the body or the error."""
        _running.cutoff = cutoff
        try:
            outcome.body = self._fetch(request)
        except KeySourceUnavailableError as exc:
            outcome.error = exc
        except (HTTPError, http.client.HTTPException, OSError, ValueError) as exc:
            if any(_is_timeout(cause) for cause in _chain(exc)):
                message = f"did not answer within {self.timeout} s"
            else:  # the innermost error says what went wrong (refused, bad certificate...)
                message = f"unreachable: {_chain(exc)[-1]!r}"
            outcome.error = KeySourceUnavailableError(f"JWKS endpoint {self.url} {message}")
        except Exception as exc:  # a defect: raised again in the caller's thread
            outcome.error = exc
        finally:
            cutoff.close()
            outcome.done.set()

    def _manager(self) -> urllib3.PoolManager:
        manager: urllib3.PoolManager
        if self._proxy is None:
            manager = urllib3.PoolManager(ssl_context=self._ssl_context)
        else:
            manager = urllib3.ProxyManager(
                self._proxy.url, proxy_headers=self._proxy.headers, ssl_context=self._ssl_context
            )
        # Connections whose sockets the fetch's cutoff can shut down.
        manager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}
        return manager

    def _fetch(self, request: _Request) -> bytes:
        manager = self._manager()
        headers = {"Accept": "application/json", **request.headers}
        if request.form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            response = manager.urlopen(
                "GET" if request.form is None else "POST",
                self._request_url,
                body=request.form,
                headers=headers,
                redirect=False,
                retries=False,
                timeout=urllib3.Timeout(total=self.timeout),
                preload_content=False,
                decode_content=False,  # as sent: no decompression bomb under max_bytes
            )
            try:
                if response.status != HTTPStatus.OK:
                    raise KeySourceUnavailableError(
                        f"JWKS endpoint {self.url} answered {response.status}"
                    )
                return self._read_body(response)
            finally:
                response.close()
        finally:
            manager.clear()

    def _read_body(self, response: urllib3.BaseHTTPResponse) -> bytes:
        """The whole body, at most ``max_bytes``; urllib3 checks ``Content-Length``."""
        body = bytearray()
        while len(body) <= self.max_bytes:
            chunk = response.read(min(_CHUNK, self.max_bytes + 1 - len(body)))
            if not chunk:
                break
            body += chunk
        if len(body) > self.max_bytes:
            raise KeySourceUnavailableError(
                f"JWKS document from {self.url} is larger than {self.max_bytes} bytes"
            )
        return bytes(body)


class CachedKeySource:
    """A key set from ``load``, cached for ``ttl`` seconds.

    * After ``ttl`` the next lookup refreshes; if that fails, the cached set
      keeps serving (logged) and the next attempt waits ``min_refresh_interval``.
    * An unknown ``kid`` triggers a refresh at most once per
      ``min_refresh_interval``, so random ``kid`` values cannot make us
      hammer the issuer.
    * No lookup waits for a refresh another thread is doing. Whoever sends
      ``kid`` values can choose them, so if an unknown ``kid`` waited for a
      refresh in progress, any client could make every worker thread wait
      on a slow issuer. An unknown ``kid`` met during a refresh is unknown:
      the token is refused, and its client retries.
    * The one wait is for the very first set, when there is nothing to serve
      yet; it lasts at most ``first_load_wait`` seconds (by default the
      fetcher's timeout, so the fetch in progress ends within it) and then
      fails with :class:`~flask_jwtx.exceptions.KeySourceUnavailableError`.
    * With ``max_stale``, a set that could not be refreshed for that long
      past its ``ttl`` stops serving (503) until a fetch succeeds: an issuer
      retires a leaked key by dropping it from its JWKS, and whoever can
      block our fetches must not keep that key alive forever.
    """

    def __init__(
        self,
        load: Callable[[], KeySet],
        *,
        ttl: float = 300.0,
        min_refresh_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        first_load_wait: float | None = None,
        max_stale: float | None = None,
    ) -> None:
        self._load = load
        self.ttl = ttl
        self.max_stale = max_stale
        self.min_refresh_interval = min_refresh_interval
        if first_load_wait is None:
            first_load_wait = load.timeout if isinstance(load, JWKSFetcher) else FIRST_LOAD_WAIT
        self.first_load_wait = first_load_wait
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._attempts = 0
        self._loaded_at = float("-inf")
        self._attempted_at = float("-inf")
        #: When the cached set was fetched (``invalidate`` leaves it alone).
        self._fetched_at = float("-inf")

    def _refresh(self) -> None:
        """Load the set once; the caller holds the lock."""
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
        self._loaded_at = self._fetched_at = self._attempted_at

    def _refresh_unless_busy(self) -> bool:
        """Refresh now, unless another thread is refreshing; never waits."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._refresh()
        finally:
            self._lock.release()
        return True

    def _first_load(self) -> KeySet:
        attempts = self._attempts
        # Never fetched successfully: retry at the same bounded rate as an
        # unknown kid, so an unreachable issuer is not asked (and waited
        # for, up to the timeout) once per request.
        if attempts and not self._may_retry():
            raise KeySourceUnavailableError("No key set fetched yet; retrying later")
        if not self._lock.acquire(timeout=self.first_load_wait):
            raise KeySourceUnavailableError(
                f"No key set yet: the first fetch took over {self.first_load_wait} s"
            )
        try:
            # Skip if an attempt completed while we waited for the lock.
            if self._keys is None and self._attempts == attempts:
                self._refresh()
        finally:
            self._lock.release()
        if self._keys is None:  # a concurrent first load failed meanwhile
            raise KeySourceUnavailableError("No key set fetched yet; retrying later")
        return self._keys

    def _may_retry(self) -> bool:
        return self._clock() - self._attempted_at >= self.min_refresh_interval

    def current(self) -> KeySet:
        """The key set, refreshed if older than ``ttl`` (see the class docstring)."""
        keys = self._keys
        if keys is None:
            return self._first_load()
        if self._clock() - self._loaded_at >= self.ttl and self._may_retry():
            self._refresh_unless_busy()
        latest = self._keys
        if self.max_stale is not None:
            age = self._clock() - self._fetched_at
            if age > self.ttl + self.max_stale:
                raise KeySourceUnavailableError(
                    f"The cached key set is {age:.0f} s old and could not be refreshed"
                )
        return keys if latest is None else latest

    def key(self, kid: str) -> Key | None:
        """The key with ``kid``, refreshing once (rate-bounded) if it is unknown.

        Only a thread that can refresh right away does; any other answers
        from the newest set it can see without waiting (class docstring).
        """
        key = self.current().get(kid)
        if key is None and self._may_retry():
            self._refresh_unless_busy()
        if key is None and self._keys is not None:
            key = self._keys.get(kid)  # the newest set, installed by any thread
        return key

    @property
    def origin(self) -> str:
        """Where the set comes from, for messages: the JWKS URL, or the loader's name."""
        load = self._load
        if isinstance(load, JWKSFetcher):
            return load.url
        inner = getattr(load, "loader", load)  # settings wraps a key_set_loader
        return f"key_set_loader {getattr(inner, '__qualname__', repr(inner))}"

    def fetch(self) -> KeySet:
        """Load the set now, whatever the cache holds, and keep it; raise if that fails.

        For ``flask jwt check``: requests never wait on this, but an operator
        wants to know whether the issuer answers *now*, within the deadline,
        with keys that can be used. Raises
        :class:`~flask_jwtx.exceptions.KeySourceUnavailableError` or
        :class:`~flask_jwtx.exceptions.InvalidKeyError`.
        """
        keys = self._load()
        with self._lock:
            self._keys = keys
            self._loaded_at = self._fetched_at = self._attempted_at = self._clock()
        return keys

    def invalidate(self) -> None:
        """Forget the load time, so the next lookup refreshes (rotation on demand)."""
        self._loaded_at = float("-inf")
        self._attempted_at = float("-inf")
