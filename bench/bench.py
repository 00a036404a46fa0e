"""flask-jwtx against Flask-JWT-Extended, side by side in one process.

For HS256, RS256 and ES256 it measures token creation, ``decode_token`` and
the per-request overhead of ``@jwt_required()`` (a protected view minus the
same view unprotected, both through Flask's test client). Rounds alternate
between the two libraries so both see the same machine noise; the table shows
the median time per operation and the ratio ours / Flask-JWT-Extended. Then the HS256
overhead against a verification written by hand with ``hmac``, ``base64`` and
``json`` (the floor: what the crypto and parsing cost alone).

    python bench/bench.py            # full run (about a minute)
    python bench/bench.py --quick    # fewer rounds, for a smoke check
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import hmac
import json
import logging
import statistics
import time
import types
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import flask_jwt_extended
from flask import Flask, abort, g, request

import flask_jwtx

KEYS = Path(__file__).resolve().parent.parent / "tests" / "keys"
SECRET = "benchmark-secret-that-is-long-enough-0123456789"
LIBRARIES: dict[str, types.ModuleType] = {
    "flask-jwtx": flask_jwtx,
    "flask-jwt-extended": flask_jwt_extended,
}
ALGORITHMS = {
    "HS256": {"JWT_SECRET_KEY": SECRET},
    "RS256": {
        "JWT_PRIVATE_KEY": (KEYS / "rsa_private.pem").read_text(),
        "JWT_PUBLIC_KEY": (KEYS / "rsa_public.pem").read_text(),
    },
    "ES256": {
        "JWT_PRIVATE_KEY": (KEYS / "ec256_private.pem").read_text(),
        "JWT_PUBLIC_KEY": (KEYS / "ec256_public.pem").read_text(),
    },
}


def build(lib: types.ModuleType, algorithm: str) -> Flask:
    app = Flask(f"bench_{lib.__name__}")
    app.config.update(JWT_ALGORITHM=algorithm, **ALGORITHMS[algorithm])
    lib.JWTManager(app)

    @app.get("/open")
    def open_view() -> str:
        return "ok"

    @app.get("/protected")
    @lib.jwt_required()
    def protected_view() -> str:
        return "ok"

    return app


def per_op(fn: Callable[[], Any], n: int) -> float:
    """Seconds per call of ``fn`` over ``n`` calls."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def one_round(lib: types.ModuleType, app: Flask, scale: int, create_n: int) -> dict[str, float]:
    """Seconds per operation for one library, one round."""
    with app.app_context():
        token = lib.create_access_token("bench-user")
        create = per_op(lambda: lib.create_access_token("bench-user"), create_n)
        decode = per_op(lambda: lib.decode_token(token), scale)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    protected = per_op(lambda: client.get("/protected", headers=headers), scale)
    unprotected = per_op(lambda: client.get("/open", headers=headers), scale)
    return {"create": create, "decode": decode, "overhead": protected - unprotected}


def measure(algorithm: str, rounds: int, scale: int) -> dict[str, dict[str, float]]:
    apps = {name: build(lib, algorithm) for name, lib in LIBRARIES.items()}
    samples: dict[str, dict[str, list[float]]] = {
        name: {"create": [], "decode": [], "overhead": []} for name in LIBRARIES
    }
    for _ in range(rounds):
        for name, lib in LIBRARIES.items():
            # Flask-JWT-Extended re-parses the RSA key per token (tens of ms): fewer calls.
            slow = name == "flask-jwt-extended" and algorithm.startswith(("RS", "PS"))
            result = one_round(lib, apps[name], scale, 3 if slow else scale)
            for op, seconds in result.items():
                samples[name][op].append(seconds)
    return {
        name: {op: statistics.median(values) for op, values in by_lib.items()}
        for name, by_lib in samples.items()
    }


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def raw_hs256_verify(token: str, secret: bytes) -> dict[str, Any]:
    """An HS256 verification written by hand: the floor any library's request path sits on.

    Split, parse the header, check ``alg``, HMAC-SHA256 the signing input,
    compare in constant time, parse the claims, check ``exp``. No key lookup,
    no claim types, no size caps: what the crypto and the parsing cost alone.
    """
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(_unb64(header_b64))
    if header.get("alg") != "HS256":
        raise ValueError("alg")
    expected = hmac.new(secret, f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _unb64(signature_b64)):
        raise ValueError("signature")
    claims: dict[str, Any] = json.loads(_unb64(payload_b64))
    if claims["exp"] <= time.time():
        raise ValueError("expired")
    return claims


def raw_required(view: Callable[[], str]) -> Callable[[], str]:
    """A ``@jwt_required`` written by hand around :func:`raw_hs256_verify`.

    Reads ``Authorization: Bearer <token>``, verifies it and keeps the claims
    on ``g``: the least a protected view must do, so its overhead is measured
    exactly as the library's is (protected minus open, through the test client).
    """

    @functools.wraps(view)
    def wrapper() -> str:
        kind, _, token = request.headers.get("Authorization", "").partition(" ")
        if kind != "Bearer" or not token:
            abort(401)
        try:
            g.raw_claims = raw_hs256_verify(token, SECRET.encode())
        except (ValueError, KeyError):
            abort(401)
        return view()

    return wrapper


