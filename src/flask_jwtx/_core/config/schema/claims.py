"""The keys of the "Lifetimes and claims" section: what tokens say, and what is checked."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from ..readers import (
    audience,
    flag,
    lifetime,
    non_empty_string,
    non_negative_seconds,
    optional_string,
    positive_int,
)
from .setting import Setting

SETTINGS: Final = (
    Setting(
        "JWT_ACCESS_TOKEN_EXPIRES",
        timedelta(minutes=15),
        section="claims",
        reader=lifetime,
        accepts="a `timedelta`, a dateutil `relativedelta`, a number of seconds, or `False`",
        meaning="Lifetime of access tokens (`exp`); `False`: they never expire.",
    ),
    Setting(
        "JWT_REFRESH_TOKEN_EXPIRES",
        timedelta(days=30),
        section="claims",
        reader=lifetime,
        accepts="a `timedelta`, a dateutil `relativedelta`, a number of seconds, or `False`",
        meaning="Lifetime of refresh tokens; `False`: they never expire.",
    ),
    Setting(
        "JWT_DECODE_AUDIENCE",
        None,
        section="claims",
        reader=audience,
        accepts="a string, a list of strings, or `None`",
        meaning="When set, a token's `aud` must name one of these audiences.",
        probes=(42,),
    ),
    Setting(
        "JWT_ENCODE_AUDIENCE",
        None,
        section="claims",
        reader=audience,
        accepts="a string, a list of strings, or `None`",
        meaning="The `aud` claim written into new tokens.",
        probes=(42,),
    ),
    Setting(
        "JWT_DECODE_ISSUER",
        None,
        section="claims",
        reader=optional_string,
        accepts="a string or `None`",
        meaning="When set, a token's `iss` must be exactly this.",
    ),
    Setting(
        "JWT_ENCODE_ISSUER",
        None,
        section="claims",
        reader=optional_string,
        accepts="a string or `None`",
        meaning="The `iss` claim written into new tokens.",
    ),
    Setting(
        "JWT_DECODE_LEEWAY",
        0,
        section="claims",
        reader=non_negative_seconds,
        accepts="a number of seconds (>= 0) or a `timedelta`",
        meaning="Clock skew tolerated when checking `exp`, `nbf` and `iat`.",
    ),
    Setting(
        "JWT_ENCODE_NBF",
        True,
        section="claims",
        reader=flag,
        accepts="a boolean",
        meaning="Whether new tokens carry `nbf` (not before) equal to `iat`.",
    ),
    Setting(
        "JWT_VERIFY_SUB",
        True,
        section="claims",
        reader=flag,
        accepts="a boolean",
        meaning=(
            "Whether a present `sub` must be a string, as RFC 7519 requires. Flask-JWT-Extended "
            "leaves this check to PyJWT, which has it from 2.10 on; so does flask-jwtx: with an "
            "older PyJWT, no `sub` (nor `jti`) is checked, whatever this says."
        ),
    ),
    Setting(
        "JWT_IDENTITY_CLAIM",
        "sub",
        section="claims",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="The claim that holds the identity (what `get_jwt_identity()` returns).",
    ),
    Setting(
        "JWT_ERROR_MESSAGE_KEY",
        "msg",
        section="claims",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning='The key of the message in the default JSON error bodies (`{"msg": ...}`).',
    ),
    Setting(
        "JWT_MAX_TOKEN_BYTES",
        8192,
        section="claims",
        reader=positive_int,
        accepts="a positive integer",
        meaning="Tokens longer than this are refused (422) before anything is decoded.",
        own=True,
    ),
    Setting(
        "JWT_IDENTITY_AS_STRING",
        False,
        section="claims",
        reader=flag,
        accepts="a boolean",
        meaning=(
            "Store non-string identities (`int`, `UUID`, lists, dicts and other JSON values) as "
            'strings in `sub`, with the private claim `jwtx_idt` (`"int"`, `"uuid"` or `"json"`) '
            "saying how `get_jwt_identity()` gives them back in their own type (see "
            "current-user.md); services that do not know the claim see a string `sub`. On every "
            "PyJWT version. An identity it cannot store raises `IdentityError` at creation. "
            "Without it, a non-string identity is signed as it is and refused when verified (422 "
            '"Subject must be a string"), as with Flask-JWT-Extended; the fix is logged once.'
        ),
        own=True,
    ),
)
