"""TLS for the remote-key tests: a self-signed certificate, and HTTPS servers using it.

The ``certificate`` fixture in ``conftest.py`` writes one per module; a
client trusts it only through :func:`trusting`, so a fetch without that
context meets an unknown certificate. Needs ``cryptography``.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask, jsonify
from werkzeug.serving import make_server

from flask_jwtx._core.jose.keyset import KeySet

from .jwks_issuer import OLD

#: A certificate file and its private key file, both PEM.
Certificate = tuple[Path, Path]


def self_signed_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1, written to ``directory`` (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwks.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@contextmanager
def https_server(certificate: Certificate, app: Flask) -> Iterator[str]:
    """Serve ``app`` over HTTPS with ``certificate`` until the block ends: its base URL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def https_issuer(certificate: Certificate) -> Iterator[str]:
    """An issuer serving the ``OLD`` key's JWKS over HTTPS with ``certificate``: its URL."""
    app = Flask("tls-issuer")
    app.add_url_rule("/jwks", "jwks", lambda: jsonify(KeySet([OLD]).public_jwks()))
    with https_server(certificate, app) as base:
        yield f"{base}/jwks"


def trusting(certificate: Certificate) -> ssl.SSLContext:
    """A client context that trusts ``certificate`` (and the usual roots)."""
    return ssl.create_default_context(cafile=str(certificate[0]))
