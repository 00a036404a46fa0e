"""The keys of the "CSRF protection" section: the double-submit value of cookie requests."""

from __future__ import annotations

from typing import Final

from ..readers import flag, non_empty_string, string, string_list
from .setting import Setting

SETTINGS: Final = (
    Setting(
        "JWT_COOKIE_CSRF_PROTECT",
        True,
        section="csrf",
        reader=flag,
        accepts="a boolean",
        meaning=(
            "Require the double-submit CSRF value on cookie-authenticated requests whose "
            "method is in `JWT_CSRF_METHODS`."
        ),
    ),
    Setting(
        "JWT_CSRF_METHODS",
        ["POST", "PUT", "PATCH", "DELETE"],
        section="csrf",
        reader=string_list,
        accepts="a list of HTTP method names",
        meaning="The methods that must carry the CSRF value.",
        probes=([1],),
    ),
    Setting(
        "JWT_CSRF_IN_COOKIES",
        True,
        section="csrf",
        reader=flag,
        accepts="a boolean",
        meaning="Also set the CSRF value in a cookie scripts can read (`set_access_cookies`).",
    ),
    Setting(
        "JWT_CSRF_CHECK_FORM",
        False,
        section="csrf",
        reader=flag,
        accepts="a boolean",
        meaning="Also accept the CSRF value from a form field when the header is absent.",
    ),
    Setting(
        "JWT_ACCESS_CSRF_COOKIE_NAME",
        "csrf_access_token",
        section="csrf",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="Name of the readable cookie with the access CSRF value.",
    ),
    Setting(
        "JWT_REFRESH_CSRF_COOKIE_NAME",
        "csrf_refresh_token",
        section="csrf",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="Name of the readable cookie with the refresh CSRF value.",
    ),
    Setting(
        "JWT_ACCESS_CSRF_COOKIE_PATH",
        "/",
        section="csrf",
        reader=string,
        accepts="a string",
        meaning="`Path` of the access CSRF cookie.",
    ),
    Setting(
        "JWT_REFRESH_CSRF_COOKIE_PATH",
        "/",
        section="csrf",
        reader=string,
        accepts="a string",
        meaning="`Path` of the refresh CSRF cookie.",
    ),
    Setting(
        "JWT_ACCESS_CSRF_HEADER_NAME",
        "X-CSRF-TOKEN",
        section="csrf",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="Request header that must echo the access CSRF value.",
    ),
    Setting(
        "JWT_REFRESH_CSRF_HEADER_NAME",
        "X-CSRF-TOKEN",
        section="csrf",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="Request header that must echo the refresh CSRF value.",
    ),
    Setting(
        "JWT_ACCESS_CSRF_FIELD_NAME",
        "csrf_token",
        section="csrf",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="Form field with the access CSRF value (`JWT_CSRF_CHECK_FORM`).",
    ),
    Setting(
        "JWT_REFRESH_CSRF_FIELD_NAME",
        "csrf_token",
        section="csrf",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="Form field with the refresh CSRF value (`JWT_CSRF_CHECK_FORM`).",
    ),
)
