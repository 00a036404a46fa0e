"""Remote JWKS through an egress proxy, as urllib found it in the environment.

A real forward proxy on loopback: ``CONNECT`` tunnels for HTTPS (TLS still
checked end to end), absolute-URI requests for plain HTTP, optional Basic
credentials. The proxy's time counts against the fetch deadline.
"""

from __future__ import annotations

import base64
import select
import socket
import socketserver
import threading
import time
from urllib.parse import urlsplit

import pytest

from flask_jwtx._core.keysources.jwks import JWKSFetcher
from flask_jwtx.exceptions import ConfigurationError, KeySourceUnavailableError

from .jwks_issuer import JWKSServer, resource_app
from .tls import Certificate, https_issuer, trusting


class ForwardProxy:
    """A minimal HTTP forward proxy that records what it was asked."""

    def __init__(self, *, credentials: str | None = None, stall: bool = False) -> None:
        self.seen: list[str] = []
        #: Set when the proxy closes: a stalled connection is let go then.
        self.closing = threading.Event()
        self.authorizations: list[str | None] = []
        expected = None
        if credentials is not None:
            expected = "Basic " + base64.b64encode(credentials.encode()).decode()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy.serve(self.request, expected, stall)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def serve(self, client: socket.socket, expected: str | None, stall: bool) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        self.seen.append(f"{method} {target}")
        self.authorizations.append(headers.get("Proxy-Authorization"))
        if stall:
            self.closing.wait(5)  # a proxy that never answers, until it closes
            return
        if expected is not None and headers.get("Proxy-Authorization") != expected:
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            return
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.pipe(client, upstream)
            return
        parts = urlsplit(target)
        upstream = socket.create_connection((parts.hostname or "", parts.port or 80))
        request_line = f"{method} {parts.path or '/'} HTTP/1.1\r\n".encode()
        upstream.sendall(request_line + b"\r\n".join(head.split(b"\r\n")[1:]) + b"\r\n\r\n" + rest)
        self.pipe(client, upstream)

    @staticmethod
    def pipe(one: socket.socket, other: socket.socket) -> None:
        with other:
            while True:
                ready, _, _ = select.select([one, other], [], [], 5)
                if not ready:
                    return
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (other if source is one else one).sendall(data)

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def issuer(jwks_server: tuple[JWKSServer, str]) -> str:
    """The JWKS URL of a real issuer on loopback."""
    return jwks_server[1]


def use_proxy(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, url)


def test_plain_http_goes_through_the_proxy(issuer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with ForwardProxy() as proxy:
        use_proxy(monkeypatch, f"http://127.0.0.1:{proxy.port}")
        assert [k.kid for k in JWKSFetcher(issuer, timeout=2)()] == ["old"]
    assert proxy.seen == [f"GET {issuer}"]


def test_https_is_tunnelled_and_still_verified(
    certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    with https_issuer(certificate) as url, ForwardProxy() as proxy:
        use_proxy(monkeypatch, f"http://127.0.0.1:{proxy.port}")
        fetcher = JWKSFetcher(url, timeout=2, ssl_context=trusting(certificate))
        assert [k.kid for k in fetcher()] == ["old"]
        with pytest.raises(KeySourceUnavailableError, match="CERTIFICATE_VERIFY_FAILED"):
            JWKSFetcher(url, timeout=2)()  # the tunnel does not weaken TLS
    assert proxy.seen[0] == f"CONNECT {urlsplit(url).netloc}"


def test_proxy_credentials_from_the_url(issuer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with ForwardProxy(credentials="svc:p@ss") as proxy:
        use_proxy(monkeypatch, f"http://svc:p%40ss@127.0.0.1:{proxy.port}")
        assert [k.kid for k in JWKSFetcher(issuer, timeout=2)()] == ["old"]
        use_proxy(monkeypatch, f"http://svc:wrong@127.0.0.1:{proxy.port}")
        with pytest.raises(KeySourceUnavailableError):
            JWKSFetcher(issuer, timeout=2)()


def test_no_proxy_is_honoured(issuer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with ForwardProxy() as proxy:
        use_proxy(monkeypatch, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert [k.kid for k in JWKSFetcher(issuer, timeout=2)()] == ["old"]
    assert proxy.seen == []


def test_a_stalling_proxy_is_cut_off_at_the_deadline(
    certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardProxy(stall=True) as proxy:
        use_proxy(monkeypatch, f"http://127.0.0.1:{proxy.port}")
        started = time.monotonic()
        with pytest.raises(KeySourceUnavailableError, match="did not answer within"):
            JWKSFetcher("https://127.0.0.1:9/jwks", timeout=1)()
        assert time.monotonic() - started < 2.5


def test_a_socks_proxy_is_a_startup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTTP client speaks only HTTP to proxies: a SOCKS one fails at start-up, not later."""
    use_proxy(monkeypatch, "socks5://svc:hunter2@127.0.0.1:1080")
    with pytest.raises(ConfigurationError, match="not an http:// or https:// proxy") as caught:
        resource_app("http://issuer.test/jwks")
    assert "hunter2" not in str(caught.value), "the proxy's password is never shown"
