"""JWT_JWKS_TIMEOUT is a deadline for the whole fetch, against real sockets.

A socket timeout bounds each read; an issuer that sends one byte at a time,
each well within it, would hold a fetch (and the requests waiting for it)
for as long as it liked. These servers do exactly that, at the status line,
in the headers, in the body and in the TLS handshake, on loopback.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from typing import Any

import pytest

from flask_jwtx._core.jose.keyset import KeySet
from flask_jwtx._core.keysources.jwks import JWKSFetcher
from flask_jwtx.exceptions import KeySourceUnavailableError

from .jwks_issuer import OLD, get, resource_app, token
from .tls import Certificate, https_issuer, trusting

TIMEOUT = 1.0
#: Generous for a loaded CI machine; the defect held fetches for many seconds.
MARGIN = 1.5
DRIP_INTERVAL = 0.3
JWKS = json.dumps(KeySet([OLD]).public_jwks()).encode()


class DripServer:
    """A raw TCP server: reads a request, sends ``head`` at once, then ``drip``
    one byte every ``interval`` seconds, then ``tail``. With ``greet`` it drips
    without reading anything first (a TLS client speaks first, then waits)."""

    def __init__(self, head: bytes, drip: bytes, tail: bytes = b"", *, greet: bool = False):
        self.head, self.drip, self.tail, self.greet = head, drip, tail, greet
        self.stop = threading.Event()
        #: Set when the client went away before everything was sent.
        self.gone = threading.Event()
        #: Set when a client has connected.
        self.connected = threading.Event()
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner.serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"

    def serve(self, conn: socket.socket) -> None:
        self.connected.set()
        conn.settimeout(10)
        try:
            if not self.greet:
                received = b""
                while b"\r\n\r\n" not in received:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    received += chunk
            conn.sendall(self.head)
            for byte in self.drip:
                if self.stop.wait(DRIP_INTERVAL):
                    return
                conn.sendall(bytes([byte]))
            conn.sendall(self.tail)
        except OSError:
            self.gone.set()  # the client gave up: what the tests want

    def __enter__(self) -> DripServer:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def ok_headers(length: int) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {length}\r\n".encode()
    )


#: Each drips about 6 s worth of bytes, each within any per-read timeout.
DRIPPERS = {
    "status line": (b"", b"HTTP/1.1 200 OK\r\n", ok_headers(len(JWKS))[17:] + b"\r\n" + JWKS),
    "headers": (ok_headers(len(JWKS)), b"X-Slow: dripping\r\n\r\n", JWKS),
    "body": (ok_headers(len(JWKS) + 20) + b"\r\n" + JWKS, b" " * 20, b""),
}


def assert_cut_off(fetcher: JWKSFetcher) -> None:
    started = time.monotonic()
    with pytest.raises(KeySourceUnavailableError, match="did not answer within"):
        fetcher()
    elapsed = time.monotonic() - started
    assert elapsed < fetcher.timeout + MARGIN, f"the fetch took {elapsed:.1f} s"


@pytest.mark.parametrize("where", list(DRIPPERS))
def test_a_dripping_issuer_is_cut_off_at_the_deadline(where: str) -> None:
    head, drip, tail = DRIPPERS[where]
    with DripServer(head, drip, tail) as server:
        assert_cut_off(JWKSFetcher(server.url, timeout=TIMEOUT))
        # Closed, not left to a thread that reads on until the issuer stops.
        assert server.gone.wait(3), "the abandoned fetch kept its connection"


def test_a_slow_name_lookup_is_cut_off_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """getaddrinfo takes no timeout; a resolver that takes its time still meets the deadline."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    released = threading.Event()
    resolve = socket.getaddrinfo

    def slow_resolver(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "jwks.slow-dns.test":
            released.wait(10)
            host = "127.0.0.1"
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_resolver)
    head, drip, tail = DRIPPERS["body"]
    with DripServer(head + drip + tail, b"") as server:
        url = server.url.replace("127.0.0.1", "jwks.slow-dns.test")
        try:
            assert_cut_off(JWKSFetcher(url, timeout=TIMEOUT))
        finally:
            released.set()  # the lookup ends; the late connection is shut at once


