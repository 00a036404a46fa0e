"""flask-jwtx: JSON Web Token authentication for Flask.

A drop-in superset of Flask-JWT-Extended 4.x: replace ``flask_jwt_extended``
with ``flask_jwtx`` in imports. Everything public is re-exported here; the
other public modules are Flask-JWT-Extended's module names (``jwt_manager``,
``view_decorators``, ``utils``, ``config``, ``default_callbacks``,
``internal_utils``, ``tokens``, ``typing``, ``exceptions``) and flask-jwtx's
own (``testing``, ``openapi``, ``cli``, ``signals``, ``compat``). The
implementation lives in the private ``flask_jwtx._core`` package.
"""

from ._core.jose.keyset import Key as Key
from ._core.jose.keyset import KeySet as KeySet
from ._core.jose.keyset import thumbprint as jwk_thumbprint
from ._core.revocation.base import RevocationStore as RevocationStore
from ._core.revocation.registry import Session as Session
from ._core.web.auth_blueprint import create_auth_blueprint as create_auth_blueprint
from ._core.web.authorization import AuthorizationError as AuthorizationError
from ._core.web.authorization import route_var as route_var
from ._core.web.context import CurrentToken as CurrentToken
from ._core.web.context import current_token as current_token
from ._core.web.context import current_user as current_user
from ._core.web.context import get_current_token as get_current_token
from ._core.web.context import get_current_user as get_current_user
from ._core.web.context import get_jwt as get_jwt
from ._core.web.context import get_jwt_header as get_jwt_header
from ._core.web.context import get_jwt_identity as get_jwt_identity
from ._core.web.context import get_jwt_request_location as get_jwt_request_location
from ._core.web.context import user_proxy as user_proxy
from ._core.web.cookies import set_access_cookies as set_access_cookies
from ._core.web.cookies import set_refresh_cookies as set_refresh_cookies
from ._core.web.cookies import unset_access_cookies as unset_access_cookies
from ._core.web.cookies import unset_jwt_cookies as unset_jwt_cookies
from ._core.web.cookies import unset_refresh_cookies as unset_refresh_cookies
from ._core.web.creation import create_access_token as create_access_token
from ._core.web.creation import create_refresh_token as create_refresh_token
from ._core.web.decoding import decode_token as decode_token
from ._core.web.decoding import get_csrf_token as get_csrf_token
from ._core.web.decoding import get_jti as get_jti
from ._core.web.decoding import get_unverified_jwt_headers as get_unverified_jwt_headers
from ._core.web.decorators import jwt_required as jwt_required
from ._core.web.decorators import verify_jwt_in_request as verify_jwt_in_request
from ._core.web.extension import JWTManager as JWTManager
from ._core.web.fje import install_as_flask_jwt_extended as install_as_flask_jwt_extended
from ._core.web.resource_server import dpop_binding as dpop_binding
from ._core.web.revocation_api import revoke_all as revoke_all
from ._core.web.revocation_api import revoke_token as revoke_token
from ._core.web.revocation_api import rotate_refresh_token as rotate_refresh_token
from ._core.web.sessions import create_token_pair as create_token_pair
from ._core.web.sessions import current_session_id as current_session_id
from ._core.web.sessions import list_sessions as list_sessions
from ._core.web.sessions import revoke_session as revoke_session
from .exceptions import WeakSecretWarning as WeakSecretWarning

__version__ = "0.1.0"

__all__ = [
    "AuthorizationError",
    "CurrentToken",
    "JWTManager",
    "Key",
    "KeySet",
    "RevocationStore",
    "Session",
    "WeakSecretWarning",
    "create_access_token",
    "create_auth_blueprint",
    "create_refresh_token",
    "create_token_pair",
    "current_session_id",
    "current_token",
    "current_user",
    "decode_token",
    "dpop_binding",
    "get_csrf_token",
    "get_current_token",
    "get_current_user",
    "get_jti",
    "get_jwt",
    "get_jwt_header",
    "get_jwt_identity",
    "get_jwt_request_location",
    "get_unverified_jwt_headers",
    "install_as_flask_jwt_extended",
    "jwk_thumbprint",
    "jwt_required",
    "list_sessions",
    "revoke_all",
    "revoke_session",
    "revoke_token",
    "rotate_refresh_token",
    "route_var",
    "set_access_cookies",
    "set_refresh_cookies",
    "unset_access_cookies",
    "unset_jwt_cookies",
    "unset_refresh_cookies",
    "user_proxy",
    "verify_jwt_in_request",
]
