"""The configuration reference, generated from ``flask_jwtx._core.config.settings`` at build time.

Nothing about a setting is written twice. The key list and the defaults come
from :data:`flask_jwtx._core.config.schema.DEFAULTS`; what ``init_app`` refuses is found
by *asking the validation*: each key is resolved with a handful of wrong
values (:data:`PROBES`) and every :class:`~flask_jwtx.exceptions.ConfigurationError`
(and every warning) is quoted as it is raised. What is written here by hand is
only what code cannot say: the section a key belongs to, the kinds of value
it accepts and what it means (:data:`META`).

A key in ``DEFAULTS`` without an entry in :data:`META` is a build warning
(an error with ``-W``) and fails ``tests/test_docs_config.py``: adding a
setting means documenting it.

Used from ``docs/configuration.md`` as the ``jwtx-settings`` directive; it
also registers the ``confval`` object type, so any page can link a setting
with ``{confval}`JWT_COOKIE_SAMESITE```.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask_jwtx._core.config.resources import Resources
from flask_jwtx._core.config.schema import DEFAULTS
from flask_jwtx._core.config.settings import resolve
from flask_jwtx._core.jose.keyset import Key, KeySet
from flask_jwtx.exceptions import ConfigurationError

SECTIONS: dict[str, str] = {
    "keys": "Algorithms and keys",
    "claims": "Lifetimes and claims",
    "locations": "Where tokens are looked for",
    "cookies": "Cookies",
    "csrf": "CSRF protection (cookies only)",
    "jwks": "Publishing and consuming JWKS",
    "revocation": "Revocation and refresh-token rotation",
    "resource": "OAuth 2.0 resource server and DPoP",
}


@dataclass(frozen=True)
class Meta:
    """What code cannot say about a key: its section, accepted values, meaning."""

    section: str
    accepts: str
    meaning: str
    #: Other settings the key is validated with (it is only read in that context).
    context: Mapping[str, Any] = field(default_factory=dict)
    #: Wrong values worth showing for this key, besides the generic ones.
    probes: tuple[Any, ...] = ()
    #: Own (flask-jwtx) key, not one of Flask-JWT-Extended's.
    own: bool = False


_SECONDS = "a number of seconds (int or float)"
_RS256 = {"JWT_ALGORITHM": "RS256"}
_REMOTE = {
    "JWT_JWKS_URL": "https://issuer.example/jwks",
    "JWT_DECODE_ALGORITHMS": ["RS256"],
    "JWT_DECODE_AUDIENCE": "api",
}
_STORE = {"JWT_REVOCATION_STORE": "memory://"}


def _key_set() -> KeySet:
    return KeySet([Key.from_secret("s" * 32, kid="one", algorithm="HS256")])


META: dict[str, Meta] = {
    # Algorithms and keys
    "JWT_ALGORITHM": Meta(
        "keys",
        "an algorithm name",
        "The algorithm new tokens are signed with, and the one always accepted when verifying. "
        "`none` is never allowed.",
        probes=("none",),
    ),
    "JWT_DECODE_ALGORITHMS": Meta(
        "keys",
        "a list of algorithm names, or `None`",
        "Further algorithms accepted when verifying (`JWT_ALGORITHM` is always added). "
        "Each needs a key of its family.",
        probes=(["none"],),
    ),
    "JWT_SECRET_KEY": Meta(
        "keys",
        "a string or bytes",
        "The HMAC secret for the `HS*` algorithms. Flask's `SECRET_KEY` stands in when this "
        "is unset and `JWT_ALGORITHM` is an HMAC algorithm, never otherwise. Shorter than the "
        "hash (32 bytes for HS256) warns with `WeakSecretWarning`.",
        probes=("too-short",),
    ),
    "JWT_PRIVATE_KEY": Meta(
        "keys",
        "a PEM-encoded private key",
        "Signs tokens with an asymmetric `JWT_ALGORITHM` (RS*, PS*, ES*, EdDSA). Parsed once, "
        "in `init_app`.",
        context=_RS256,
        probes=("not a PEM key",),
    ),
    "JWT_PUBLIC_KEY": Meta(
        "keys",
        "a PEM-encoded public key",
        "Verifies tokens of an asymmetric algorithm. When only `JWT_PRIVATE_KEY` is set, its "
        "public half verifies.",
        context=_RS256,
        probes=("not a PEM key",),
    ),
    "JWT_KEYS": Meta(
        "keys",
        "a `KeySet`, a JWKS (dict or JSON text), or a list of `Key` objects or JWK dicts",
        "Several keys by `kid`, instead of the three settings above; tokens name their key "
        "in `kid`. See [Keys, rotation and JWKS](keys-and-jwks.md).",
        probes=({"keys": [{"kty": "oct"}]},),
        own=True,
    ),
    "JWT_SIGNING_KID": Meta(
        "keys",
        "a `kid` of `JWT_KEYS`, or `None`",
        "Which key of `JWT_KEYS` signs new tokens (default: the first that can sign).",
        context={"JWT_KEYS": _key_set},
        probes=("unknown-kid",),
        own=True,
    ),
    "JWT_KEY_SET_REFRESH": Meta(
        "keys",
        _SECONDS,
        "How often the `key_set_loader` is asked again for the current keys.",
        context={"__key_set_loader__": _key_set},
        own=True,
    ),
    # Lifetimes and claims
    "JWT_ACCESS_TOKEN_EXPIRES": Meta(
        "claims",
        "a `timedelta`, a dateutil `relativedelta`, a number of seconds, or `False`",
        "Lifetime of access tokens (`exp`); `False`: they never expire.",
    ),
    "JWT_REFRESH_TOKEN_EXPIRES": Meta(
        "claims",
        "a `timedelta`, a dateutil `relativedelta`, a number of seconds, or `False`",
        "Lifetime of refresh tokens; `False`: they never expire.",
    ),
    "JWT_DECODE_AUDIENCE": Meta(
        "claims",
        "a string, a list of strings, or `None`",
        "When set, a token's `aud` must name one of these audiences.",
        probes=(42,),
    ),
    "JWT_ENCODE_AUDIENCE": Meta(
        "claims",
        "a string, a list of strings, or `None`",
        "The `aud` claim written into new tokens.",
        probes=(42,),
    ),
    "JWT_DECODE_ISSUER": Meta(
        "claims", "a string or `None`", "When set, a token's `iss` must be exactly this."
    ),
    "JWT_ENCODE_ISSUER": Meta(
        "claims", "a string or `None`", "The `iss` claim written into new tokens."
    ),
    "JWT_DECODE_LEEWAY": Meta(
        "claims",
        "a number of seconds (>= 0) or a `timedelta`",
        "Clock skew tolerated when checking `exp`, `nbf` and `iat`.",
    ),
    "JWT_ENCODE_NBF": Meta(
        "claims", "a boolean", "Whether new tokens carry `nbf` (not before) equal to `iat`."
    ),
    "JWT_VERIFY_SUB": Meta(
        "claims",
        "a boolean",
        "Whether a present `sub` must be a string, as RFC 7519 requires. Flask-JWT-Extended "
        "leaves this check to PyJWT, which has it from 2.10 on; so does flask-jwtx: with an "
        "older PyJWT, no `sub` (nor `jti`) is checked, whatever this says.",
    ),
    "JWT_IDENTITY_CLAIM": Meta(
        "claims",
        "a non-empty string",
        "The claim that holds the identity (what `get_jwt_identity()` returns).",
    ),
    "JWT_IDENTITY_AS_STRING": Meta(
        "claims",
        "a boolean",
        "Store non-string identities (`int`, `UUID`, lists, dicts and other JSON values) as "
        'strings in `sub`, with the private claim `jwtx_idt` (`"int"`, `"uuid"` or `"json"`) '
        "saying how `get_jwt_identity()` gives them back in their own type (see "
        "current-user.md); services that do not know the claim see a string `sub`. On every "
        "PyJWT version. An identity it cannot store raises `IdentityError` at creation. "
        "Without it, a non-string identity is signed as it is and refused when verified "
        '(422 "Subject must be a string"), as with Flask-JWT-Extended; the fix is logged once.',
        own=True,
    ),
    "JWT_MAX_TOKEN_BYTES": Meta(
        "claims",
        "a positive integer",
        "Tokens longer than this are refused (422) before anything is decoded.",
        own=True,
    ),
    "JWT_ERROR_MESSAGE_KEY": Meta(
        "claims",
        "a non-empty string",
        'The key of the message in the default JSON error bodies (`{"msg": ...}`).',
    ),
    # Locations
    "JWT_TOKEN_LOCATION": Meta(
        "locations",
        "one of `headers`, `cookies`, `query_string`, `json`, or a list of them",
        "Where protected views look for a token, in this order.",
        probes=([],),
    ),
    "JWT_HEADER_NAME": Meta(
        "locations", "a non-empty string", "The request header that carries the token."
    ),
    "JWT_HEADER_TYPE": Meta(
        "locations",
        "a string",
        "The word before the token in that header; an empty string means the header holds "
        "the bare token.",
    ),
    "JWT_QUERY_STRING_NAME": Meta(
        "locations", "a non-empty string", "The query parameter that carries the token."
    ),
    "JWT_QUERY_STRING_VALUE_PREFIX": Meta(
        "locations", "a string", "A prefix the query parameter's value must start with."
    ),
    "JWT_JSON_KEY": Meta(
        "locations", "a non-empty string", "The JSON body key holding an access token."
    ),
    "JWT_REFRESH_JSON_KEY": Meta(
        "locations", "a non-empty string", "The JSON body key holding a refresh token."
    ),
    # Cookies
    "JWT_ACCESS_COOKIE_NAME": Meta(
        "cookies", "a non-empty string", "Name of the (HttpOnly) access-token cookie."
    ),
    "JWT_REFRESH_COOKIE_NAME": Meta(
        "cookies", "a non-empty string", "Name of the (HttpOnly) refresh-token cookie."
    ),
    "JWT_ACCESS_COOKIE_PATH": Meta("cookies", "a string", "`Path` of the access-token cookie."),
    "JWT_REFRESH_COOKIE_PATH": Meta(
        "cookies",
        "a string",
        "`Path` of the refresh-token cookie; narrow it to your refresh route so the browser "
        "sends it nowhere else.",
    ),
    "JWT_COOKIE_DOMAIN": Meta(
        "cookies", "a string or `None`", "`Domain` of every cookie set (`None`: this host)."
    ),
    "JWT_COOKIE_SECURE": Meta(
        "cookies",
        "a boolean",
        "Mark cookies `Secure` (sent over HTTPS only). Turn it on in production.",
    ),
    "JWT_COOKIE_SAMESITE": Meta(
        "cookies",
        "`'Lax'`, `'Strict'`, `'None'` (any case) or `None`",
        "The cookies' `SameSite` attribute (`None`: not written, browsers assume `Lax`).",
    ),
    "JWT_SESSION_COOKIE": Meta(
        "cookies",
        "a boolean",
        "`True`: cookies end with the browser session; `False`: they are kept for a year "
        "(`Max-Age=31540000`), the token's own `exp` still applies.",
    ),
    # CSRF
    "JWT_COOKIE_CSRF_PROTECT": Meta(
        "csrf",
        "a boolean",
        "Require the double-submit CSRF value on cookie-authenticated requests whose method "
        "is in `JWT_CSRF_METHODS`.",
    ),
    "JWT_CSRF_METHODS": Meta(
        "csrf",
        "a list of HTTP method names",
        "The methods that must carry the CSRF value.",
        probes=([1],),
    ),
    "JWT_CSRF_IN_COOKIES": Meta(
        "csrf",
        "a boolean",
        "Also set the CSRF value in a cookie scripts can read (`set_access_cookies`).",
    ),
    "JWT_CSRF_CHECK_FORM": Meta(
        "csrf",
        "a boolean",
        "Also accept the CSRF value from a form field when the header is absent.",
    ),
    "JWT_ACCESS_CSRF_COOKIE_NAME": Meta(
        "csrf", "a non-empty string", "Name of the readable cookie with the access CSRF value."
    ),
    "JWT_REFRESH_CSRF_COOKIE_NAME": Meta(
        "csrf", "a non-empty string", "Name of the readable cookie with the refresh CSRF value."
    ),
    "JWT_ACCESS_CSRF_COOKIE_PATH": Meta("csrf", "a string", "`Path` of the access CSRF cookie."),
    "JWT_REFRESH_CSRF_COOKIE_PATH": Meta("csrf", "a string", "`Path` of the refresh CSRF cookie."),
    "JWT_ACCESS_CSRF_HEADER_NAME": Meta(
        "csrf", "a non-empty string", "Request header that must echo the access CSRF value."
    ),
    "JWT_REFRESH_CSRF_HEADER_NAME": Meta(
        "csrf", "a non-empty string", "Request header that must echo the refresh CSRF value."
    ),
    "JWT_ACCESS_CSRF_FIELD_NAME": Meta(
        "csrf",
        "a non-empty string",
        "Form field with the access CSRF value (`JWT_CSRF_CHECK_FORM`).",
    ),
    "JWT_REFRESH_CSRF_FIELD_NAME": Meta(
        "csrf",
        "a non-empty string",
        "Form field with the refresh CSRF value (`JWT_CSRF_CHECK_FORM`).",
    ),
    # JWKS
    "JWT_JWKS_PATH": Meta(
        "jwks",
        "a URL path starting with `/`, or `None`",
        "Serve this app's public keys as a JWKS at this path (HMAC keys are never published).",
        own=True,
    ),
    "JWT_JWKS_MAX_AGE": Meta(
        "jwks",
        "a whole number of seconds (>= 0)",
        "`Cache-Control: max-age` of the published JWKS.",
        own=True,
    ),
    "JWT_JWKS_URL": Meta(
        "jwks",
        "an http(s) URL, or `None`",
        "Verify tokens with the keys of this remote JWKS (an identity provider's).",
        probes=("ftp://issuer.example/jwks", "https://issuer.example/jwks"),
        own=True,
    ),
    "JWT_JWKS_CACHE_TTL": Meta(
        "jwks",
        _SECONDS,
        "How long a fetched JWKS is used before refreshing.",
        context=_REMOTE,
        own=True,
    ),
    "JWT_JWKS_MIN_REFRESH_INTERVAL": Meta(
        "jwks",
        _SECONDS,
        "An unknown `kid` refetches the key set (remote or loader) at most this often.",
        context=_REMOTE,
        own=True,
    ),
    "JWT_JWKS_TIMEOUT": Meta(
        "jwks",
        _SECONDS,
        "Deadline for a whole JWKS fetch: name lookup, connection, TLS, headers and body.",
        context=_REMOTE,
        own=True,
    ),
    "JWT_JWKS_MAX_BYTES": Meta(
        "jwks",
        "a positive integer",
        "Larger JWKS documents are refused.",
        context=_REMOTE,
        own=True,
    ),
    "JWT_JWKS_MAX_STALE": Meta(
        "jwks",
        f"{_SECONDS}, or `None` (forever)",
        "How long past its TTL a JWKS that cannot be refreshed keeps serving; then requests "
        "get 503 until a fetch succeeds.",
        context=_REMOTE,
        own=True,
    ),
    "JWT_TRUSTED_ISSUERS": Meta(
        "jwks",
        "a list of issuer URLs, or of dicts with `issuer` and optionally `jwks_url`, "
        "`audience`, `algorithms`, `verify_audience`, `profile`, `typ`",
        "Accept tokens from several identity providers, each verified with its own JWKS, "
        "algorithms and audience; the token's `iss` picks the issuer. Without `jwks_url` the "
        "issuer's OpenID Connect or RFC 8414 metadata names it. With `JWT_RESOURCE`, tokens "
        "follow RFC 9068 (`typ` `at+jwt`, `aud` naming the resource) unless `profile` is `None`.",
        probes=(
            [{"issuer": "https://a.example"}],
            [{"issuer": "https://a.example", "jwks_url": "https://a.example/jwks"}],
        ),
        own=True,
    ),
    # Revocation
    "JWT_REVOCATION_STORE": Meta(
        "revocation",
        "`memory://`, a Redis or SQLAlchemy URL, a `redis.Redis`, an `Engine`, a "
        "`RevocationStore`, or `None`",
        "Where revocations live. Built and reached once in `init_app`. A relative "
        "SQLite path (`sqlite:///revocations.db`) is a file in the app's instance folder, "
        "as with Flask-SQLAlchemy 3. See [Revocation](revocation.md).",
        probes=("sqlite:///:memory:", "mysql+nodriver://host/db"),
        own=True,
    ),
    "JWT_REVOCATION_TABLE": Meta(
        "revocation",
        "a non-empty string",
        "The table the SQL store uses (created if missing).",
        context=_STORE,
        own=True,
    ),
    "JWT_REVOCATION_FAILURE_POLICY": Meta(
        "revocation",
        "`'closed'` or `'open'`",
        "When the store cannot be reached: `closed` answers 503, `open` lets tokens through "
        "(and logs a warning).",
        own=True,
    ),
    "JWT_REVOCATION_REPLICA": Meta(
        "revocation",
        "a boolean",
        "Each process keeps a local copy of the revocation records, following the store's "
        "changes, and answers checks from it while it can prove it is no staler than "
        "`JWT_REVOCATION_REPLICA_MAX_STALENESS`; otherwise checks go to the store. Needs a "
        "Redis, PostgreSQL (psycopg 3) or SQLite store. See [the replica](replica.md).",
        own=True,
    ),
    "JWT_REVOCATION_REPLICA_MAX_STALENESS": Meta(
        "revocation",
        f"{_SECONDS} or a `timedelta`, positive and finite",
        "The most a replica's answers may lag the store: a revocation made on any instance "
        "is enforced everywhere within this bound.",
        own=True,
    ),
    "JWT_REFRESH_TOKEN_ROTATION": Meta(
        "revocation",
        "a boolean",
        "Refresh tokens are single use (`rotate_refresh_token()`); reusing one revokes its "
        "family. Needs `JWT_REVOCATION_STORE`.",
        own=True,
    ),
    "JWT_REFRESH_REUSE_GRACE": Meta(
        "revocation",
        "a number of seconds (>= 0) or a `timedelta`",
        "Window in which a used refresh token may be presented again (a client's concurrent "
        "refreshes) before it counts as reuse.",
        own=True,
    ),
    "JWT_SESSION_LIMIT": Meta(
        "revocation",
        "a positive integer",
        "The most live sessions (logins made with `create_token_pair`) one identity may have; "
        "a login beyond it ends the oldest. See [Sessions](sessions.md).",
        own=True,
    ),
    "JWT_SESSION_METADATA": Meta(
        "revocation",
        "a boolean",
        "Record the client's user agent and IP address with each session (personal data: off "
        "by default). See [Sessions](sessions.md).",
        own=True,
    ),
    # OAuth 2.0 resource server and DPoP
    "JWT_RESOURCE": Meta(
        "resource",
        "an absolute `https` (or `http`) URL without query or fragment, or `None`",
        "This service's resource identifier: turns on resource-server mode. Trusted issuers' "
        "tokens must name it in `aud` and follow RFC 9068; refusals carry RFC 6750 challenges "
        "(invalid tokens are 401); RFC 9728 metadata is served. See "
        "[Resource server](resource-server.md).",
        probes=("not a url", "https://api.example/?x=1"),
        own=True,
    ),
    "JWT_WWW_AUTHENTICATE": Meta(
        "resource",
        "`True`, `False`, or `None` (on exactly when `JWT_RESOURCE` is set)",
        'Add `WWW-Authenticate: Bearer` (and `DPoP`) challenges with `error="invalid_token"` '
        'or `"insufficient_scope"` to refusals, next to the JSON body. Statuses are kept '
        "unless `JWT_RESOURCE` is set.",
        probes=("yes",),
        own=True,
    ),
    "JWT_DPOP": Meta(
        "resource",
        "`'off'`, `'allowed'` or `'required'`",
        "Whether DPoP-bound tokens (RFC 9449, `Authorization: DPoP` with a `DPoP` proof) are "
        "accepted, or required; `jwt_required(dpop=...)` overrides it per route. Needs "
        "`JWT_REVOCATION_STORE`, which keeps each proof single-use across instances. A "
        "DPoP-bound token presented as a bearer token is refused in every mode.",
        context=_STORE,
        probes=("sometimes",),
        own=True,
    ),
    "JWT_DPOP_ALGORITHMS": Meta(
        "resource",
        "a list of asymmetric algorithm names",
        "The algorithms a DPoP proof may be signed with. HMAC algorithms and `none` are refused.",
        probes=(["HS256"], []),
        own=True,
    ),
    "JWT_DPOP_IAT_WINDOW": Meta(
        "resource",
        f"{_SECONDS} or a `timedelta`, positive",
        "How far from now, either way, a DPoP proof's `iat` may be; also how long a proof's "
        "`jti` is remembered and a server nonce stays fresh.",
        own=True,
    ),
    "JWT_DPOP_NONCE_SECRET": Meta(
        "resource",
        "`None`, or a string or bytes of at least 32 bytes",
        "Turns on server-provided DPoP nonces (`use_dpop_nonce`, `DPoP-Nonce`). Nonces are "
        "MACs of their issue time under this secret, so every instance configured with the "
        "same secret accepts the others' nonces without sharing state.",
        probes=("short",),
        own=True,
    ),
    "JWT_INTROSPECTION": Meta(
        "resource",
        "`None`, or a dict with `endpoint`, `client_id`, `client_secret`, and optionally "
        "`issuer` and `cache_ttl` (seconds, default 60)",
        "Opaque (non-JWT) access tokens are sent to this RFC 7662 introspection endpoint, "
        "authenticated with these credentials; an active answer is held to the claim checks "
        "(audience `JWT_RESOURCE`, the `issuer`, `exp`, scopes) and cached up to `cache_ttl`, "
        "never past `exp`. Unreachable or odd answers: 503. JWTs are still verified locally.",
        probes=("https://as.example/introspect", {"endpoint": "https://as.example/i"}),
        own=True,
    ),
}

#: Wrong values every key is tried with. Only refusals are shown, so a value a
#: key accepts (``0`` for a lifetime) simply does not appear.
PROBES: tuple[Any, ...] = (True, -1, 0, 1.5, "", "nonsense", ["nonsense"], {"nonsense": 1})


@dataclass
class Refusal:
    """Probe values that got the same answer from ``resolve``."""

    values: list[Any]
    message: str
    #: "refused" (ConfigurationError), "warned", or "crashed" (any other
    #: exception: a bug, which the build and tests/test_docs_config.py report).
    kind: str


@dataclass
class Entry:
    key: str
    default: Any
    meta: Meta | None
    refusals: list[Refusal]


def _context(meta: Meta) -> tuple[dict[str, Any], Callable[[], Any] | None]:
    config: dict[str, Any] = {}
    loader = None
    for name, value in meta.context.items():
        if name == "__key_set_loader__":
            loader = value
        else:
            config[name] = value() if callable(value) else value
    return config, loader


def _probe(key: str, meta: Meta, value: Any) -> tuple[str, str] | None:
    """What ``resolve`` says about ``key = value``: (message, kind), or None if fine."""
    config, loader = _context(meta)
    config.setdefault("JWT_SECRET_KEY", "s" * 64)
    config[key] = value
    resources = Resources()
    logging.disable(logging.WARNING)  # "no key set yet" notes are not refusals
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            resolve(config, key_set_loader=loader, resources=resources)
    except ConfigurationError as exc:
        return str(exc), "refused"
    except Exception as exc:  # reported, never hidden: see Refusal.kind
        return f"{type(exc).__name__}: {exc}", "crashed"
    finally:
        logging.disable(logging.NOTSET)
        resources.close()
    for warning in caught:
        if key in str(warning.message):
            return str(warning.message), "warned"
    return None


@functools.cache
def entries() -> tuple[Entry, ...]:
    """Every key of ``DEFAULTS``, in order, with its default and what is refused.

    Computed once per process (each key is resolved about ten times).
    """
    return tuple(_entries())


def _entries() -> Iterator[Entry]:
    for key, default in DEFAULTS.items():
        meta = META.get(key)
        refusals: dict[str, Refusal] = {}
        for value in (*(meta.probes if meta else ()), *PROBES):
            answer = _probe(key, meta or Meta("", "", ""), value)
            if answer is None:
                continue
            message, kind = answer
            # One entry per answer, whichever value was probed: the value
            # appears in messages as its repr, its text or its type's name.
            shape = message.replace(repr(value), "\0")
            if len(str(value)) > 1:
                shape = shape.replace(str(value), "\0")
            shape = shape.replace(f"is {type(value).__name__}:", "is \0:")
            if shape in refusals:
                refusals[shape].values.append(value)
            else:
                refusals[shape] = Refusal([value], message, kind)
        yield Entry(key, default, meta, list(refusals.values()))


def show_value(value: Any) -> str:
    """A default as a Python expression a reader would write."""
    if isinstance(value, timedelta):
        if value.days and not value.seconds:
            return f"timedelta(days={value.days})"
        return f"timedelta(minutes={int(value.total_seconds() // 60)})"
    if isinstance(value, tuple):
        return repr(list(value))
    return repr(value)


def _code(text: str) -> str:
    ticks = "``" if "`" in text else "`"
    space = " " if ticks == "``" else ""
    return f"{ticks}{space}{text}{space}{ticks}"


def markdown(section: str | None = None) -> str:
    """The reference (or one section of it) as MyST markdown."""
    out: list[str] = []
    for entry in entries():
        meta = entry.meta
        if section is not None and (meta.section if meta else "other") != section:
            continue
        out.append(f"````{{confval}} {entry.key}")
        if meta is None:
            out.append("Not documented yet.")
        else:
            origin = " (flask-jwtx only)" if meta.own else ""
            out.append(
                f"**Default** {_code(show_value(entry.default))}{origin}. "
                f"**Accepts** {meta.accepts}."
            )
            out.append("")
            out.append(meta.meaning)
        refused = [r for r in entry.refusals if r.kind != "warned"]
        warned = [r for r in entry.refusals if r.kind == "warned"]
        if refused:
            out.append("")
            out.append("Refused by `init_app` with `ConfigurationError`:")
            out.append("")
            out.extend(
                f"- {', '.join(_code(repr(v)) for v in r.values)}: *{_escape(r.message)}*"
                for r in refused
            )
        if warned:
            out.append("")
            out.append("Accepted with a warning:")
            out.append("")
            out.extend(
                f"- {', '.join(_code(repr(v)) for v in r.values)}: *{_escape(r.message)}*"
                for r in warned
            )
        out.append("````")
        out.append("")
    return "\n".join(out)


def _escape(text: str) -> str:
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text


def undocumented() -> list[str]:
    return [key for key in DEFAULTS if key not in META]


def crashes() -> list[str]:
    """Probes that raised something other than ``ConfigurationError`` (bugs)."""
    return [
        f"{entry.key} = {value!r}: {refusal.message}"
        for entry in entries()
        for refusal in entry.refusals
        if refusal.kind == "crashed"
        for value in refusal.values
    ]


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point: the ``confval`` type and the ``jwtx-settings`` directive."""
    from docutils import nodes
    from docutils.parsers.rst import directives
    from sphinx.util.docutils import SphinxDirective

    class SettingsDirective(SphinxDirective):
        """``{jwtx-settings} SECTION``: the generated entries of one section."""

        required_arguments = 1
        option_spec = {"": directives.unchanged}  # noqa: RUF012 - docutils' own protocol

        def run(self) -> list[nodes.Node]:
            section = self.arguments[0]
            if section not in SECTIONS and section != "other":
                raise self.error(f"unknown section {section!r}; use one of {list(SECTIONS)}")
            if section == "other":
                for key in undocumented():
                    self.state.document.reporter.warning(
                        f"{key} is in the settings DEFAULTS but has no entry in "
                        "docs/_ext/jwtx_settings.py META: document it there."
                    )
                for crash in crashes():
                    self.state.document.reporter.warning(
                        f"init_app crashes instead of refusing {crash}"
                    )
            text = markdown(section)
            container = nodes.container()
            self.state.nested_parse(
                self.content.__class__(text.splitlines(), source="jwtx_settings"),
                self.content_offset,
                container,
            )
            return list(container.children)

    app.add_object_type(
        "confval",
        "confval",
        objname="configuration value",
        indextemplate="pair: %s; configuration value",
    )
    app.add_directive("jwtx-settings", SettingsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
