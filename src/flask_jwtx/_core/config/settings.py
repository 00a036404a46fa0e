"""The frozen :class:`Settings` of one app, resolved once from ``app.config``.

:func:`resolve` reads ``app.config`` once and returns a frozen
:class:`Settings`; a wrong value fails there, naming the key and the fix. The
request path reads attributes of that object and never ``app.config``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ...exceptions import PYJWT_CHECKS_SUB
from ..jose.claims import VerifyPolicy, extended_conventions
from ..keysources.introspection import Introspection
from ..keysources.resolvers import (
    NO_LOADERS,
    AppKeys,
    KeyLoaders,
    KeyResolver,
    TrustedIssuers,
)
from ..oauth.dpop import DPoPPolicy, NonceSource
from ..oauth.resource_policy import ResourcePolicy
from ..revocation.base import RevocationStore
from .keys import _resolver
from .readers import fail
from .resources import Resources
from .schema import PERSISTENT_COOKIE_MAX_AGE, configured, read
from .stores import _introspection, _revocation_store

logger = logging.getLogger("flask_jwtx")


@dataclass(frozen=True, slots=True)
class CookieSettings:
    """Names and paths of one token kind's cookie and CSRF cookie."""

    name: str
    path: str
    csrf_name: str
    csrf_path: str
    csrf_header: str
    csrf_field: str
    json_key: str


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated form of every ``JWT_*`` key. Built by :func:`resolve`."""

    algorithm: str
    decode_algorithms: tuple[str, ...]
    #: The keys from the configuration alone (static, key set, remote...).
    resolver: KeyResolver
    #: What creating and verifying ask: the app's key loaders, else ``resolver``.
    keys: AppKeys
    access_expires: timedelta | None
    refresh_expires: timedelta | None
    identity_claim: str
    error_msg_key: str
    token_location: tuple[str, ...]
    header_name: str
    header_type: str
    query_string_name: str
    query_string_value_prefix: str
    access: CookieSettings
    refresh: CookieSettings
    cookie_domain: str | None
    cookie_secure: bool
    cookie_samesite: str | None
    cookie_max_age: int | None
    csrf_protect: bool
    csrf_methods: frozenset[str]
    csrf_in_cookies: bool
    csrf_check_form: bool
    encode_audience: str | tuple[str, ...] | None
    encode_issuer: str | None
    encode_nbf: bool
    identity_as_string: bool
    revocation_store: RevocationStore | None
    #: "closed": an unreachable store refuses requests (503); "open": lets them through.
    failure_policy: str
    rotation: bool
    reuse_grace: float
    #: Where the app publishes its public keys (``None``: not published).
    jwks_path: str | None
    #: ``Cache-Control: max-age`` of the published key set, in seconds.
    jwks_max_age: int
    policy: VerifyPolicy = field(repr=False)
    #: Most live sessions per identity (``JWT_SESSION_LIMIT``); the oldest end first.
    session_limit: int = 100
    #: Whether sessions record the client's user agent and IP (``JWT_SESSION_METADATA``).
    session_metadata: bool = False
    #: The resource-server settings (``JWT_RESOURCE``, ``JWT_DPOP*``, ``JWT_WWW_AUTHENTICATE``).
    resource: ResourcePolicy = field(default_factory=ResourcePolicy)
    #: Opaque tokens are introspected (``JWT_INTROSPECTION``), and the claim
    #: rules their answers meet; ``None``: not configured.
    introspection: Introspection | None = None

    def cookies_for(self, refresh: bool) -> CookieSettings:
        return self.refresh if refresh else self.access


def resolve(
    config: Mapping[str, Any],
    *,
    encode_loader: bool = False,
    decode_loader: bool = False,
    key_set_loader: Callable[[], Any] | None = None,
    resources: Resources | None = None,
    loaders: KeyLoaders = NO_LOADERS,
) -> Settings:
    """Validate ``config`` and build :class:`Settings`.

    ``encode_loader``/``decode_loader`` say whether the user registered key
    loaders; a missing static key is then not an error. ``resources`` is the
    app's cache of live objects (key sources, stores), shared by rebuilds;
    they are asked for only once every plain value has been validated.
    """
    if resources is None:
        resources = Resources()
    algorithm = read(config, "JWT_ALGORITHM")
    listed = read(config, "JWT_DECODE_ALGORITHMS")
    decode_algorithms: tuple[str, ...] = (
        tuple(dict.fromkeys((*listed, algorithm))) if listed else (algorithm,)
    )
    resolver, allowed = _resolver(
        config,
        algorithm,
        decode_algorithms,
        encode_loader=encode_loader,
        decode_loader=decode_loader,
        key_set_loader=key_set_loader,
        resources=resources,
    )
    identity_claim = read(config, "JWT_IDENTITY_CLAIM")
    decode_audience = read(config, "JWT_DECODE_AUDIENCE")
    rotation = read(config, "JWT_REFRESH_TOKEN_ROTATION")
    if rotation and configured(config, "JWT_REVOCATION_STORE") is None:
        raise fail(
            "JWT_REFRESH_TOKEN_ROTATION",
            "needs a revocation store to remember used refresh tokens",
            "Set JWT_REVOCATION_STORE (for example redis://... or sqlite:///...).",
        )
    policy = VerifyPolicy(
        algorithms=allowed,
        conventions=functools.partial(extended_conventions, identity_claim=identity_claim),
        leeway=read(config, "JWT_DECODE_LEEWAY"),
        audience=(decode_audience,) if isinstance(decode_audience, str) else decode_audience,
        issuer=read(config, "JWT_DECODE_ISSUER"),
        # Flask-JWT-Extended leaves the 'sub' check to PyJWT, which has one
        # from 2.10 on: with an older PyJWT, no app of it ever had its int or
        # list identities refused, whatever JWT_VERIFY_SUB said.
        verify_sub=read(config, "JWT_VERIFY_SUB") and PYJWT_CHECKS_SUB,
        verify_jti=PYJWT_CHECKS_SUB,  # added to PyJWT with the 'sub' check
        max_bytes=read(config, "JWT_MAX_TOKEN_BYTES"),
    )
    if isinstance(resolver, TrustedIssuers):
        # Each issuer's tokens are held to that issuer's audience.
        policy = dataclasses.replace(policy, issuers=resolver.requirements(policy))
    csrf_methods = read(config, "JWT_CSRF_METHODS")
    resource = _resource_policy(config, policy.max_bytes)
    if resource.dpop.mode != "off" and configured(config, "JWT_REVOCATION_STORE") is None:
        raise fail(
            "JWT_DPOP",
            f"is {resource.dpop.mode!r}, but there is no store to make each proof single-use",
            "Set JWT_REVOCATION_STORE (memory:// for one process; redis://... or a SQL URL "
            "shared by every instance).",
        )
    return Settings(
        algorithm=algorithm,
        decode_algorithms=decode_algorithms,
        resolver=resolver,
        keys=AppKeys(resolver, loaders, algorithm),
        access_expires=read(config, "JWT_ACCESS_TOKEN_EXPIRES"),
        refresh_expires=read(config, "JWT_REFRESH_TOKEN_EXPIRES"),
        identity_claim=identity_claim,
        error_msg_key=read(config, "JWT_ERROR_MESSAGE_KEY"),
        token_location=read(config, "JWT_TOKEN_LOCATION"),
        header_name=read(config, "JWT_HEADER_NAME"),
        header_type=read(config, "JWT_HEADER_TYPE"),
        query_string_name=read(config, "JWT_QUERY_STRING_NAME"),
        query_string_value_prefix=read(config, "JWT_QUERY_STRING_VALUE_PREFIX"),
        access=_cookies(config, "ACCESS", json_key="JWT_JSON_KEY"),
        refresh=_cookies(config, "REFRESH", json_key="JWT_REFRESH_JSON_KEY"),
        cookie_domain=read(config, "JWT_COOKIE_DOMAIN"),
        cookie_secure=read(config, "JWT_COOKIE_SECURE"),
        cookie_samesite=read(config, "JWT_COOKIE_SAMESITE"),
        cookie_max_age=None if read(config, "JWT_SESSION_COOKIE") else PERSISTENT_COOKIE_MAX_AGE,
        csrf_protect=read(config, "JWT_COOKIE_CSRF_PROTECT"),
        csrf_methods=frozenset(m.upper() for m in csrf_methods),
        csrf_in_cookies=read(config, "JWT_CSRF_IN_COOKIES"),
        csrf_check_form=read(config, "JWT_CSRF_CHECK_FORM"),
        encode_audience=read(config, "JWT_ENCODE_AUDIENCE"),
        encode_issuer=read(config, "JWT_ENCODE_ISSUER"),
        encode_nbf=read(config, "JWT_ENCODE_NBF"),
        identity_as_string=read(config, "JWT_IDENTITY_AS_STRING"),
        revocation_store=_revocation_store(config, resources),
        failure_policy=read(config, "JWT_REVOCATION_FAILURE_POLICY"),
        rotation=rotation,
        reuse_grace=read(config, "JWT_REFRESH_REUSE_GRACE"),
        jwks_path=read(config, "JWT_JWKS_PATH"),
        jwks_max_age=read(config, "JWT_JWKS_MAX_AGE"),
        policy=policy,
        session_limit=read(config, "JWT_SESSION_LIMIT"),
        session_metadata=read(config, "JWT_SESSION_METADATA"),
        resource=resource,
        introspection=_introspection(config, resources, policy, resource.resource),
    )


def _cookies(config: Mapping[str, Any], kind: str, *, json_key: str) -> CookieSettings:
    """One token kind's cookie settings: ``JWT_ACCESS_*`` or ``JWT_REFRESH_*``."""
    return CookieSettings(
        name=read(config, f"JWT_{kind}_COOKIE_NAME"),
        path=read(config, f"JWT_{kind}_COOKIE_PATH"),
        csrf_name=read(config, f"JWT_{kind}_CSRF_COOKIE_NAME"),
        csrf_path=read(config, f"JWT_{kind}_CSRF_COOKIE_PATH"),
        csrf_header=read(config, f"JWT_{kind}_CSRF_HEADER_NAME"),
        csrf_field=read(config, f"JWT_{kind}_CSRF_FIELD_NAME"),
        json_key=read(config, json_key),
    )


def _resource_policy(config: Mapping[str, Any], max_bytes: int) -> ResourcePolicy:
    """The resource-server keys (``JWT_RESOURCE``, ``JWT_DPOP*``...), read together.

    ``JWT_WWW_AUTHENTICATE`` left at ``None`` follows ``JWT_RESOURCE``; server
    nonces live as long as a proof's ``iat`` may be off.
    """
    resource = read(config, "JWT_RESOURCE")
    window = read(config, "JWT_DPOP_IAT_WINDOW")
    mode = read(config, "JWT_DPOP")
    algorithms = read(config, "JWT_DPOP_ALGORITHMS")
    secret = read(config, "JWT_DPOP_NONCE_SECRET")
    dpop = DPoPPolicy(
        mode=mode,
        algorithms=algorithms,
        iat_window=window,
        max_bytes=max_bytes,
        nonces=None if secret is None else NonceSource(secret, window),
    )
    challenges = read(config, "JWT_WWW_AUTHENTICATE")
    return ResourcePolicy(
        resource, resource is not None if challenges is None else challenges, dpop
    )
