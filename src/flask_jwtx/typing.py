"""Type aliases under the module path ``flask_jwt_extended.typing`` used.

For code written against Flask-JWT-Extended's module layout, e.g.
``from flask_jwt_extended.typing import ExpiresDelta``: replace the package
name and the import keeps working.
"""

import uuid
from datetime import timedelta
from typing import Any, Literal, TypeAlias

#: A token lifetime as Flask-JWT-Extended types it: a ``timedelta``, or ``False``
#: for a token that never expires. (``create_access_token`` also takes
#: ``None``, meaning "the configured lifetime".)
ExpiresDelta: TypeAlias = Literal[False] | timedelta

#: The ``fresh`` argument: ``True``/``False``, a NumericDate until which the
#: token is fresh, or a ``timedelta`` of freshness from now.
Fresh: TypeAlias = bool | float | timedelta

#: A claim's value as JSON gives it.
JSONValue: TypeAlias = str | int | float | bool | list[Any] | dict[str, Any] | None

#: An identity as a verified token gives it back: the claim's JSON value, or
#: the ``int``/``UUID`` that was stored as a string (``JWT_IDENTITY_AS_STRING``).
Identity: TypeAlias = JSONValue | uuid.UUID

__all__ = ["ExpiresDelta", "Fresh", "Identity", "JSONValue"]
