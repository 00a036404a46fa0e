"""``flask jwt ...``: keys, tokens and revocation from the command line.

Registered through the ``flask.commands`` entry point, so every app with
flask-jwtx installed has the group (``flask --app app jwt --help``):

* ``keygen`` makes keys in the forms the app loads (a secret, PEM, a private
  JWK, or one more key in a key-set file, for rotation); it needs no app;
* ``token`` mints a token with the app's own keys and loaders;
* ``decode`` runs a token through what a request does and says why it
  would be refused, and with which status;
* ``revoke`` and ``revoke-all`` write to the app's revocation store;
* ``check`` validates the configuration as ``init_app`` does, then reaches
  the revocation store and every key source, for deployment scripts.

Every command works through the app's real machinery (settings, resolvers,
``create_access_token``, the token core, ``revocation.api``), so what it
says is what the app does. Exit codes: 0 success, 1 failure (a refused
token, a failed check, an error), 2 usage (click's). ``--json`` prints one
JSON document on stdout for scripts; messages go to stderr.

Nothing but ``keygen`` prints key material, and ``keygen`` only the key it
was asked to make. Token contents are untrusted input: they are printed
JSON-escaped, so a crafted token cannot send escape sequences to a terminal.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import secrets
import stat
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, NoReturn, ParamSpec, TypeVar

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo
from jwt.algorithms import get_default_algorithms

from . import jws, pipeline
from .authorization import RouteRequirement
from .creation import create_access_token, create_refresh_token, load_user_for
from .decoding import decode_token
from .exceptions import (
    Claims,
    ConfigurationError,
    DecodeError,
    ExpiredSignatureError,
    Header,
    InvalidKeyError,
    JWTExtendedException,
    KeySourceUnavailableError,
    TokenTooLargeError,
)
from .keys import ASYMMETRIC_ALGORITHMS, HAS_CRYPTOGRAPHY, HMAC_ALGORITHMS, cryptography_missing
from .keyset import (
    EC_CURVES,
    MAX_RSA_BITS,
    MIN_RSA_BITS,
    PRIVATE_MEMBERS,
    Key,
    KeySet,
    key_jwk,
    thumbprint,
)
from .resolvers import KeySetKeys, RemoteKeys, StaticKeys, TrustedIssuers
from .revocation.api import revoke_all, revoke_token, watermark_issuers
from .revocation.base import StoreUnavailableError
from .revocation.factory import shown_target
from .revocation.policy import ANY_ISSUER, revoke_token_record
from .settings import Settings
from .state import EXTENSION_KEY, AppState, get_state

P = ParamSpec("P")
R = TypeVar("R")

#: Exit code of a refused token, a failed check, or an error (click's own is 1 too).
FAILURE: Final = 1

_IMPLEMENTATIONS = get_default_algorithms()
#: Random bytes in a generated HMAC secret: 512 bits, enough for HS512.
_SECRET_BYTES: Final = 64
_TIME_CLAIMS: Final = ("iat", "nbf", "exp")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_DURATION = re.compile(r"(-?\d+)\s*([smhdw]?)")
_UNITS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@click.group("jwt")
def jwt_cli() -> None:
    """flask-jwtx: make keys, mint and inspect tokens, revoke, check the setup.

    Exit codes: 0 success, 1 failure (refused token, failed check, error),
    2 wrong usage.
    """


# --- Shared pieces ------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    raise click.ClickException(message)


def _emit_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, sort_keys=True, default=str))


def _in_app(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command`` in the app's context; a refused configuration is an error, not a trace.

    Like Flask's ``with_appcontext``, but an app whose ``init_app`` refuses
    its configuration ends with that message (exit 1), and an app without a
    ``JWTManager`` says so.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if current_app:
            _require_extension(current_app)
            return command(*args, **kwargs)
        app = _load_app()
        _require_extension(app)
        with app.app_context():
            return command(*args, **kwargs)

    return wrapper


def _load_app() -> Flask:
    info = click.get_current_context().ensure_object(ScriptInfo)
    try:
        return info.load_app()
    except ConfigurationError as exc:
        _fail(f"The app's configuration is refused: {exc}")


def _require_extension(app: Flask) -> None:
    if EXTENSION_KEY not in app.extensions:
        _fail(
            f"The app {app.name!r} has no JWTManager: call JWTManager(app) or "
            "jwt.init_app(app) where the app is created."
        )


@contextmanager
def _errors_as_failures() -> Iterator[None]:
    """flask-jwtx errors end the command with their message (exit 1), not a traceback."""
    try:
        yield
    except JWTExtendedException as exc:
        _fail(str(exc))


@contextmanager
def _loader_failures() -> Iterator[None]:
    """An app loader that fails ends the command with what failed and the fix, not a trace.

    :func:`~flask_jwtx.creation.run_identity_loader` notes on the exception
    which loader failed and what to pass instead; exceptions without that
    note are not the app's loaders' and keep their traceback.
    """
    try:
        yield
    except Exception as exc:
        notes = [n for n in getattr(exc, "__notes__", ()) if n.startswith("flask-jwtx: ")]
        if not notes:
            raise
        _fail(" ".join([f"{type(exc).__name__}: {exc}.", *(n[12:] for n in notes)]))


def _loaded_user(identity: str) -> Any:
    """``--load-user``: the app's user for ``identity``, or the reason there is none."""
    try:
        return load_user_for(identity)
    except (LookupError, TypeError) as exc:
        _fail(f"--load-user: {exc}")


