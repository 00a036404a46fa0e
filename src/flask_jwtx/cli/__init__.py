"""``flask jwt ...``: keys, tokens and revocation from the command line.

Registered through the ``flask.commands`` entry point, so every app with
flask-jwtx installed has the group (``flask --app app jwt --help``):

* ``keygen`` makes keys in the forms the app loads (a secret, PEM, a private
  JWK, or one more key in a key-set file, for rotation); it needs no app;
* ``token`` mints a token with the app's own keys and loaders;
* ``decode`` runs a token through what a request does and says why it
  would be refused, and with which status;
* ``revoke`` and ``revoke-all`` write to the app's revocation store;
* ``check`` validates the configuration as ``init_app`` does, then reaches
  the revocation store and every key source, for deployment scripts.

Every command works through the app's real machinery (settings, resolvers,
``create_access_token``, the token core, ``revocation.api``), so what it
says is what the app does. Exit codes: 0 success, 1 failure (a refused
token, a failed check, an error), 2 usage (click's). ``--json`` prints one
JSON document on stdout for scripts; messages go to stderr.

Nothing but ``keygen`` prints key material, and ``keygen`` only the key it
was asked to make. Token contents are untrusted input: they are printed
JSON-escaped, so a crafted token cannot send escape sequences to a terminal.
"""

from . import check as check
from . import inspect as inspect
from . import keygen as keygen
from . import revoke as revoke
from ._shared import jwt_cli as jwt_cli

__all__ = ["jwt_cli"]
