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

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar, NamedTuple, Protocol, runtime_checkable

from ..exceptions import JWTExtendedException


class StoreUnavailableError(JWTExtendedException):
    """The revocation store could not be reached or answered with an error (503)."""

    status: ClassVar[int] = 503
    code: ClassVar[str] = "store_unavailable"


class StoreCredentialsError(StoreUnavailableError):
    """The store's server refused this client's credentials: none given, or wrong ones (503).

    Apart from its parent so that the start-up error can say what to fix (a
    password in the URL) instead of telling to start a server that is running.
    """

    code: ClassVar[str] = "store_credentials_refused"


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
    """One write a store made: ``key`` now holds ``value`` until ``expires_at``."""

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
