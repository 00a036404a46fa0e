"""Building the revocation store, its replica and the introspection client from the settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..jose.claims import VerifyPolicy
from ..keysources.introspection import Introspection, answer_policy
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


def _introspection(
    config: Mapping[str, Any], resources: Resources, policy: VerifyPolicy, resource: str | None
) -> Introspection | None:
    """The introspection client and the rules its answers meet (the app's ``policy``, mostly).

    The rules are resolved first: introspection without any audience fails
    here, in ``init_app`` (``keysources.introspection.answer_policy``).
    """
    spec = read(config, "JWT_INTROSPECTION")
    if spec is None:
        return None
    rules = answer_policy(spec, policy, resource)
    timeout = read(config, "JWT_JWKS_TIMEOUT")
    try:
        introspector = resources.introspector(spec, timeout, read(config, "JWT_JWKS_MAX_BYTES"))
    except ValueError as exc:  # no host, a port out of range
        raise fail(
            "JWT_INTROSPECTION", f"has an unusable endpoint ({exc})", "Check the URL."
        ) from None
    return Introspection(introspector, rules)
