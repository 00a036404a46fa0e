"""The keys of the "Cookies" section: the names and attributes of the token cookies."""

from __future__ import annotations

from typing import Final

from ..readers import flag, non_empty_string, optional_string, samesite, string
from .setting import Setting

SETTINGS: Final = (
    Setting(
        "JWT_ACCESS_COOKIE_NAME",
        "access_token_cookie",
        section="cookies",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="Name of the (HttpOnly) access-token cookie.",
    ),
    Setting(
        "JWT_REFRESH_COOKIE_NAME",
        "refresh_token_cookie",
        section="cookies",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="Name of the (HttpOnly) refresh-token cookie.",
    ),
    Setting(
        "JWT_ACCESS_COOKIE_PATH",
        "/",
        section="cookies",
        reader=string,
        accepts="a string",
        meaning="`Path` of the access-token cookie.",
    ),
    Setting(
        "JWT_REFRESH_COOKIE_PATH",
        "/",
        section="cookies",
        reader=string,
        accepts="a string",
        meaning=(
            "`Path` of the refresh-token cookie; narrow it to your refresh route so the browser "
            "sends it nowhere else."
        ),
    ),
    Setting(
        "JWT_COOKIE_DOMAIN",
        None,
        section="cookies",
        reader=optional_string,
        accepts="a string or `None`",
        meaning="`Domain` of every cookie set (`None`: this host).",
    ),
    Setting(
        "JWT_COOKIE_SECURE",
        False,
        section="cookies",
        reader=flag,
        accepts="a boolean",
        meaning="Mark cookies `Secure` (sent over HTTPS only). Turn it on in production.",
    ),
    Setting(
        "JWT_COOKIE_SAMESITE",
        None,
        section="cookies",
        reader=samesite,
        accepts="`'Lax'`, `'Strict'`, `'None'` (any case) or `None`",
        meaning="The cookies' `SameSite` attribute (`None`: not written, browsers assume `Lax`).",
    ),
    Setting(
        "JWT_SESSION_COOKIE",
        True,
        section="cookies",
        reader=flag,
        accepts="a boolean",
        meaning=(
            "`True`: cookies end with the browser session; `False`: they are kept for a year "
            "(`Max-Age=31540000`), the token's own `exp` still applies."
        ),
    ),
)
