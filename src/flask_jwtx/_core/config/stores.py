"""Building the revocation store, its replica and the introspection client from the settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..keysources.introspection import Introspector
from ..revocation.base import RevocationStore
from .readers import fail
from .resources import Resources
from .schema import configured, read

logger = logging.getLogger("flask_jwtx")


def _revocation_store(config: Mapping[str, Any], resources: Resources) -> RevocationStore | None:
    value = configured(config, "JWT_REVOCATION_STORE")
    replica = _replica_staleness(config)
    if value is None:
        if replica is not None:
            raise fail(
                "JWT_REVOCATION_REPLICA",
                "is on, but there is no store to replicate",
                "Set JWT_REVOCATION_STORE (redis://..., postgresql+psycopg://..., sqlite:///...).",
            )
        return None
    if replica is not None and value == "memory://":
        raise fail(
            "JWT_REVOCATION_REPLICA",
            "is on, but memory:// is already in this process (and in no other)",
            "Turn the replica off, or use a shared store (redis://..., postgresql+psycopg://...).",
        )
    table = read(config, "JWT_REVOCATION_TABLE")
    if replica is not None:
        return resources.store(value, table, replica)
    return resources.store(value, table)


def _replica_staleness(config: Mapping[str, Any]) -> float | None:
    """``JWT_REVOCATION_REPLICA_MAX_STALENESS`` if the replica is on, else ``None``."""
    staleness = read(config, "JWT_REVOCATION_REPLICA_MAX_STALENESS")
    return staleness if read(config, "JWT_REVOCATION_REPLICA") else None


def _introspector(config: Mapping[str, Any], resources: Resources) -> Introspector | None:
    spec = read(config, "JWT_INTROSPECTION")
    if spec is None:
        return None
    timeout = read(config, "JWT_JWKS_TIMEOUT")
    try:
        return resources.introspector(spec, timeout, read(config, "JWT_JWKS_MAX_BYTES"))
    except ValueError as exc:  # no host, a port out of range
        raise fail(
            "JWT_INTROSPECTION", f"has an unusable endpoint ({exc})", "Check the URL."
        ) from None