def _read_token(token: str | None, settings: Settings) -> str:
    """The token argument, or stdin for ``-``/none; a pasted ``Bearer`` prefix is dropped.

    Reading stdin keeps tokens out of shell history and process lists.
    """
    if token is None or token == "-":
        token = sys.stdin.read()
    token = token.strip()
    if not token:
        raise click.UsageError("Give the token as an argument, or on stdin with '-'.")
    kind, _, rest = token.partition(" ")
    if rest and settings.header_type and kind == settings.header_type:
        token = rest.strip()
    return token


def _when(value: Any, now: float) -> str:
    """A NumericDate for people: the UTC time and how far from now."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "not a NumericDate"
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return "out of range"
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({_relative(value - now)})"


def _time_document(value: Any, now: float) -> dict[str, Any] | None:
    """A NumericDate for scripts: ISO 8601 UTC and seconds from now (``None`` if not one)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return {"utc": moment.isoformat(), "seconds_from_now": round(value - now)}


def _relative(seconds: float) -> str:
    span = abs(seconds)
    unit, amount = "s", f"{span:.0f}"
    for name, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if span >= size:
            unit, amount = name, f"{span / size:.1f}".removesuffix(".0")
            break
    return f"in {amount} {unit}" if seconds >= 0 else f"{amount} {unit} ago"


def _shown_name(name: str) -> str:
    """A claim or header name as printed: plain names as they are, anything else escaped."""
    return name if _PLAIN_KEY.fullmatch(name) else json.dumps(name)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _error_info(exc: JWTExtendedException) -> dict[str, Any]:
    return {"message": str(exc), "status": exc.status, "code": exc.code}


def _duration(text: str, *, allow_never: bool) -> timedelta | bool:
    """``90``, ``90s``, ``15m``, ``12h``, ``30d``, ``2w``; ``never`` (``False``) where allowed."""
    lowered = text.strip().lower()
    if allow_never and lowered in ("never", "false"):
        return False
    match = _DURATION.fullmatch(lowered)
    if match is None:
        never = " or 'never'" if allow_never else ""
        raise click.BadParameter(f"{text!r} is not a duration such as 90s, 15m, 12h, 30d{never}")
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def _lifetime_option(_: Any, __: Any, value: str | None) -> timedelta | bool | None:
    return None if value is None else _duration(value, allow_never=True)


def _freshness_option(_: Any, __: Any, value: str | None) -> timedelta | bool | None:
    return None if value is None else _duration(value, allow_never=False)


# --- keygen -------------------------------------------------------------------


@dataclass
class _NewKey:
    """A generated key: its algorithm, private JWK, and the native key (None for secrets)."""

    algorithm: str
    private_jwk: dict[str, Any]
    native: Any = None
    secret: str | None = None

    @property
    def kid(self) -> str:
        return str(self.private_jwk["kid"])

    def public_jwk(self) -> dict[str, Any]:
        return {k: v for k, v in self.private_jwk.items() if k not in PRIVATE_MEMBERS}

    def private_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization  # a key pair: installed

        pem: bytes = self.native.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return pem.decode()

    def public_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        pem: bytes = self.native.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem.decode()


def _key_pair(algorithm: str, bits: int, curve: str) -> Any:
    """A new private key for a key-pair algorithm (``cryptography`` objects)."""
    if not HAS_CRYPTOGRAPHY:
        # The option lists every algorithm, so asking for RS256 here gets this
        # answer rather than an "invalid choice" that hides the fix.
        raise click.UsageError(cryptography_missing(f"--alg {algorithm}"))
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if algorithm.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if algorithm == "EdDSA":
        if curve == "Ed448":
            return ed448.Ed448PrivateKey.generate()
        return ed25519.Ed25519PrivateKey.generate()
    curves: dict[str, Callable[[], ec.EllipticCurve]] = {
        "secp256r1": ec.SECP256R1,
        "secp256k1": ec.SECP256K1,
        "secp384r1": ec.SECP384R1,
        "secp521r1": ec.SECP521R1,
    }
    return ec.generate_private_key(curves[EC_CURVES[algorithm]]())


