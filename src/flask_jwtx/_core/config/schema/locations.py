"""The keys of the "Where tokens are looked for" section: headers, query string, JSON."""

from __future__ import annotations

from typing import Final

from ..readers import non_empty_string, string, token_locations
from .setting import Setting

SETTINGS: Final = (
    Setting(
        "JWT_TOKEN_LOCATION",
        ("headers",),
        section="locations",
        reader=token_locations,
        accepts="one of `headers`, `cookies`, `query_string`, `json`, or a list of them",
        meaning="Where protected views look for a token, in this order.",
        probes=([],),
    ),
    Setting(
        "JWT_HEADER_NAME",
        "Authorization",
        section="locations",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="The request header that carries the token.",
    ),
    Setting(
        "JWT_HEADER_TYPE",
        "Bearer",
        section="locations",
        reader=string,
        accepts="a string",
        meaning=(
            "The word before the token in that header; an empty string means the header holds the "
            "bare token."
        ),
    ),
    Setting(
        "JWT_QUERY_STRING_NAME",
        "jwt",
        section="locations",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="The query parameter that carries the token.",
    ),
    Setting(
        "JWT_QUERY_STRING_VALUE_PREFIX",
        "",
        section="locations",
        reader=string,
        accepts="a string",
        meaning="A prefix the query parameter's value must start with.",
    ),
    Setting(
        "JWT_JSON_KEY",
        "access_token",
        section="locations",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="The JSON body key holding an access token.",
    ),
    Setting(
        "JWT_REFRESH_JSON_KEY",
        "refresh_token",
        section="locations",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="The JSON body key holding a refresh token.",
    ),
)
