"""Flask (blinker) signals, sent with the app as sender.

Subscribe with ``token_revoked.connect_via(app)`` or ``token_revoked.connect``::

    @token_rejected.connect
    def log_rejection(app, reason, error, **extra):
        app.logger.info("refused a token: %s", reason)
"""

from __future__ import annotations

from blinker import Namespace
from flask import Flask, current_app

_signals = Namespace()

#: A token was created. Arguments: ``token_type`` ("access"/"refresh"), ``claims``.
token_issued = _signals.signal("flask-jwtx.token-issued")

#: Tokens were revoked. Arguments: ``reason`` ("token", "all" or "family"),
#: ``claims`` (for "token"), ``identity`` (for "all"), ``family`` (for "family").
token_revoked = _signals.signal("flask-jwtx.token-revoked")

#: A request's token was refused. Arguments: ``reason`` (the message sent to
#: the client) and ``error`` (the exception).
token_rejected = _signals.signal("flask-jwtx.token-rejected")

#: An already-used refresh token came back; its whole family was revoked.
#: Arguments: ``claims`` (of the reused token), ``family``.
refresh_token_reuse_detected = _signals.signal("flask-jwtx.refresh-token-reuse-detected")

#: A login started a session (``create_token_pair``). Arguments: ``session``
#: (a :class:`~flask_jwtx.Session`), ``identity`` (the
#: identity claim as tokens carry it).
session_created = _signals.signal("flask-jwtx.session-created")

#: A session ended: its tokens are refused from now on. Arguments:
#: ``session_id``, ``identity`` (``None`` when unknown), ``reason``: "logout"
#: (the user, this session), "revoked" (``revoke_session``), "everywhere"
#: (logout everywhere), "limit" (``JWT_SESSION_LIMIT`` ended the oldest) or
#: "reuse" (refresh token reuse detected).
session_ended = _signals.signal("flask-jwtx.session-ended")


def sender() -> Flask:
    """The app a signal is sent from: the object behind ``current_app``, as Flask's own are.

    A receiver connected with ``sender=app`` compares identity, so the proxy
    itself would never match.
    """
    # werkzeug's documented way to reach the object behind a proxy:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001
    return app