def _generate(algorithm: str, bits: int, curve: str, kid: str | None) -> _NewKey:
    """A new key for ``algorithm``, checked by loading it as the app would (``Key.from_jwk``)."""
    secret: str | None = None
    native: Any = None
    if algorithm in HMAC_ALGORITHMS:
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        jwk = _IMPLEMENTATIONS[algorithm].to_jwk(secret.encode(), as_dict=True)
    else:
        native = _key_pair(algorithm, bits, curve)
        jwk = key_jwk(algorithm, native)
    if kid is None:
        public = {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS - {"k"}}
        kid = thumbprint(public)
    # PyJWT writes key_ops ("sign") for RSA keys; "use" says it for both halves
    # (RFC 7517 section 4.3 advises against having both).
    jwk.pop("key_ops", None)
    new = _NewKey(algorithm, {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}, native, secret)
    Key.from_jwk(new.private_jwk)  # what the app will do with it: refuses a key it cannot use
    return new


def _write_file(path: Path, text: str, *, private: bool, force: bool) -> None:
    """Write ``text`` to ``path`` atomically; private files are 0600 from their first byte."""
    if path.exists() and not force:
        _fail(f"{path} exists; pass --force to replace it.")
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")  # mode 0600
    except OSError as exc:
        _fail(f"Cannot write {path}: {exc.strerror}")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if not private:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        _fail(f"Cannot write {path}: {exc.strerror or exc}")
    finally:
        Path(temporary).unlink(missing_ok=True)  # no half-written key left behind


def _add_to_key_set(path: Path, new: _NewKey, *, first: bool) -> KeySet:
    """Add ``new`` to the JWKS file at ``path`` (created if absent); the resulting set."""
    document: dict[str, Any] = {"keys": []}
    if path.exists():
        try:
            existing = KeySet.from_file(path)
            document = json.loads(path.read_text())
        except (InvalidKeyError, OSError) as exc:
            _fail(f"{path} is not a key set this app could load: {exc}")
        if existing.get(new.kid) is not None:
            _fail(f"{path} already has a key with kid {new.kid!r}; choose another --kid.")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            click.echo(
                f"warning: {path} was readable by others (mode {mode:04o}); "
                "it is rewritten with mode 0600",
                err=True,
            )
    entries = list(document["keys"])
    entries.insert(0 if first else len(entries), new.private_jwk)
    document["keys"] = entries
    text = json.dumps(document, indent=2) + "\n"
    key_set = KeySet.from_jwks(text)  # the new file must load, before it replaces the old
    _write_file(path, text, private=True, force=True)
    return key_set


@jwt_cli.command("keygen")
@click.option(
    "--alg",
    "algorithm",
    type=click.Choice(sorted(HMAC_ALGORITHMS | ASYMMETRIC_ALGORITHMS)),
    default="HS256",
    show_default=True,
    help="Algorithm the key is for.",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["secret", "pem", "jwk"]),
    help="secret (HMAC, the default there), pem (PKCS#8, the default otherwise) "
    "or jwk (a private JWK with kid and alg).",
)
@click.option("--kid", help="Key id for JWK output (default: the RFC 7638 thumbprint).")
@click.option(
    "--bits",
    type=click.IntRange(MIN_RSA_BITS, MAX_RSA_BITS),
    default=3072,
    show_default=True,
    help="RSA modulus size (RS*, PS*).",
)
@click.option(
    "--curve",
    type=click.Choice(["Ed25519", "Ed448"]),
    default="Ed25519",
    show_default=True,
    help="Curve for EdDSA (ES* algorithms have one curve each).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the key to this file (mode 0600) instead of stdout.",
)
@click.option(
    "--public-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the public part: a PEM public key, or a public JWKS "
    "(of the whole set with --add-to).",
)
@click.option(
    "--add-to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Add the key (as a private JWK) to this JWKS key-set file, created if absent.",
)
@click.option(
    "--first",
    is_flag=True,
    help="With --add-to: put the key first, so it signs new tokens "
    "(by default it is appended: published and verifying, not yet signing).",
)
@click.option("--force", is_flag=True, help="Replace existing --out/--public-out files.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON summary (with the key, if not written to a file).",
)
def keygen_command(**options: Any) -> None:
    """Make a new key: an HMAC secret by default; RSA, EC or Ed25519 with --alg.

    \b
    flask jwt keygen                              a secret for JWT_SECRET_KEY
    flask jwt keygen --alg ES256 -o key.pem       a private key for JWT_PRIVATE_KEY
    flask jwt keygen --alg ES256 --add-to keys.json   rotation: one more key in JWT_KEYS

    Private keys are written with mode 0600. The key is printed only when no
    file is given: keys are what this command is for.
    """
    algorithm: str = options["algorithm"]
    form = _keygen_form(options)
    try:
        new = _generate(algorithm, options["bits"], options["curve"], options["kid"])
    except InvalidKeyError as exc:  # only a --kid the app would refuse gets here
        raise click.BadParameter(str(exc), param_hint="--kid") from None
    summary: dict[str, Any] = {"alg": algorithm, "kid": new.kid, "format": form}
    add_to: Path | None = options["add_to"]
    public_text: str | None
    public_out: Path | None = options["public_out"]
    if add_to is not None:
        key_set = _add_to_key_set(add_to, new, first=options["first"])
        summary.update(file=str(add_to), signing_kid=key_set.signing_kid, keys=len(key_set))
        public_text = json.dumps(key_set.public_jwks(), indent=2) + "\n"
        click.echo(
            f"Added {algorithm} key {new.kid} to {add_to} (mode 0600); "
            f"{_count(len(key_set), 'key')}; the set signs with {key_set.signing_kid} "
            "unless JWT_SIGNING_KID names another.",
            err=True,
        )
    else:
        private_text, public_text_or_none = _key_texts(new, form)
        public_text = public_text_or_none
        out: Path | None = options["out"]
        if out is None:
            summary["key"] = new.private_jwk if form == "jwk" else private_text.strip()
            if not options["as_json"]:
                click.echo(private_text, nl=False)
        else:
            _write_file(out, private_text, private=True, force=options["force"])
            summary["file"] = str(out)
            click.echo(f"Wrote {algorithm} key {new.kid} to {out} (mode 0600).", err=True)
    if public_out is not None:
        if public_text is None:
            raise click.UsageError("An HMAC secret has no public part: drop --public-out.")
        _write_file(public_out, public_text, private=False, force=options["force"])
        summary["public_file"] = str(public_out)
        click.echo(f"Wrote the public part to {public_out}.", err=True)
    if options["as_json"]:
        _emit_json(summary)


