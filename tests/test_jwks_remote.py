"""Verifying through a remote JWKS, against real servers on loopback.

The issuer is a real HTTP server (werkzeug, threaded; ``tests/jwks_issuer.py``);
the resource server under test fetches from it over TCP. A controllable JWKS
server plays an issuer that is down, slow, huge or malformed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from flask import Flask

import flask_jwtx
import flask_jwtx._core.jose.keyset
import flask_jwtx._core.jose.tokens
from flask_jwtx._core.jose.keyset import Key, KeySet
from flask_jwtx.testing import serve

from .helpers import read_key
from .jwks_issuer import EC, ISSUER, NEW, OLD, JWKSServer, get, resource_app, token


def test_verifies_through_the_issuers_jwks_and_caches_it(
    jwks_server: tuple[JWKSServer, str],
) -> None:
    server, url = jwks_server
    app = resource_app(url)
    for _ in range(5):
        assert get(app, token(OLD)) == (200, {"sub": "alice"})
    assert server.hits == 1


def test_issuer_and_audience_are_checked(jwks_server: tuple[JWKSServer, str]) -> None:
    _, url = jwks_server
    app = resource_app(url)
    assert get(app, token(OLD, iss="https://evil.test")) == (422, {"msg": "Invalid issuer"})
    assert get(app, token(OLD, aud="other")) == (422, {"msg": "Audience doesn't match"})


def test_unknown_kid_refetches_at_a_bounded_rate(jwks_server: tuple[JWKSServer, str]) -> None:
    server, url = jwks_server
    app = resource_app(url, JWT_JWKS_MIN_REFRESH_INTERVAL=60)
    assert get(app, token(OLD))[0] == 200
    forged = [
        jwt.encode(
            {"sub": "x"},
            NEW.signing.key,  # type: ignore[union-attr]
            algorithm="RS256",
            headers={"kid": f"random-{i}"},
        )
        for i in range(50)
    ]
    for encoded in forged:
        assert get(app, encoded)[0] == 422
    assert server.hits == 1, "random kids within the interval never reach the issuer"


def test_rotation_while_requests_flow(jwks_server: tuple[JWKSServer, str]) -> None:
    """The issuer adds a new key and signs with it at once.

    The old key never fails. A token of the new key is refused only if it
    arrives while the refresh that brings the key is still in flight (no
    request waits for another's refresh); from then on, none is.
    """
    server, url = jwks_server
    app = resource_app(url)
    old_token = token(OLD)
    old_failures: list[Any] = []
    new_results: list[tuple[float, float, int]] = []  # started, ended, status
    stop = threading.Event()
    rotated = threading.Event()

    def client() -> None:
        while not stop.is_set():
            if not rotated.is_set():
                answer = get(app, old_token)
                if answer[0] != 200:
                    old_failures.append(answer)
                continue
            started = time.monotonic()
            status = get(app, token(NEW))[0]
            new_results.append((started, time.monotonic(), status))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    server.keys = KeySet([NEW, Key(OLD.kid, OLD.algorithm, OLD.verifying, None, OLD.jwk)])
    rotated.set()
    time.sleep(0.6)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert old_failures == []
    first_success = min(ended for _, ended, status in new_results if status == 200)
    late_failures = [r for r in new_results if r[2] != 200 and r[0] >= first_success]
    assert late_failures == [], "once the new key is in, it always verifies"
    assert get(app, old_token)[0] == 200, "the retired key still verifies"
    assert 2 <= server.hits <= 3, server.hit_log


def test_issuer_down_keeps_serving_from_cache(jwks_server: tuple[JWKSServer, str]) -> None:
    server, url = jwks_server
    app = resource_app(url, JWT_JWKS_CACHE_TTL=0.1)
    assert get(app, token(OLD))[0] == 200
    server.mode = "down"
    time.sleep(0.15)  # the cache lifespan is over; the refresh fails
    for _ in range(3):
        assert get(app, token(OLD))[0] == 200
    assert get(app, token(NEW))[0] == 422, "a key we never saw is still refused"
    server.mode = "ok"
    server.keys = KeySet([NEW])
    time.sleep(0.25)
    assert get(app, token(NEW))[0] == 200, "recovers when the issuer is back"


def test_issuer_unreachable_from_the_start_is_503_not_500() -> None:
    with serve(Flask("gone")) as base:
        url = f"{base}/jwks"
    app = resource_app(url)  # the server is shut down: connection refused
    assert get(app, token(OLD)) == (503, {"msg": "Token keys are unavailable"})


def test_issuer_down_from_the_start_is_asked_at_a_bounded_rate(
    jwks_server: tuple[JWKSServer, str],
) -> None:
    server, url = jwks_server
    server.mode = "down"
    app = resource_app(url, JWT_JWKS_MIN_REFRESH_INTERVAL=0.3)
    for _ in range(10):
        assert get(app, token(OLD)) == (503, {"msg": "Token keys are unavailable"})
    assert server.hits == 1, "not one fetch (and timeout) per request"
    server.mode = "ok"
    time.sleep(0.35)
    assert get(app, token(OLD))[0] == 200
    assert server.hits == 2


def test_issuer_server_stopped_after_first_fetch() -> None:
    server = JWKSServer()
    with serve(server.app) as base:
        app = resource_app(f"{base}/jwks", JWT_JWKS_CACHE_TTL=0.1)
        assert get(app, token(OLD))[0] == 200
    time.sleep(0.15)
    assert get(app, token(OLD))[0] == 200


def test_slow_issuer_times_out_in_bounded_time(jwks_server: tuple[JWKSServer, str]) -> None:
    server, url = jwks_server
    server.mode, server.delay = "slow", 3.0
    app = resource_app(url, JWT_JWKS_TIMEOUT=0.3)
    started = time.monotonic()
    assert get(app, token(OLD))[0] == 503
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("mode", ["huge", "malformed", "redirect", "down"])
def test_bad_jwks_documents_are_refused(jwks_server: tuple[JWKSServer, str], mode: str) -> None:
    server, url = jwks_server
    server.mode = mode
    app = resource_app(url, JWT_JWKS_MAX_BYTES=100_000)
    assert get(app, token(OLD)) == (503, {"msg": "Token keys are unavailable"})


def test_unusable_entries_are_skipped(jwks_server: tuple[JWKSServer, str]) -> None:
    server, url = jwks_server
    app = resource_app(url)

    class Mixed(KeySet):
        def public_jwks(self) -> dict[str, Any]:
            good = super().public_jwks()["keys"]
            junk = [
                {"kty": "RSA", "kid": "junk", "alg": "RS256", "n": "??"},
                "not a jwk",
                {"kty": "oct", "kid": "enc", "use": "enc", "k": "AAAA"},
            ]
            return {"keys": [*junk, *good]}

    server.keys = Mixed([OLD])
    assert get(app, token(OLD))[0] == 200


def test_hmac_tokens_cannot_pass_a_jwks_service(jwks_server: tuple[JWKSServer, str]) -> None:
    """Algorithm confusion: an HS256 token 'signed' with the public key is refused."""
    _, url = jwks_server
    app = resource_app(url)
    public_pem = read_key("rsa_public.pem").encode()
    import hashlib
    import hmac as hmac_module

    header = flask_jwtx._core.jose.tokens.b64url_encode(b'{"alg":"HS256","kid":"old"}')
    payload = flask_jwtx._core.jose.tokens.b64url_encode(
        f'{{"sub":"a","iss":"{ISSUER}","aud":"api"}}'.encode()
    )
    signature = hmac_module.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256)
    forged = f"{header}.{payload}.{flask_jwtx._core.jose.tokens.b64url_encode(signature.digest())}"
    assert get(app, forged)[0] == 422


def test_a_jwks_only_service_cannot_sign(jwks_server: tuple[JWKSServer, str]) -> None:
    _, url = jwks_server
    app = resource_app(url)
    with (
        app.app_context(),
        pytest.raises(flask_jwtx.exceptions.ConfigurationError, match="verifies tokens only"),
    ):
        flask_jwtx.create_access_token("a")


def test_hmac_only_algorithms_with_a_jwks_url_fail_at_startup() -> None:
    with pytest.raises(flask_jwtx.exceptions.ConfigurationError, match="JWT_DECODE_ALGORITHMS"):
        resource_app("http://127.0.0.1:9/jwks", JWT_DECODE_ALGORITHMS=None)


def test_end_to_end_with_a_flask_jwtx_issuer() -> None:
    """Auth service publishes at JWT_JWKS_PATH; the resource service trusts only that."""
    issuer = Flask("auth")
    issuer.config.update(
        JWT_KEYS=[OLD],
        JWT_JWKS_PATH="/.well-known/jwks.json",
        JWT_ENCODE_ISSUER=ISSUER,
        JWT_ENCODE_AUDIENCE="api",
    )
    flask_jwtx.JWTManager(issuer)
    with issuer.app_context():
        encoded = flask_jwtx.create_access_token("carol")
    with serve(issuer) as base:
        app = resource_app(f"{base}/.well-known/jwks.json")
        assert get(app, encoded) == (200, {"sub": "carol"})


class TestTrustedIssuers:
    @pytest.fixture
    def two_issuers(self) -> Iterator[tuple[JWKSServer, JWKSServer, Flask]]:
        a, b = JWKSServer(), JWKSServer()
        a.keys, b.keys = KeySet([OLD]), KeySet([EC])
        with serve(a.app) as base_a, serve(b.app) as base_b:
            app = resource_app(
                "unused",
                JWT_JWKS_URL=None,
                JWT_DECODE_ISSUER=None,
                JWT_DECODE_AUDIENCE=None,
                JWT_TRUSTED_ISSUERS=[
                    {
                        "issuer": "https://a.test",
                        "jwks_url": f"{base_a}/jwks",
                        "audience": "api",
                        "algorithms": ["RS256"],
                    },
                    {
                        "issuer": "https://b.test",
                        "jwks_url": f"{base_b}/jwks",
                        "audience": ["api", "web"],
                        "algorithms": ["ES256"],
                    },
                ],
            )
            yield a, b, app

    def test_each_issuer_with_its_own_keys(
        self, two_issuers: tuple[JWKSServer, JWKSServer, Flask]
    ) -> None:
        a, b, app = two_issuers
        assert get(app, token(OLD, iss="https://a.test"))[0] == 200
        assert get(app, token(EC, iss="https://b.test", aud="web"))[0] == 200
        assert (a.hits, b.hits) == (1, 1)

    def test_the_issuer_is_chosen_before_any_key(
        self, two_issuers: tuple[JWKSServer, JWKSServer, Flask]
    ) -> None:
        a, b, app = two_issuers
        assert get(app, token(OLD, iss="https://unknown.test")) == (
            422,
            {"msg": "Untrusted issuer"},
        )
        assert (a.hits, b.hits) == (0, 0), "no key source was asked"

    def test_a_key_of_one_issuer_cannot_vouch_for_another(
        self, two_issuers: tuple[JWKSServer, JWKSServer, Flask]
    ) -> None:
        _, _, app = two_issuers
        assert get(app, token(OLD, iss="https://b.test"))[0] == 422  # RS256 not allowed for b
        assert get(app, token(EC, iss="https://a.test"))[0] == 422

    def test_per_issuer_audience(self, two_issuers: tuple[JWKSServer, JWKSServer, Flask]) -> None:
        _, _, app = two_issuers
        assert get(app, token(OLD, iss="https://a.test", aud="web"))[0] == 422

    def test_bad_configuration(self) -> None:
        for entries in ([], [{"issuer": "x"}], [{"issuer": "x", "jwks_url": "ftp://x"}]):
            with pytest.raises(flask_jwtx.exceptions.ConfigurationError):
                resource_app("unused", JWT_JWKS_URL=None, JWT_TRUSTED_ISSUERS=entries)


class TestWhyNotPyJWKClientAlone:
    """The two gaps that made us wrap PyJWT's JWK parsing in our own cache.

    If a PyJWT release closes them, these tests fail: time to reconsider.
    """

    def test_it_drops_its_keys_when_the_issuer_is_down_at_expiry(
        self, jwks_server: tuple[JWKSServer, str]
    ) -> None:
        server, url = jwks_server
        client = jwt.PyJWKClient(url, lifespan=0.1, timeout=1)
        assert client.get_signing_key("old").key_id == "old"
        server.mode = "down"
        time.sleep(0.15)
        with pytest.raises(jwt.PyJWKClientError):
            client.get_signing_key("old")
        # flask-jwtx in the same situation keeps serving the cached key:
        app = resource_app(url, JWT_JWKS_CACHE_TTL=0.1)
        server.mode = "ok"
        assert get(app, token(OLD))[0] == 200
        server.mode = "down"
        time.sleep(0.15)
        assert get(app, token(OLD))[0] == 200

    def test_it_reads_a_response_of_any_size(self, jwks_server: tuple[JWKSServer, str]) -> None:
        server, url = jwks_server
        server.mode = "huge"  # 2 MB of whitespace in a JSON object
        # The whole body is read and parsed before it finds no keys in it.
        with pytest.raises(jwt.exceptions.PyJWKSetError, match="did not contain any keys"):
            jwt.PyJWKClient(url).get_signing_keys()
        app = resource_app(url, JWT_JWKS_MAX_BYTES=100_000)
        assert get(app, token(OLD))[0] == 503  # ours stops reading at the limit
