"""``flask jwt keygen``: secrets, PEM pairs, private JWKs, one more key in a key-set file."""

from __future__ import annotations

import json
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .._core.jose.keys import (
    ASYMMETRIC_ALGORITHMS,
    HAS_CRYPTOGRAPHY,
    HMAC_ALGORITHMS,
    cryptography_missing,
)
from .._core.jose.keyset import (
    MAX_RSA_BITS,
    MIN_RSA_BITS,
    PRIVATE_MEMBERS,
    Key,
    KeySet,
    generate_private_key,
    key_jwk,
    thumbprint,
)
from ..exceptions import (
    InvalidKeyError,
)
from ._shared import _IMPLEMENTATIONS, _SECRET_BYTES, _count, _emit_json, _fail, jwt_cli


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
    return generate_private_key(algorithm, bits=bits, curve=curve)


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
