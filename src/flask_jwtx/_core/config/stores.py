"""Building the revocation store, its replica and the introspection client from the settings."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ..keysources.introspection import Introspector, introspection_spec
from ..revocation.base import RevocationStore
from .resources import Resources
from .schema import DEFAULTS, _bool, _fail, _number, _positive_int, _str

logger = logging.getLogger("flask_jwtx")


def _revocation_store(config: Mapping[str, Any], resources: Resources) -> RevocationStore | None:
    value = config.get("JWT_REVOCATION_STORE")
    replica = _replica_staleness(config)
    if value is None:
        if replica is not None:
            raise _fail(
                "JWT_REVOCATION_REPLICA",
                "is on, but there is no store to replicate",
                "Set JWT_REVOCATION_STORE (redis://..., postgresql+psycopg://..., sqlite:///...).",
            )
        return None
    if replica is not None and value == "memory://":
        raise _fail(
            "JWT_REVOCATION_REPLICA",
            "is on, but memory:// is already in this process (and in no other)",
            "Turn the replica off, or use a shared store (redis://..., postgresql+psycopg://...).",
        )
    table = _str(config, "JWT_REVOCATION_TABLE", empty_ok=False)
    if replica is not None:
        return resources.store(value, table, replica)
    return resources.store(value, table)


def _replica_staleness(config: Mapping[str, Any]) -> float | None:
    """``JWT_REVOCATION_REPLICA_MAX_STALENESS`` if the replica is on, else ``None``."""
    key = "JWT_REVOCATION_REPLICA_MAX_STALENESS"
    value = config.get(key, DEFAULTS[key])
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise _fail(key, f"is {value!r}", "Use a positive number of seconds or a timedelta.")
    return float(value) if _bool(config, "JWT_REVOCATION_REPLICA") else None


def _introspector(config: Mapping[str, Any], resources: Resources) -> Introspector | None:
    spec = introspection_spec(config.get("JWT_INTROSPECTION"))
    if spec is None:
        return None
    timeout = _number(config, "JWT_JWKS_TIMEOUT")
    try:
        return resources.introspector(spec, timeout, _positive_int(config, "JWT_JWKS_MAX_BYTES"))
    except ValueError as exc:  # no host, a port out of range
        raise _fail(
            "JWT_INTROSPECTION", f"has an unusable endpoint ({exc})", "Check the URL."
        ) from None
