"""The keys of the "OAuth 2.0 resource server and DPoP" section.

Their readers live with the policy they build, in ``oauth.resource_policy``.
"""

from __future__ import annotations

from typing import Final

from ...oauth.dpop import DEFAULT_ALGORITHMS
from ...oauth.resource_policy import (
    challenges,
    dpop_mode,
    nonce_secret,
    proof_algorithms,
    resource_identifier,
)
from ..readers import bounded_seconds, introspection
from .setting import SECONDS, WITH_STORE, Setting

SETTINGS: Final = (
    Setting(
        "JWT_RESOURCE",
        None,
        section="resource",
        reader=resource_identifier,
        accepts=(
            "an absolute `https` (or `http`) ASCII URL without user information, query or "
            "fragment (an internationalised host in its `xn--` form), or `None`"
        ),
        meaning=(
            "This service's resource identifier: turns on resource-server mode. Trusted issuers' "
            "tokens must name it in `aud` and follow RFC 9068; refusals carry RFC 6750 challenges "
            "(invalid tokens are 401); RFC 9728 metadata is served. See [Resource "
            "server](resource-server.md)."
        ),
        own=True,
        probes=("not a url", "https://api.example/?x=1", "https://bücher.example/"),
    ),
    Setting(
        "JWT_WWW_AUTHENTICATE",
        None,
        section="resource",
        reader=challenges,
        accepts="`True`, `False`, or `None` (on exactly when `JWT_RESOURCE` is set)",
        meaning=(
            'Add `WWW-Authenticate: Bearer` (and `DPoP`) challenges with `error="invalid_token"` '
            'or `"insufficient_scope"` to refusals, next to the JSON body. Statuses are kept '
            "unless `JWT_RESOURCE` is set."
        ),
        own=True,
        probes=("yes",),
    ),
    Setting(
        "JWT_DPOP",
        "off",
        section="resource",
        reader=dpop_mode,
        accepts="`'off'`, `'allowed'` or `'required'`",
        meaning=(
            "Whether DPoP-bound tokens (RFC 9449, `Authorization: DPoP` with a `DPoP` proof) are "
            "accepted, or required; `jwt_required(dpop=...)` overrides it per route. Needs "
            "`JWT_REVOCATION_STORE`, which keeps each proof single-use across instances. A "
            "DPoP-bound token presented as a bearer token is refused in every mode."
        ),
        own=True,
        probes=("sometimes",),
        context=WITH_STORE,
    ),
    Setting(
        "JWT_DPOP_ALGORITHMS",
        list(DEFAULT_ALGORITHMS),
        section="resource",
        reader=proof_algorithms,
        accepts="a list of asymmetric algorithm names",
        meaning=(
            "The algorithms a DPoP proof may be signed with. HMAC algorithms and `none` are "
            "refused."
        ),
        own=True,
        probes=(["HS256"], []),
    ),
    Setting(
        "JWT_DPOP_IAT_WINDOW",
        60,
        section="resource",
        reader=bounded_seconds,
        accepts=f"{SECONDS} or a `timedelta`, positive",
        meaning=(
            "How far from now, either way, a DPoP proof's `iat` may be; also how long a proof's "
            "`jti` is remembered and a server nonce stays fresh."
        ),
        own=True,
    ),
    Setting(
        "JWT_DPOP_NONCE_SECRET",
        None,
        section="resource",
        reader=nonce_secret,
        accepts="`None`, or a string or bytes of at least 32 bytes",
        meaning=(
            "Turns on server-provided DPoP nonces (`use_dpop_nonce`, `DPoP-Nonce`). Nonces are "
            "MACs of their issue time under this secret, so every instance configured with the "
            "same secret accepts the others' nonces without sharing state."
        ),
        own=True,
        probes=("short",),
    ),
    Setting(
        "JWT_INTROSPECTION",
        None,
        section="resource",
        reader=introspection,
        accepts=(
            "`None`, or a dict with `endpoint`, `client_id`, `client_secret`, and optionally "
            "`issuer`, `audience` (a string or a list), `verify_audience` (`False` to run with "
            "no audience at all), `cache_ttl` (seconds, default 60) and `inactive_cache_ttl` "
            "(seconds, default 5)"
        ),
        meaning=(
            "Opaque (non-JWT) access tokens are sent to this RFC 7662 introspection endpoint, "
            "authenticated with these credentials; only token68 tokens within "
            "`JWT_MAX_TOKEN_BYTES` are sent. An active answer is held to the app's claim checks "
            "(audience: `audience`, else `JWT_RESOURCE`, else `JWT_DECODE_AUDIENCE`, and with "
            "none `init_app` refuses unless `verify_audience` is `False`; issuer: `issuer`, else "
            "`JWT_DECODE_ISSUER`; `exp`, the leeway, scopes) and cached up to `cache_ttl`, never "
            "past `exp`; an inactive answer is remembered for `inactive_cache_ttl`, and "
            "concurrent requests for one token share one call. Unreachable or odd answers: 503. "
            "JWTs are still verified locally."
        ),
        own=True,
        probes=("https://as.example/introspect", {"endpoint": "https://as.example/i"}),
    ),
)