def test_the_same_issuer_answering_promptly_is_fine() -> None:
    """The drip servers speak valid HTTP: only their pace makes them fail."""
    head, drip, tail = DRIPPERS["body"]
    with DripServer(head + drip + tail, b"") as server:
        assert [k.kid for k in JWKSFetcher(server.url, timeout=TIMEOUT)()] == ["old"]


def test_a_request_meets_a_503_within_the_deadline() -> None:
    head, drip, tail = DRIPPERS["headers"]
    with DripServer(head, drip, tail) as server:
        app = resource_app(server.url, JWT_JWKS_TIMEOUT=TIMEOUT)
        started = time.monotonic()
        assert get(app, token(OLD)) == (503, {"msg": "Token keys are unavailable"})
        assert time.monotonic() - started < TIMEOUT + MARGIN


def test_a_first_load_in_progress_is_waited_for_only_until_the_deadline() -> None:
    """A second request does not queue behind a fetch that never ends."""
    head, drip, tail = DRIPPERS["headers"]
    with DripServer(head, drip, tail) as server:
        app = resource_app(server.url, JWT_JWKS_TIMEOUT=TIMEOUT)
        first = threading.Thread(target=get, args=(app, token(OLD)))
        first.start()
        assert server.connected.wait(5), "the first request is fetching"
        started = time.monotonic()
        assert get(app, token(OLD)) == (503, {"msg": "Token keys are unavailable"})
        assert time.monotonic() - started < TIMEOUT + MARGIN
        first.join(timeout=10)


def test_a_body_without_end_is_bounded_by_max_bytes_not_only_by_time() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = b"".join(b"1000\r\n" + b" " * 0x1000 + b"\r\n" for _ in range(64))
    with (
        DripServer(chunked + chunks, b"") as server,
        pytest.raises(KeySourceUnavailableError, match="larger than"),
    ):
        JWKSFetcher(server.url, timeout=TIMEOUT, max_bytes=100_000)()


def test_a_body_cut_short_of_its_content_length_is_refused() -> None:
    with (
        DripServer(ok_headers(len(JWKS) + 100) + b"\r\n" + JWKS, b"") as server,
        pytest.raises(KeySourceUnavailableError, match="IncompleteRead"),
    ):
        JWKSFetcher(server.url, timeout=TIMEOUT)()


def test_a_redirect_is_refused_not_followed() -> None:
    redirect = b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/\r\nContent-Length: 0\r\n\r\n"
    with (
        DripServer(redirect, b"") as server,
        pytest.raises(KeySourceUnavailableError, match="answered 302"),
    ):
        JWKSFetcher(server.url, timeout=TIMEOUT)()


# --- TLS ------------------------------------------------------------------------


def test_https_with_a_trusted_certificate(certificate: Certificate) -> None:
    with https_issuer(certificate) as url:
        fetcher = JWKSFetcher(url, timeout=TIMEOUT, ssl_context=trusting(certificate))
        assert [k.kid for k in fetcher()] == ["old"]


def test_https_with_an_unknown_certificate_is_refused(certificate: Certificate) -> None:
    with (
        https_issuer(certificate) as url,
        pytest.raises(KeySourceUnavailableError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        JWKSFetcher(url, timeout=TIMEOUT)()


def test_a_dripping_tls_handshake_is_cut_off_at_the_deadline(
    certificate: Certificate,
) -> None:
    # A TLS record header announcing a large handshake message, then its
    # body one byte at a time: the client's handshake reads and waits.
    record = b"\x16\x03\x03\x40\x00"
    with DripServer(record, b"\x02" * 20, greet=True) as server:
        url = server.url.replace("http://", "https://")
        assert_cut_off(JWKSFetcher(url, timeout=TIMEOUT, ssl_context=trusting(certificate)))
        assert server.gone.wait(3), "the abandoned handshake kept its connection"
