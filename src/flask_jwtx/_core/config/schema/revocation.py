"""The keys of the "Revocation and refresh-token rotation" section (and sessions).

``JWT_REVOCATION_STORE`` has no reader of its own: it is built into a store
(``config.stores``), with its table and replica.
"""

from __future__ import annotations

from typing import Final

from ..readers import (
    bounded_seconds,
    flag,
    non_empty_string,
    non_negative_seconds,
    one_of,
    positive_int,
)
from .setting import SECONDS, WITH_STORE, Setting

SETTINGS: Final = (
    Setting(
        "JWT_REVOCATION_STORE",
        None,
        section="revocation",
        group="stores._revocation_store",
        accepts=(
            "`memory://`, a Redis or SQLAlchemy URL, a `redis.Redis`, an `Engine`, a "
            "`RevocationStore`, or `None`"
        ),
        meaning=(
            "Where revocations live. Built and reached once in `init_app`. A relative SQLite path "
            "(`sqlite:///revocations.db`) is a file in the app's instance folder, as with "
            "Flask-SQLAlchemy 3. See [Revocation](revocation.md)."
        ),
        own=True,
        probes=("sqlite:///:memory:", "mysql+nodriver://host/db"),
    ),
    Setting(
        "JWT_REVOCATION_TABLE",
        "jwtx_revocations",
        section="revocation",
        reader=non_empty_string,
        accepts="a non-empty string",
        meaning="The table the SQL store uses (created if missing).",
        own=True,
        context=WITH_STORE,
    ),
    Setting(
        "JWT_REVOCATION_FAILURE_POLICY",
        "closed",
        section="revocation",
        reader=one_of("closed", "open"),
        accepts="`'closed'` or `'open'`",
        meaning=(
            "When the store cannot be reached: `closed` answers 503, `open` lets tokens through "
            "(and logs a warning)."
        ),
        own=True,
    ),
    Setting(
        "JWT_REFRESH_TOKEN_ROTATION",
        False,
        section="revocation",
        reader=flag,
        accepts="a boolean",
        meaning=(
            "Refresh tokens are single use (`rotate_refresh_token()`); reusing one revokes its "
            "family. Needs `JWT_REVOCATION_STORE`."
        ),
        own=True,
    ),
    Setting(
        "JWT_REFRESH_REUSE_GRACE",
        10,
        section="revocation",
        reader=non_negative_seconds,
        accepts="a number of seconds (>= 0) or a `timedelta`",
        meaning=(
            "Window in which a used refresh token may be presented again (a client's concurrent "
            "refreshes) before it counts as reuse."
        ),
        own=True,
    ),
    Setting(
        "JWT_SESSION_LIMIT",
        100,
        section="revocation",
        reader=positive_int,
        accepts="a positive integer",
        meaning=(
            "The most live sessions (logins made with `create_token_pair`) one identity may have; "
            "a login beyond it ends the oldest. See [Sessions](sessions.md)."
        ),
        own=True,
    ),
    Setting(
        "JWT_SESSION_METADATA",
        False,
        section="revocation",
        reader=flag,
        accepts="a boolean",
        meaning=(
            "Record the client's user agent and IP address with each session (personal data: off "
            "by default). See [Sessions](sessions.md)."
        ),
        own=True,
    ),
    Setting(
        "JWT_REVOCATION_REPLICA",
        False,
        section="revocation",
        reader=flag,
        accepts="a boolean",
        meaning=(
            "Each process keeps a local copy of the revocation records, following the store's "
            "changes, and answers checks from it while it can prove it is no staler than "
            "`JWT_REVOCATION_REPLICA_MAX_STALENESS`; otherwise checks go to the store. Needs a "
            "Redis, PostgreSQL (psycopg 3) or SQLite store. See [the replica](replica.md)."
        ),
        own=True,
    ),
    Setting(
        "JWT_REVOCATION_REPLICA_MAX_STALENESS",
        1.0,
        section="revocation",
        reader=bounded_seconds,
        accepts=f"{SECONDS} or a `timedelta`, positive and finite",
        meaning=(
            "The most a replica's answers may lag the store: a revocation made on any instance is "
            "enforced everywhere within this bound."
        ),
        own=True,
    ),
)
