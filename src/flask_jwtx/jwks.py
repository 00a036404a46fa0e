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
import ipaddress
import logging
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final, NamedTuple
from urllib.parse import unquote, urlsplit

from .exceptions import InvalidKeyError, KeySourceUnavailableError
from .keyset import Key, KeySet

logger = logging.getLogger("flask_jwtx.jwks")

#: How long a lookup waits for another thread's first load of a key set whose
#: loader has no timeout of its own (a ``key_set_loader``).
FIRST_LOAD_WAIT: Final = 5.0
_CHUNK: Final = 64 * 1024

_AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]


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


class _Deadline:
    """One fetch's time budget, enforced on whichever socket is open.

    A socket timeout bounds one operation, not their sum: a peer that sends
    a byte just before each timeout keeps a fetch going forever. So each
    operation is given the time *remaining* as its timeout, and, because
    http.client reads a status or header line through a buffered file (many
    reads we cannot re-arm one by one), a timer shuts the socket down when
    the budget is spent, which ends any read in progress at once.
    """

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self._end - time.monotonic()
        if left <= 0 or self.expired:
            raise TimeoutError("the fetch deadline has passed")
        return left

    def watch(self, sock: socket.socket) -> None:
        """Make ``sock`` the socket the timer shuts down, and bound its next operation."""
        with self._lock:
            self._socket = sock
            expired = self.expired
        if expired:
            _shut(sock)
        self.bound()

    def bound(self) -> None:
        """Give the watched socket's next operation only the time that is left."""
        if self._socket is not None:
            self._socket.settimeout(self.remaining())

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._socket
        if sock is not None:
            _shut(sock)

    def close(self) -> None:
        self._timer.cancel()
        if self._socket is not None:
            self._socket.close()


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS socket: ssl.SSLSocket's own
    # shutdown first drops its TLS state, which the reading thread still uses.
    # OSError: not connected yet, or already closed; nothing left to end.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _resolve(host: str, port: int, deadline: _Deadline) -> Sequence[_AddressInfo]:
    """getaddrinfo within the deadline: it takes no timeout of its own.

    The lookup runs in a daemon thread that is abandoned at the deadline; it
    ends when the system resolver gives up. IP literals need no lookup.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    found: list[Sequence[_AddressInfo]] = []
    failed: list[Exception] = []

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as exc:  # handed to the fetching thread below
            failed.append(exc)

    worker = threading.Thread(target=lookup, name="flask-jwtx-resolve", daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if failed:
        raise failed[0]
    if not found:
        raise TimeoutError(f"resolving {host} took longer than the fetch deadline")
    return found[0]


def _connect(host: str, port: int, deadline: _Deadline) -> socket.socket:
    """A TCP connection to the first address of ``host`` that answers in time.

    Unlike socket.create_connection, every address tried shares the one
    deadline instead of each getting the whole timeout.
    """
    error: OSError = OSError(f"{host} has no address")
    for family, kind, proto, _, address in _resolve(host, port, deadline):
        sock = socket.socket(family, kind, proto)
        try:
            deadline.watch(sock)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            error = exc
            if deadline.expired:
                break
            continue
        return sock
    raise error


class _Proxy(NamedTuple):
    host: str
    port: int
    #: ``Basic ...`` credentials from the proxy URL's user info, if any.
    authorization: str | None


def _proxy_for(scheme: str, host: str) -> _Proxy | None:
    """The proxy urllib would use for ``scheme://host`` (environment, NO_PROXY)."""
    url = urllib.request.getproxies().get(scheme)
    if not url or urllib.request.proxy_bypass(host):
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        return None
    authorization = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
    return _Proxy(parts.hostname, parts.port or 8080, authorization)


