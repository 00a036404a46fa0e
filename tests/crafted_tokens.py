"""Tokens put together byte by byte, and the JSON values Hypothesis draws for them.

An attacker does not use an encoder that refuses odd input: these helpers
sign whatever header and payload bytes a test gives, with the suite's
``SECRET`` (HS256), and encode with the standard library rather than the
code under test. Imports in the minimum-versions environments (Hypothesis is
among their tools).
"""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import strategies as st

from flask_jwtx._core.jose.keys import prepare_key

from .helpers import SECRET

#: The suite's HS256 key, as the token core prepares it.
HS256 = prepare_key("HS256", SECRET)


def b64url(data: bytes) -> str:
    """``data`` in unpadded base64url, the encoding of each segment of a JWS."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(header: bytes, payload: bytes) -> str:
    """A token of exactly these header and payload bytes, validly HS256-signed with ``SECRET``."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    return f"{signing_input}.{b64url(HS256.sign(signing_input.encode()))}"


#: Any JSON value, nested a little: what a header or claim may hold.
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
