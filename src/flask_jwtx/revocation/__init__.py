"""Revocation: revoke one token, log an identity out everywhere, rotate refresh tokens.

A Flask-free core and a thin Flask layer:

* :mod:`.base` (the store interface), :mod:`.memory`, :mod:`.redis`,
  :mod:`.sql` (the stores) and :mod:`.factory` (``JWT_REVOCATION_STORE``);
* :mod:`.policy`: the records (their keys, values and lifetimes), the reuse
  grace, and the :class:`Verdict` on a token; no Flask, no exceptions for
  revoked tokens, no signals;
* :mod:`.flask`: the request path's check, turning verdicts into
  :class:`~flask_jwtx.exceptions.RevokedTokenError` /
  :class:`RefreshTokenReusedError` and signals, under
  ``JWT_REVOCATION_FAILURE_POLICY``;
* :mod:`.api`: the public ``revoke_token``, ``revoke_all`` and
  ``rotate_refresh_token`` (re-exported by :mod:`flask_jwtx`; not here, as
  they build on the request path, which imports this package).
"""

from __future__ import annotations

from .base import RevocationStore as RevocationStore
from .base import StoreUnavailableError as StoreUnavailableError
from .flask import RefreshTokenReusedError as RefreshTokenReusedError
from .flask import check_revocation as check_revocation
from .flask import enforce as enforce
from .flask import policy_of as policy_of
from .flask import require_store as require_store
from .flask import reuse_detected as reuse_detected
from .flask import verify_not_revoked as verify_not_revoked
from .policy import CLOCK_MARGIN as CLOCK_MARGIN
from .policy import OK as OK
from .policy import REVOKED as REVOKED
from .policy import Outcome as Outcome
from .policy import Record as Record
from .policy import RevocationPolicy as RevocationPolicy
from .policy import Verdict as Verdict
from .policy import check as check
from .policy import family_expiry as family_expiry
from .policy import family_of as family_of
from .policy import is_reuse as is_reuse
from .policy import issued_millis as issued_millis
from .policy import mark_used_record as mark_used_record
from .policy import new_family as new_family
from .policy import now_millis as now_millis
from .policy import record_key as record_key
from .policy import revoke_all_record as revoke_all_record
from .policy import revoke_family_record as revoke_family_record
from .policy import revoke_token_record as revoke_token_record
from .policy import token_expiry as token_expiry
from .policy import use_refresh_token as use_refresh_token

__all__ = [
    "Outcome",
    "Record",
    "RefreshTokenReusedError",
    "RevocationPolicy",
    "RevocationStore",
    "StoreUnavailableError",
    "Verdict",
    "check",
    "check_revocation",
    "record_key",
    "use_refresh_token",
]
