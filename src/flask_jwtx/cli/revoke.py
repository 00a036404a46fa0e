"""``flask jwt revoke`` and ``flask jwt revoke-all``: write to the app's revocation store."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import click
from flask import current_app

from .._core.keysources.resolvers import TrustedIssuers
from .._core.revocation.factory import shown_target
from .._core.revocation.policy import ANY_ISSUER, revoke_token_record
from .._core.web.decoding import decode_token
from .._core.web.revocation_api import revoke_all, revoke_token, watermark_issuers
from .._core.web.state import get_state
from ..exceptions import (
    DecodeError,
    TokenTooLargeError,
)
from ._shared import (
    _emit_json,
    _errors_as_failures,
    _fail,
    _in_app,
    _loaded_user,
    _loader_failures,
    _read_token,
    _when,
    jwt_cli,
)


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