def _keygen_form(options: Mapping[str, Any]) -> str:
    """The output format, once the options agree with each other (else a usage error)."""
    algorithm = options["algorithm"]
    symmetric = algorithm in HMAC_ALGORITHMS
    form = options["form"] or ("jwk" if options["add_to"] else "secret" if symmetric else "pem")
    if options["add_to"] is not None:
        if options["out"] is not None or form != "jwk":
            raise click.UsageError("--add-to writes a JWK into the key set: drop --out/--format.")
    elif options["first"]:
        raise click.UsageError("--first only means something with --add-to.")
    if form == "secret" and not symmetric:
        raise click.UsageError(f"{algorithm} uses a key pair: use --format pem or jwk.")
    if form == "pem" and symmetric:
        raise click.UsageError(f"{algorithm} uses a shared secret: use --format secret or jwk.")
    if options["kid"] is not None and form != "jwk":
        raise click.UsageError(
            "--kid needs --format jwk or --add-to: PEM and secrets have no place for a kid "
            "(tokens signed with JWT_PRIVATE_KEY carry the key's RFC 7638 thumbprint)."
        )
    return str(form)


def _key_texts(new: _NewKey, form: str) -> tuple[str, str | None]:
    """The private key's text in ``form``, and its public counterpart (None for secrets)."""
    if form == "secret":
        return f"{new.secret}\n", None
    if form == "pem":
        return new.private_pem(), new.public_pem()
    public = None
    if new.algorithm not in HMAC_ALGORITHMS:
        public = json.dumps({"keys": [new.public_jwk()]}, indent=2) + "\n"
    return json.dumps(new.private_jwk, indent=2) + "\n", public


# --- token --------------------------------------------------------------------


def _parse_claims(pairs: tuple[str, ...], scopes: tuple[str, ...]) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--claim")
        try:
            claims[name] = json.loads(raw)
        except ValueError:
            claims[name] = raw  # not JSON: the text itself
    if scopes:
        if "scope" in claims:
            raise click.UsageError("Give scopes with --scope or --claim scope=..., not both.")
        claims["scope"] = " ".join(" ".join(s.split()) for s in scopes)
    return claims


@jwt_cli.command("token")
@click.argument("identity")
@click.option(
    "--type",
    "token_type",
    default="access",
    show_default=True,
    help="access, refresh, or a kind of your own (written as the 'type' claim).",
)
@click.option(
    "--claim",
    "claims",
    multiple=True,
    metavar="NAME=VALUE",
    help="Add a claim; VALUE is JSON if it parses, else text. Repeatable.",
)
@click.option(
    "--scope", "scopes", multiple=True, help="Grant OAuth scopes (the 'scope' claim). Repeatable."
)
@click.option(
    "--expires",
    metavar="DURATION",
    callback=_lifetime_option,
    help="Lifetime (15m, 12h, 30d, never); default: the app's.",
)
@click.option("--fresh", is_flag=True, help="A fresh access token.")
@click.option(
    "--fresh-for",
    metavar="DURATION",
    callback=_freshness_option,
    help="Fresh for this long (15m...).",
)
@click.option(
    "--load-user",
    is_flag=True,
    help="IDENTITY is an id: load the user through the app's user_lookup_loader and mint "
    "for it (for loaders written for user objects).",
)
@click.option("--json", "as_json", is_flag=True, help="Print token, header and claims as JSON.")
@_in_app
def token_command(
    identity: str,
    token_type: str,
    claims: tuple[str, ...],
    scopes: tuple[str, ...],
    expires: timedelta | bool | None,
    fresh: bool,
    fresh_for: timedelta | None,
    load_user: bool,
    as_json: bool,
) -> None:
    """Mint a token for IDENTITY with the app's keys, settings and loaders.

    IDENTITY is handed to the loaders as create_access_token(identity=...)
    hands it; with --load-user it is an id, and the app's user for it is.
    The token alone goes to stdout: TOKEN=$(flask jwt token alice).
    """
    extra = _parse_claims(claims, scopes)
    freshness: bool | timedelta = fresh_for if fresh_for is not None else fresh
    lifetime: Any = expires  # a timedelta, False (never), or None (the app's)
    if token_type == "refresh" and freshness:
        raise click.UsageError("A refresh token is never fresh: drop --fresh/--fresh-for.")
    if token_type not in ("access", "refresh"):
        extra = {**extra, "type": token_type}
    with _errors_as_failures(), _loader_failures():
        subject: Any = _loaded_user(identity) if load_user else identity
        if token_type == "refresh":
            encoded = create_refresh_token(subject, lifetime, extra)
        else:
            encoded = create_access_token(subject, freshness, lifetime, extra)
    if as_json:
        parsed = jws.parse(encoded, len(encoded))
        _emit_json({"token": encoded, "header": parsed.header, "claims": parsed.claims()})
    else:
        click.echo(encoded)


