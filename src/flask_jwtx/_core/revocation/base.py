"""The store interface: a tiny key-value store with expiry.

Everything revocation needs is expressed with three operations, so a store is
small to write and easy to verify:

* ``get_many(keys)``: the current values of several keys in ONE round trip,
  which is what every protected request costs;
* ``put(key, value, expires_at)``: write or overwrite a value;
* ``put_if_absent(key, value, expires_at)``: atomic first-writer-wins; returns
  ``None`` for the winner and the existing value for everyone else. Refresh
  token reuse detection rests on this being atomic across app instances.

An entry past its ``expires_at`` (a Unix time; ``None`` for never) is absent.
Stores raise :class:`StoreUnavailableError` when the backing service cannot be
reached; the request path turns that into a 503 (or lets the request through,
if ``JWT_REVOCATION_FAILURE_POLICY = "open"``), never a 500.
"""

from __future__ import annotations

import logging
import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple, Protocol, runtime_checkable

from ...exceptions import StoreCredentialsError as StoreCredentialsError
from ...exceptions import StoreUnavailableError as StoreUnavailableError

logger = logging.getLogger("flask_jwtx.revocation")


#: The last instant an expiry is kept as a number: the end of year 9999 (UTC),
#: the last second ``datetime`` can show. A record that must outlive it is, for
#: every practical purpose, permanent: it is written as never expiring.
MAX_EXPIRY: Final = 253402300799.0


def clamp_expiry(expires_at: float | None) -> float | None:
    """``expires_at`` as the stores write it: past :data:`MAX_EXPIRY` (or NaN), never.

    A token may carry any ``exp`` (a foreign issuer's, or an ``expires_delta``
    of millennia), and a record about it must outlive it. Writing the time
    itself would overflow Redis's ``PX`` and every date printed from it; so
    any expiry from the end of year 9999 on is written as ``None`` (never),
    which still outlives the token: the revocation rule (no record expires
    while a token it covers can verify) holds. A time before 1970 (already
    past) is written as 0, which every store reads as expired.
    """
    if expires_at is None or math.isnan(expires_at) or expires_at >= MAX_EXPIRY:
        return None
    return max(float(expires_at), 0.0)