def raw_comparison(rounds: int, scale: int) -> None:
    """The HS256 ``@jwt_required`` overhead against a verify written by hand, in one run.

    Two readings of "the same work by hand": the hand-written decorator's
    overhead, measured through the test client like the library's (the like
    for like figure), and :func:`raw_hs256_verify` alone in a tight loop (the
    floor: the crypto and the parsing with nothing around them, warm in the
    CPU's caches in a way no request path is).
    """
    app = build(flask_jwtx, "HS256")

    @app.get("/by-hand")
    @raw_required
    def by_hand_view() -> str:
        return "ok"

    with app.app_context():
        token = flask_jwtx.create_access_token("bench-user")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    secret = SECRET.encode()
    raw_hs256_verify(token, secret)
    for path in ("/by-hand", "/protected"):  # both really verify (a 401 would be cheaper)
        assert client.get(path, headers=headers).status_code == HTTPStatus.OK
    ours: list[float] = []
    by_hand: list[float] = []
    loop: list[float] = []
    for _ in range(rounds):
        unprotected = per_op(lambda: client.get("/open", headers=headers), scale)
        protected = per_op(lambda: client.get("/protected", headers=headers), scale)
        hand_made = per_op(lambda: client.get("/by-hand", headers=headers), scale)
        ours.append(protected - unprotected)
        by_hand.append(hand_made - unprotected)
        loop.append(per_op(lambda: raw_hs256_verify(token, secret), scale))
    us, hand, floor = (statistics.median(v) * 1e6 for v in (ours, by_hand, loop))
    print("\nHS256 @jwt_required overhead against a verify written by hand (hmac, base64, json)")
    print(f"{'':34} {'µs':>7} {'flask-jwtx / this':>18}")
    print(f"{'flask-jwtx @jwt_required':34} {us:7.1f}")
    print(f"{'by-hand decorator, same measure':34} {hand:7.1f} {us / hand:18.2f}")
    print(f"{'by-hand verify alone, tight loop':34} {floor:7.1f} {us / floor:18.2f}")


def decode_cost(app: Flask, token: str, scale: int) -> float:
    with app.app_context():
        return per_op(lambda: flask_jwtx.decode_token(token), scale)


def jwks_comparison(rounds: int, scale: int) -> None:
    """decode_token with a local public key vs through a cached remote JWKS."""
    from flask_jwtx._core.jose.keyset import Key
    from flask_jwtx.testing import serve

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print("\nVerification key source (flask-jwtx only): local PEM vs cached remote JWKS")
    print(f"{'alg':6} {'local key':>11} {'remote JWKS':>12} {'ratio':>7}")
    for algorithm in ("RS256", "ES256"):
        keys = ALGORITHMS[algorithm]
        key = Key.from_pem(algorithm=algorithm, private_key=keys["JWT_PRIVATE_KEY"], kid="k")
        issuer = Flask("issuer")
        issuer.config.update(JWT_KEYS=[key], JWT_JWKS_PATH="/jwks")
        flask_jwtx.JWTManager(issuer)
        with issuer.app_context():
            token = flask_jwtx.create_access_token("bench-user")
        with serve(issuer) as base:
            local = Flask("local")
            local.config.update(
                JWT_ALGORITHM=algorithm,
                JWT_PUBLIC_KEY=keys["JWT_PUBLIC_KEY"],
                JWT_PRIVATE_KEY=keys["JWT_PRIVATE_KEY"],
            )
            remote = Flask("remote")
            remote.config.update(JWT_JWKS_URL=f"{base}/jwks", JWT_DECODE_ALGORITHMS=[algorithm])
            for app in (local, remote):
                flask_jwtx.JWTManager(app)
                with app.app_context():
                    flask_jwtx.decode_token(token)  # warm the JWKS cache
            samples: dict[str, list[float]] = {"local": [], "remote": []}
            for _ in range(rounds):
                for name, app in (("local", local), ("remote", remote)):
                    samples[name].append(decode_cost(app, token, scale))
        ours, theirs = (statistics.median(samples[n]) * 1e6 for n in ("local", "remote"))
        print(f"{algorithm:6} {ours:11.1f} {theirs:12.1f} {theirs / ours:7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--raw-only", action="store_true", help="only the by-hand comparison")
    args = parser.parse_args()
    rounds, scale = (3, 100) if args.quick else (15, 300)
    if args.raw_only:
        raw_comparison(rounds, scale)
        return
    print(f"rounds={rounds} calls/round={scale}; median µs per operation")
    print("FJE = Flask-JWT-Extended; ratio = flask-jwtx / FJE")
    print(f"{'alg':6} {'operation':24} {'flask-jwtx':>11} {'FJE':>11} {'ratio':>7}")
    for algorithm in ALGORITHMS:
        result = measure(algorithm, rounds, scale)
        for op, label in (
            ("create", "create_access_token"),
            ("decode", "decode_token"),
            ("overhead", "@jwt_required overhead"),
        ):
            ours = result["flask-jwtx"][op] * 1e6
            theirs = result["flask-jwt-extended"][op] * 1e6
            print(f"{algorithm:6} {label:24} {ours:11.1f} {theirs:11.1f} {ours / theirs:7.3f}")
    raw_comparison(rounds, scale)
    jwks_comparison(rounds, scale)


if __name__ == "__main__":
    main()