# --- decode -------------------------------------------------------------------


@dataclass
class _Verdict:
    """What the app makes of one token."""

    header: Header | None = None
    claims: Claims | None = None
    verified: bool = False
    error: JWTExtendedException | None = None
    #: The status and JSON body the app's error handler answers ``error`` with.
    status: int | None = None
    body: Any = None
    notes: list[str] = field(default_factory=list)

    def refuse(self, error: JWTExtendedException) -> None:
        """Record ``error`` and the answer the app gives it (its loaders, its handlers)."""
        if isinstance(error, ConfigurationError):
            raise error  # the app cannot judge any token: a failure, not a verdict
        self.error = error
        app = current_app
        with app.test_request_context():
            response = app.make_response(app.handle_user_exception(error))
        self.status = response.status_code
        self.body = response.get_json(silent=True)
        if self.body is None:
            self.body = response.get_data(as_text=True)


#: What ``decode`` judges a token by: every check of a request, on a route that
#: takes any kind of token (the kind and freshness are reported as notes).
_ANY_ROUTE: Final = RouteRequirement(verify_type=False)


def _judge(encoded: str, settings: Settings, state: AppState) -> _Verdict:
    """The request pipeline's verdict on ``encoded``, without a request.

    The same steps as a protected route (:mod:`flask_jwtx.pipeline`): the
    decode step (a subclass's decode hook included), revocation (the store
    and the ``token_in_blocklist`` loader), the ``token_verification``
    loader and the user lookup, in a test request context for loaders that
    read ``request`` or ``g``. Where the token is refused, the unverified
    contents are kept for display.
    """
    verdict = _Verdict()
    try:
        parsed = jws.parse(encoded, settings.policy.max_bytes)
        verdict.header = parsed.header
        verdict.claims = parsed.claims()
    except DecodeError as exc:
        if state.decode_hook is None:  # a subclass may decode what is no JWS (JWE)
            verdict.refuse(exc)
            return verdict
    try:
        with current_app.test_request_context():  # loaders may read request or g
            header, claims = pipeline.decode(state, settings, encoded)
            verdict.header, verdict.claims, verdict.verified = header, claims, True
            found = pipeline.Found(header, claims, None, encoded)
            pipeline.check(state.callbacks, settings, found, _ANY_ROUTE, {})
    except ExpiredSignatureError as exc:
        # exp is checked last: the signature and every other claim passed.
        verdict.header, verdict.claims, verdict.verified = exc.jwt_header, exc.jwt_data, True
        verdict.refuse(exc)
    except JWTExtendedException as exc:
        verdict.refuse(exc)
    verdict.notes.extend(_notes(verdict, settings))
    return verdict


def _notes(verdict: _Verdict, settings: Settings) -> Iterator[str]:
    claims = verdict.claims or {}
    if isinstance(verdict.error, ExpiredSignatureError):
        yield "every other check passed: only its age refuses it"
    if not verdict.verified:
        return
    kind = claims.get("type", "access")
    if kind == "refresh":
        yield "a refresh token: only @jwt_required(refresh=True) routes accept it"
    elif kind != "access":
        yield f"type {json.dumps(kind)}: only routes with verify_type=False accept it"
    fresh = claims.get("fresh")
    if fresh is True or (
        not isinstance(fresh, bool) and isinstance(fresh, int | float) and fresh >= time.time()
    ):
        yield "fresh: @jwt_required(fresh=True) routes accept it"
    elif kind == "access":
        yield "not fresh: @jwt_required(fresh=True) routes refuse it (401)"
    if "csrf" in claims and "cookies" in settings.token_location:
        yield "carried in a cookie, it also needs its CSRF value on state-changing requests"


