"""Helpers for testing apps that use flask-jwtx.

:func:`serve` runs an app in a real WSGI server (werkzeug's, threaded) on a
free loopback port, for tests where a real HTTP hop matters: a resource
server fetching an issuer's JWKS, a browser, a second process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def serve(app: Flask, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` until the ``with`` block ends; yields its base URL."""
    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
