"""``flask jwt token`` and ``flask jwt decode``: mint a token, and judge one as a request would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

import click
from flask import current_app

from .._core.config.settings import Settings
from .._core.jose import jws
from .._core.web import pipeline
from .._core.web.authorization import RouteRequirement
from .._core.web.creation import create_access_token, create_refresh_token
from .._core.web.state import AppState, get_state
from ..exceptions import (
    Claims,
    ConfigurationError,
    DecodeError,
    ExpiredSignatureError,
    Header,
    JWTExtendedException,
)
from ._shared import (
    _TIME_CLAIMS,
    FAILURE,
    _emit_json,
    _error_info,
    _errors_as_failures,
    _freshness_option,
    _in_app,
    _lifetime_option,
    _loaded_user,
    _loader_failures,
    _read_token,
    _shown_name,
    _time_document,
    _when,
    jwt_cli,
)


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

    The same steps as a protected route (``flask_jwtx._core.web.pipeline``): the
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