@jwt_cli.command("decode")
@click.argument("token", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@_in_app
def decode_command(token: str | None, as_json: bool) -> None:
    """Inspect TOKEN (or '-' / nothing: read stdin) against the app's configuration.

    Shows header, claims and times, and whether a request carrying it would
    be accepted; if not, exactly why, with the status and code the API
    answers. Exit code 0 when accepted, 1 when refused.
    """
    state = get_state()
    with _errors_as_failures():
        settings = state.settings.get()
        encoded = _read_token(token, settings)
        verdict = _judge(encoded, settings, state)
    now = time.time()
    if as_json:
        _emit_json(_verdict_document(verdict, now))
    else:
        _print_verdict(verdict, now)
    if verdict.error is not None:
        click.get_current_context().exit(FAILURE)


def _verdict_document(verdict: _Verdict, now: float) -> dict[str, Any]:
    claims = verdict.claims or {}
    return {
        "accepted": verdict.error is None,
        "verified": verdict.verified,
        "header": verdict.header,
        "claims": verdict.claims,
        "times": {
            name: _time_document(claims[name], now) for name in _TIME_CLAIMS if name in claims
        },
        "error": None
        if verdict.error is None
        else {**_error_info(verdict.error), "status": verdict.status, "body": verdict.body},
        "notes": verdict.notes,
    }


def _print_verdict(verdict: _Verdict, now: float) -> None:
    for title, values in (("Header", verdict.header), ("Claims", verdict.claims)):
        if values is None:
            continue
        suffix = "" if verdict.verified else " (NOT verified)"
        click.echo(f"{title}{suffix}")
        width = max((len(_shown_name(k)) for k in values), default=0)
        for name, value in values.items():
            line = f"  {_shown_name(name):<{width}}  {json.dumps(value, default=str)}"
            if (
                title == "Claims"
                and name in (*_TIME_CLAIMS, "fresh")
                and not isinstance(value, bool)
            ):
                line += f"  {_when(value, now)}"
            click.echo(line)
    error = verdict.error
    if error is None:
        click.echo("Accepted: a request carrying this token passes.")
    else:
        click.echo(f"Refused: {error}")
        body = json.dumps(verdict.body, default=str)
        click.echo(f"  the API answers {verdict.status} {body} ({error.code})")
    for note in verdict.notes:
        click.echo(f"  - {note}")


# --- revoke, revoke-all ----------------------------------------------------------


def _store_name() -> str:
    return shown_target(current_app.config.get("JWT_REVOCATION_STORE"))


@jwt_cli.command("revoke")
@click.argument("token", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print what was revoked as JSON.")
@_in_app
def revoke_command(token: str | None, as_json: bool) -> None:
    """Revoke TOKEN (or '-' / nothing: read stdin) in the app's revocation store.

    The token must verify (an expired one is fine); from now on every app
    instance sharing the store refuses it (401), until it could no longer
    verify anyway.
    """
    with _errors_as_failures():
        settings = get_state().settings.get()
        try:
            claims = decode_token(_read_token(token, settings), allow_expired=True)
        except DecodeError as exc:
            if isinstance(exc, TokenTooLargeError):
                raise
            # "Not enough segments" alone does not say what was expected.
            _fail(
                f"That is not a JWT ({exc}). Give the encoded token, three base64url parts "
                "joined by dots (header.payload.signature) as create_access_token returns it, "
                "not its jti; to refuse every token of an identity: flask jwt revoke-all "
                "IDENTITY."
            )
        revoke_token(claims)
    until = revoke_token_record(claims, settings.policy.leeway).expires_at
    identity = claims.get(settings.identity_claim)
    if as_json:
        _emit_json(
            {
                "revoked": True,
                "jti": claims["jti"],
                "identity": identity,
                "type": claims.get("type"),
                "until": None if until is None else datetime.fromtimestamp(until, UTC).isoformat(),
                "store": _store_name(),
            }
        )
        return
    if until is not None:
        lasting = f"until {_when(until, time.time())}"
    else:  # no exp, or one past year 9999: the record is written as never expiring
        lasting = "for good" + (" (it never expires)" if "exp" not in claims else "")
    click.echo(
        f"Revoked {claims.get('type', 'access')} token {claims['jti']} of "
        f"{json.dumps(identity, default=str)} in {_store_name()}, {lasting}."
    )


@jwt_cli.command("revoke-all")
@click.argument("identity")
@click.option(
    "--issuer",
    help="Whose user (with JWT_TRUSTED_ISSUERS); default: this app's JWT_ENCODE_ISSUER.",
)
@click.option(
    "--sub",
    "as_sub",
    is_flag=True,
    help="IDENTITY is the identity claim as tokens carry it: no user_identity_loader runs.",
)
@click.option(
    "--load-user",
    is_flag=True,
    help="IDENTITY is an id: load the user through the app's user_lookup_loader first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was revoked as JSON.")
@_in_app
def revoke_all_command(
    identity: str, issuer: str | None, as_sub: bool, load_user: bool, as_json: bool
) -> None:
    """Log IDENTITY out everywhere: every token issued to it until now is refused.

    Tokens created afterwards work. IDENTITY is written as create_access_token
    writes it (through the app's user_identity_loader); with --sub it is the
    claim itself, with --load-user the app's user for that id.
    """
    if as_sub and load_user:
        raise click.UsageError("--sub and --load-user exclude each other.")
    with _errors_as_failures(), _loader_failures():
        settings = get_state().settings.get()
        if (
            issuer is None
            and isinstance(settings.resolver, TrustedIssuers)
            and (settings.encode_issuer is None)
        ):
            raise click.UsageError(
                "This app trusts other issuers: name the identity provider with --issuer."
            )
        whose: dict[str, Any] = {} if issuer is None else {"issuer": issuer}
        if as_sub:
            revoke_all(sub=identity, **whose)
        else:
            revoke_all(_loaded_user(identity) if load_user else identity, **whose)
    moment = datetime.now(UTC)
    if as_json:
        _emit_json(
            {
                "revoked_before": moment.isoformat(),
                "identity": identity,
                "issuer": issuer if issuer is not None else settings.encode_issuer,
                # The default also covers tokens whose iss a claims loader wrote.
                "any_issuer": ANY_ISSUER in watermark_issuers(settings, *_given(issuer)),
                "store": _store_name(),
            }
        )
        return
    click.echo(
        f"Every token issued to {json.dumps(identity)} before "
        f"{moment:%Y-%m-%d %H:%M:%S} UTC is refused ({_store_name()})."
    )


def _given(issuer: str | None) -> tuple[str, ...]:
    """``--issuer`` as ``watermark_issuers``' optional argument."""
    return () if issuer is None else (issuer,)


# --- check --------------------------------------------------------------------


@dataclass
class _Report:
    """The lines of ``flask jwt check``: each ok, warn, fail or skip."""

    lines: list[dict[str, str]] = field(default_factory=list)

    def add(self, status: str, check: str, message: str) -> None:
        line = {"status": status, "check": check, "message": message}
        if line not in self.lines:  # a warning logged twice is reported once
            self.lines.append(line)

    def failed(self, strict: bool) -> bool:
        bad = {"fail", "warn"} if strict else {"fail"}
        return any(line["status"] in bad for line in self.lines)


class _ReportHandler(logging.Handler):
    """flask-jwtx's logged warnings (a skipped JWKS key, no audience...) as report lines."""

    def __init__(self, report: _Report) -> None:
        super().__init__(logging.WARNING)
        self.report = report

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("No key is set yet"):
            return  # reported precisely by the keys check
        self.report.add("warn", "log", record.getMessage())


@contextmanager
def _capture(report: _Report) -> Iterator[None]:
    """Warnings and logged warnings during the check become report lines."""
    logger = logging.getLogger("flask_jwtx")
    handler = _ReportHandler(report)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for warning in caught:
            if issubclass(warning.category, UserWarning):  # WeakSecretWarning and the like
                report.add("warn", "configuration", str(warning.message))
            else:  # not ours to judge (a ResourceWarning of the app's module...): pass it on
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _describe_keys(settings: Settings, state: AppState) -> str:
    resolver = settings.resolver
    if isinstance(resolver, TrustedIssuers):
        where = "trusted issuers' JWKS"
    elif isinstance(resolver, RemoteKeys):
        where = "JWT_JWKS_URL"
    elif isinstance(resolver, KeySetKeys):
        where = "the key_set_loader" if state.callbacks.key_set is not None else "JWT_KEYS"
    elif settings.algorithm in HMAC_ALGORITHMS:
        where = "JWT_SECRET_KEY"
    else:
        where = "JWT_PRIVATE_KEY/JWT_PUBLIC_KEY"
    loaders = [
        name
        for name, loader in (
            ("encode_key_loader", state.callbacks.custom_encode_key()),
            ("decode_key_loader", state.callbacks.custom_decode_key()),
        )
        if loader is not None
    ]
    if loaders:
        where += f", with the app's {' and '.join(loaders)}"
    algorithms = ", ".join(sorted(settings.policy.algorithms))
    if isinstance(resolver, RemoteKeys | TrustedIssuers):
        return f"verifies {algorithms} tokens with keys from {where}"
    if isinstance(resolver, KeySetKeys):
        return f"keys from {where}, for {algorithms} tokens"
    return f"signs {settings.algorithm} tokens with keys from {where}"


def _check_keys(report: _Report, settings: Settings, state: AppState) -> None:
    """The keys the configuration needs are there, and a token signed here verifies here."""
    resolver = settings.resolver
    if isinstance(resolver, StaticKeys):
        for what, message in resolver.missing.items():
            report.add("warn" if what == "sign" else "fail", "keys", message)
    if state.callbacks.custom_encode_key() or state.callbacks.custom_decode_key():
        report.add("skip", "keys", "keys come from the app's key loaders: not probed")
        return
    if isinstance(resolver, RemoteKeys | TrustedIssuers):
        return  # verification keys are remote: the key sources' checks below
    try:
        signing = resolver.signing()
    except ConfigurationError:
        return  # reported above, from resolver.missing
    if signing is None:
        return
    key, kid = signing
    probe = jws.encode({"probe": "flask jwt check"}, key, headers={"kid": kid} if kid else None)
    try:
        jws.verify(probe, settings.policy.algorithms, settings.policy.max_bytes, resolver.lookup)
    except JWTExtendedException as exc:
        report.add(
            "fail",
            "keys",
            f"a token this app signs ({key.algorithm}) does not verify here: {exc}. The "
            "signing key and the verifying keys (or JWT_DECODE_ALGORITHMS) do not match.",
        )
        return
    named = f" (kid {kid})" if kid else ""
    report.add("ok", "keys", f"a token signed with the {key.algorithm} key{named} verifies")


def _check_store(report: _Report, settings: Settings) -> None:
    store = settings.revocation_store
    if store is None:
        report.add("skip", "revocation store", "none configured (JWT_REVOCATION_STORE)")
        return
    try:
        store.ping()
    except StoreUnavailableError as exc:
        report.add("fail", "revocation store", f"{_store_name()} does not answer: {exc}")
        return
    report.add(
        "ok",
        "revocation store",
        f"{_store_name()} answers (failure policy {settings.failure_policy!r})",
    )


def _check_key_sources(report: _Report, state: AppState) -> None:
    for source in state.resources.key_sources():
        try:
            key_set = source.fetch()
        except (KeySourceUnavailableError, InvalidKeyError) as exc:
            report.add("fail", "key source", f"{source.origin}: {exc}")
            continue
        kids = ", ".join(key.kid for key in key_set)
        if not len(key_set):
            report.add("fail", "key source", f"{source.origin}: no usable key")
        else:
            report.add(
                "ok", "key source", f"{source.origin}: {_count(len(key_set), 'key')}: {kids}"
            )


def _check_app(report: _Report, app: Flask) -> None:
    state = app.extensions.get(EXTENSION_KEY)
    if not isinstance(state, AppState):
        report.add("fail", "configuration", f"the app {app.name!r} has no JWTManager")
        return
    try:
        state.settings.invalidate()  # rebuilt with init_app's own validation
        settings = state.settings.get()
    except ConfigurationError as exc:
        report.add("fail", "configuration", str(exc))
        return
    report.add(*_configuration_line(settings, state))
    _check_keys(report, settings, state)
    _check_store(report, settings)
    _check_key_sources(report, state)


def _configuration_line(settings: Settings, state: AppState) -> tuple[str, str, str]:
    """What the configuration does; not "ok" while a key it names is not set.

    A missing verification key fails the line (no token can be accepted), a
    missing signing key only warns (a service that only verifies has none).
    """
    described = _describe_keys(settings, state)
    resolver = settings.resolver
    missing = resolver.missing if isinstance(resolver, StaticKeys) else {}
    if not missing:
        return "ok", "configuration", described
    if settings.algorithm in HMAC_ALGORITHMS:
        names = ["JWT_SECRET_KEY"]
    else:
        names = ["JWT_PRIVATE_KEY" if what == "sign" else "JWT_PUBLIC_KEY" for what in missing]
    verb = "is" if len(names) == 1 else "are"
    status = "warn" if set(missing) == {"sign"} else "fail"
    return status, "configuration", f"{described}, but {' and '.join(names)} {verb} not set"


@jwt_cli.command("check")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_command(strict: bool, as_json: bool) -> None:
    """Validate the configuration as init_app does, then reach the store and key sources.

    Reports the same messages init_app gives; pings the revocation store;
    fetches every remote JWKS (within JWT_JWKS_TIMEOUT) and key-set loader;
    signs and verifies a probe token with the app's own keys. Exit code 0
    when all is well, 1 when a check failed (or, with --strict, warned).
    """
    report = _Report()
    with _capture(report):
        app = current_app if current_app else _loaded_or_reported(report)
        if app is not None:
            with app.app_context():
                _check_app(report, app)
    failed = report.failed(strict)
    if as_json:
        _emit_json({"ok": not failed, "checks": report.lines})
    else:
        for line in report.lines:
            label = "FAIL" if line["status"] == "fail" else line["status"]
            click.echo(f"{label:<5} {line['check']}: {line['message']}")
        click.echo("check failed" if failed else "all checks passed")
    if failed:
        click.get_current_context().exit(FAILURE)


def _loaded_or_reported(report: _Report) -> Flask | None:
    """The app, or ``None`` with ``init_app``'s refusal in the report."""
    info = click.get_current_context().ensure_object(ScriptInfo)
    try:
        return info.load_app()
    except ConfigurationError as exc:
        report.add("fail", "configuration", str(exc))
        return None
