"""``flask jwt check``: configuration, keys, store and key sources, for deployment scripts."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo

from .._core.config.settings import Settings
from .._core.jose import jws
from .._core.jose.keys import (
    HMAC_ALGORITHMS,
)
from .._core.keysources.resolvers import KeySetKeys, RemoteKeys, StaticKeys, TrustedIssuers
from .._core.revocation.base import StoreUnavailableError
from .._core.web.state import EXTENSION_KEY, AppState
from ..exceptions import (
    ConfigurationError,
    InvalidKeyError,
    JWTExtendedException,
    KeySourceUnavailableError,
)
from ._shared import FAILURE, _count, _emit_json, jwt_cli
from .revoke import _store_name


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