def _tunnel(sock: socket.socket, host: str, port: int, proxy: _Proxy, deadline: _Deadline) -> None:
    """Ask the proxy on ``sock`` for a ``CONNECT`` tunnel to ``host:port``, within the deadline."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    deadline.bound()
    answer = http.client.HTTPResponse(sock, method="CONNECT")
    try:
        answer.begin()
    finally:
        answer.close()  # closes the reader only: the socket carries the tunnel
    if answer.status != HTTPStatus.OK:
        raise OSError(f"the proxy {proxy.host}:{proxy.port} refused the tunnel ({answer.status})")


class JWKSFetcher:
    """GET a JWKS document over HTTP(S), within ``timeout`` seconds and ``max_bytes``.

    ``timeout`` is a deadline for the whole fetch: name lookup, connection,
    TLS handshake, request, status line, headers and body. It is what
    ``JWT_JWKS_TIMEOUT`` promises, and what bounds the wait of a request
    that finds no key set yet.

    The fetch is plain :mod:`http.client` rather than urllib, whose timeout
    bounds each socket read and cannot be made a deadline. A redirect is
    never followed: a JWKS URL is configuration, and a redirect elsewhere
    is refused like any answer other than 200. ``ssl_context`` defaults to
    :func:`ssl.create_default_context` (system CAs, host name checked).

    Proxies are found as urllib finds them (``HTTPS_PROXY``/``HTTP_PROXY``,
    ``NO_PROXY``), read when the fetcher is built: HTTPS goes through a
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
        self.url = url
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.algorithm = algorithm
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)  # ValueError if out of range
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._ssl_context = ssl_context
        if self._tls and ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        self._proxy = _proxy_for(parts.scheme, self._host)

    def __call__(self) -> KeySet:
        return parse_remote_jwks(self._get(), algorithm=self.algorithm, url=self.url)

    def _get(self, *, form: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
        """The body of a GET (or, with ``form``, a form POST: token introspection)."""
        deadline = _Deadline(self.timeout)
        connection: http.client.HTTPConnection | None = None
        response: http.client.HTTPResponse | None = None
        try:
            connection, target = self._open(deadline)
            headers = {"Accept": "application/json", **(headers or {})}
            proxy = self._proxy
            if proxy is not None and not self._tls and proxy.authorization:
                headers["Proxy-Authorization"] = proxy.authorization
            if form is None:
                connection.request("GET", target, headers=headers)
            else:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                connection.request("POST", target, body=form, headers=headers)
            deadline.bound()
            response = connection.getresponse()
            if response.status != HTTPStatus.OK:
                raise KeySourceUnavailableError(
                    f"JWKS endpoint {self.url} answered {response.status}"
                )
            return self._read_body(response, deadline)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if deadline.expired or isinstance(exc, TimeoutError):
                raise KeySourceUnavailableError(
                    f"JWKS endpoint {self.url} did not answer within {self.timeout} s"
                ) from None
            raise KeySourceUnavailableError(
                f"JWKS endpoint {self.url} unreachable: {exc!r}"
            ) from None
        finally:
            deadline.close()
            # The response may own the socket (http.client hands it over when
            # the server says it will close), so both are closed here.
            if response is not None:
                response.close()
            if connection is not None:
                connection.close()

    def _open(self, deadline: _Deadline) -> tuple[http.client.HTTPConnection, str]:
        """A connection to the issuer (through the proxy, TLS done), and the request target."""
        proxy = self._proxy
        target = self._target
        if proxy is None:
            sock = _connect(self._host, self._port, deadline)
        else:
            sock = _connect(proxy.host, proxy.port, deadline)
            if self._tls:
                _tunnel(sock, self._host, self._port, proxy, deadline)
            else:  # a plain-HTTP proxy takes the absolute URI
                target = self.url.split("#", 1)[0]
        connection: http.client.HTTPConnection
        if self._ssl_context is None:
            connection = http.client.HTTPConnection(self._host, self._port)
        else:
            tls = self._ssl_context.wrap_socket(
                sock, server_hostname=self._host, do_handshake_on_connect=False
            )
            deadline.watch(tls)  # wrap_socket took over sock's file descriptor
            tls.do_handshake()
            sock = tls
            connection = http.client.HTTPSConnection(
                self._host, self._port, context=self._ssl_context
            )
        connection.sock = sock  # connected within the deadline, not by http.client
        deadline.bound()
        return connection, target

    def _read_body(self, response: http.client.HTTPResponse, deadline: _Deadline) -> bytes:
        """The whole body, at most ``max_bytes``, each read bounded by the deadline."""
        body = bytearray()
        while len(body) <= self.max_bytes:
            deadline.bound()
            chunk = response.read1(min(_CHUNK, self.max_bytes + 1 - len(body)))
            if not chunk:
                break
            body += chunk
        if len(body) > self.max_bytes:
            raise KeySourceUnavailableError(
                f"JWKS document from {self.url} is larger than {self.max_bytes} bytes"
            )
        if deadline.expired:  # the socket was shut down under the last read
            raise TimeoutError("the fetch deadline has passed")
        if response.length:  # the connection closed before Content-Length bytes
            raise http.client.IncompleteRead(bytes(body), response.length)
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