class RevocationStore(ABC):
    """Where revocations live; see the module docstring for the contract."""

    @abstractmethod
    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        """The value of each key (``None`` when absent or expired), in order."""

    @abstractmethod
    def put(self, key: str, value: str, expires_at: float | None) -> None:
        """Set ``key`` to ``value`` until ``expires_at``."""

    @abstractmethod
    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        """Set ``key`` only if absent: ``None`` if we set it, else the existing value."""

    # -- Registries: what session listing needs (never the request path) -------
    #
    # A registry is a small map of members to values under one name (one per
    # identity and issuer: the sessions of that user). Each member expires on
    # its own; the registry lives as long as its longest-lived member. Stores
    # written before registries existed inherit these refusals, which say so.

    def registry_put(
        self, registry: str, member: str, value: str, expires_at: float | None
    ) -> None:
        """Set ``member`` of ``registry`` to ``value`` until ``expires_at`` (``None``: never)."""
        raise NotImplementedError(_NO_REGISTRY.format(type(self).__name__))

    def registry_get(self, registry: str) -> Mapping[str, str]:
        """The live members of ``registry`` and their values (empty when none)."""
        raise NotImplementedError(_NO_REGISTRY.format(type(self).__name__))

    def registry_delete(self, registry: str, members: Sequence[str]) -> None:
        """Remove ``members`` from ``registry`` (absent ones are ignored)."""
        raise NotImplementedError(_NO_REGISTRY.format(type(self).__name__))

    def ping(self) -> None:  # noqa: B027 - optional: stores without a server have nothing to ping
        """Raise :class:`StoreUnavailableError` if the store cannot be reached."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""


_NO_REGISTRY = (
    "{} keeps no session registry: implement registry_put, registry_get and "
    "registry_delete to use create_token_pair, list_sessions and revoke_session"
)


# -- Change feeds (for the local replica, :mod:`.replica`) -----------------------


class Change(NamedTuple):
    """What the store holds for ``key``: ``value`` until ``expires_at``.

    Always read from the store itself (a snapshot, or a read made because a
    message named the key), never taken from a message: a message on a
    change channel is only a hint, and anyone who can publish one could lie.
    """

    key: str
    value: str
    expires_at: float | None


class Ack(NamedTuple):
    """A beacon came back through the feed: every change committed before it was sent
    has been received before it."""

    token: str


class Feed(ABC):
    """A store's stream of changes, opened by :meth:`FollowableStore.follow`.

    The replica's freshness rests on one ordering promise: a beacon sent with
    :meth:`beacon` comes back from :meth:`receive` (as an :class:`Ack`) only
    after every change committed before the beacon was sent. The time a beacon
    was sent is therefore a moment up to which the replica is provably complete.

    What travels on the store's channel names at most which key changed; a
    feed turns it into a :class:`Change` by reading that key from the store
    before it returns anything received after it. A message it cannot read
    (malformed, oversized, naming nothing) is ignored and logged, never
    raised: whoever can publish on the channel must not be able to stop the
    follower. A beacon's token is random (122 bits): a message that was not
    our own beacon cannot acknowledge one.
    """

    @abstractmethod
    def beacon(self) -> str:
        """Send a beacon through the feed; return its token."""

    @abstractmethod
    def receive(self, timeout: float) -> list[Change | Ack]:
        """What arrived, in order, waiting up to ``timeout`` seconds for the first item.

        Raises :class:`StoreUnavailableError` when the feed is broken (the
        replica then starts over with a new feed and a new snapshot).
        """

    @abstractmethod
    def close(self) -> None:
        """Stop following and release the connection."""


@runtime_checkable
class FollowableStore(Protocol):
    """A store that can list its records and publish its writes (see :mod:`.replica`)."""

    def records(self, prefixes: tuple[str, ...]) -> list[Change]:
        """Every unexpired record whose key starts with one of ``prefixes``.

        An expiry given here is never earlier than the store's own.
        """

    def follow(self) -> Feed:
        """Open a feed; changes committed after this returns are all delivered."""

    def follow_problem(self) -> str | None:
        """``None`` if :meth:`follow` can work with this store's driver, else why not."""


# -- What a change message may say ----------------------------------------------

#: The longest change message a feed looks at; longer ones are ignored unread.
#: Ours are a key (under 60 bytes) or a change-log number.
MAX_HINT_BYTES: Final = 512
#: The most messages one :meth:`Feed.receive` takes: a flood of messages
#: cannot keep the follower from sending its beacons.
MAX_RECEIVE: Final = 1024
#: The shape of every key :func:`~.policy.record_key` makes: a kind and a digest.
_HINT_KEY = re.compile(r"[a-z]{1,16}:[A-Za-z0-9_-]{1,128}")
#: How often, at most, ignored messages are reported.
_REPORT_EVERY = 60.0


def parse_hint(payload: bytes | str) -> str | int | None:
    """What a change message names: a key (``str``), a change-log number (``int``), or nothing.

    Ours are a bare key (Redis) or a decimal change-log number (PostgreSQL).
    Anything else, including anything over :data:`MAX_HINT_BYTES` and any
    JSON, names nothing: a message never carries a value or an expiry to
    believe.
    """
    if len(payload) > MAX_HINT_BYTES:
        return None
    try:
        text = payload.decode("ascii") if isinstance(payload, bytes) else payload
    except UnicodeDecodeError:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    return text if _HINT_KEY.fullmatch(text) else None


class IgnoredMessages:
    """Reports messages a feed ignored: the first at once, then at most one line a minute.

    Someone publishing garbage on the channel must not be able to flood the
    log either; what they sent is never echoed.
    """

    def __init__(self, channel: str) -> None:
        self._channel = channel
        self._count = 0
        self._next_report = -math.inf

    def note(self, why: str) -> None:
        self._count += 1
        now = time.monotonic()
        if now >= self._next_report:
            logger.warning(
                "Revocation replica ignored %d message(s) on %s (%s): the channel carries only "
                "hints, so this changes nothing, but something other than flask-jwtx publishes "
                "on it",
                self._count,
                self._channel,
                why,
            )
            self._count = 0
            self._next_report = now + _REPORT_EVERY
