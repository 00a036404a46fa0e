"""Type aliases under the module path ``flask_jwt_extended.typing`` used.

For code written against Flask-JWT-Extended's module layout, e.g.
``from flask_jwt_extended.typing import ExpiresDelta``: replace the package
name and the import keeps working.
"""

from datetime import timedelta
from typing import Literal, TypeAlias

#: A token lifetime as the incumbent types it: a ``timedelta``, or ``False``
#: for a token that never expires. (``create_access_token`` also takes
#: ``None``, meaning "the configured lifetime".)
ExpiresDelta: TypeAlias = Literal[False] | timedelta

#: The ``fresh`` argument: ``True``/``False``, a NumericDate until which the
#: token is fresh, or a ``timedelta`` of freshness from now.
Fresh: TypeAlias = bool | float | timedelta

__all__ = ["ExpiresDelta", "Fresh"]
