"""The keys of the "Publishing and consuming JWKS" section.

``JWT_JWKS_URL`` and ``JWT_TRUSTED_ISSUERS`` have no reader of their own: they
are checked where the key sources are built, with the algorithms and
audiences they go with (``config.keys``). The fetch settings are read only
for a remote key set, which is the context their probes give.
"""

from __future__ import annotations

from typing import Final

from ..readers import (
    optional_positive_seconds,
    positive_int,
    positive_seconds,
    url_path,
    whole_seconds,
)
from .setting import SECONDS, Setting

_REMOTE: Final = {
    "JWT_JWKS_URL": "https://issuer.example/jwks",
    "JWT_DECODE_ALGORITHMS": ["RS256"],
    "JWT_DECODE_AUDIENCE": "api",
}

SETTINGS: Final = (
    Setting(
        "JWT_JWKS_PATH",
        None,
        section="jwks",
        reader=url_path,
        accepts="a URL path starting with `/`, or `None`",
        meaning=(
            "Serve this app's public keys as a JWKS at this path (HMAC keys are never published)."
        ),
        own=True,
    ),
    Setting(
        "JWT_JWKS_MAX_AGE",
        300,
        section="jwks",
        reader=whole_seconds,
        accepts="a whole number of seconds (>= 0)",
        meaning="`Cache-Control: max-age` of the published JWKS.",
        own=True,
    ),
    Setting(
        "JWT_JWKS_URL",
        None,
        section="jwks",
        group="keys._remote_source",
        accepts="an http(s) URL, or `None`",
        meaning="Verify tokens with the keys of this remote JWKS (an identity provider's).",
        own=True,
        probes=("ftp://issuer.example/jwks", "https://issuer.example/jwks"),
    ),
    Setting(
        "JWT_JWKS_CACHE_TTL",
        300,
        section="jwks",
        reader=positive_seconds,
        accepts=SECONDS,
        meaning="How long a fetched JWKS is used before refreshing.",
        own=True,
        context=_REMOTE,
    ),
    Setting(
        "JWT_JWKS_MIN_REFRESH_INTERVAL",
        30,
        section="jwks",
        reader=positive_seconds,
        accepts=SECONDS,
        meaning="An unknown `kid` refetches the key set (remote or loader) at most this often.",
        own=True,
        context=_REMOTE,
    ),
    Setting(
        "JWT_JWKS_TIMEOUT",
        5,
        section="jwks",
        reader=positive_seconds,
        accepts=SECONDS,
        meaning="Deadline for a whole JWKS fetch: name lookup, connection, TLS, headers and body.",
        own=True,
        context=_REMOTE,
    ),
    Setting(
        "JWT_JWKS_MAX_BYTES",
        262144,
        section="jwks",
        reader=positive_int,
        accepts="a positive integer",
        meaning="Larger JWKS documents are refused.",
        own=True,
        context=_REMOTE,
    ),
    Setting(
        "JWT_JWKS_MAX_STALE",
        86400,
        section="jwks",
        reader=optional_positive_seconds,
        accepts=f"{SECONDS}, or `None` (forever)",
        meaning=(
            "How long past its TTL a JWKS that cannot be refreshed keeps serving; then requests "
            "get 503 until a fetch succeeds."
        ),
        own=True,
        context=_REMOTE,
    ),
    Setting(
        "JWT_TRUSTED_ISSUERS",
        None,
        section="jwks",
        group="keys._trusted_issuers",
        accepts=(
            "a list of issuer URLs, or of dicts with `issuer` and optionally `jwks_url`, "
            "`audience`, `algorithms`, `verify_audience`, `profile`, `typ`"
        ),
        meaning=(
            "Accept tokens from several identity providers, each verified with its own JWKS, "
            "algorithms and audience; the token's `iss` picks the issuer. Without `jwks_url` the "
            "issuer's OpenID Connect or RFC 8414 metadata names it. With `JWT_RESOURCE`, tokens "
            "follow RFC 9068 (`typ` `at+jwt`, `aud` naming the resource) unless `profile` is "
            "`None`."
        ),
        own=True,
        probes=(
            [{"issuer": "https://a.example"}],
            [{"issuer": "https://a.example", "jwks_url": "https://a.example/jwks"}],
        ),
    ),
)
