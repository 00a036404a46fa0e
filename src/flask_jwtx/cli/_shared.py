"""Pieces every command shares: the group, app loading, errors, durations, key making."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NoReturn, ParamSpec, TypeVar

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo
from jwt.algorithms import get_default_algorithms

from .._core.config.settings import Settings
from .._core.web.creation import load_user_for
from .._core.web.state import EXTENSION_KEY
from ..exceptions import (
    ConfigurationError,
    JWTExtendedException,
)

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

    ``run_identity_loader`` notes on the exception
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
